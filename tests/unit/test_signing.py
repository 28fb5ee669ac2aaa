"""Signed decision records: the organisation's key, PAdES signatures that pyHanko's own
validator accepts, and `verify --pdf` (with the database and `--offline`) naming each file and
every forgery made with ordinary tools."""

from __future__ import annotations

import io
import os
import stat

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from reviewer import settings
from tests.conftest import _decided
from tests.helpers.cli import Cli
from tests.helpers.pdf import stored_record
from tests.helpers.workflow import ADMIN, ok, refused

PASS = "correct horse battery"


def with_key(cli, tmp_path, monkeypatch):
    """A signing key made on the database, and one exported, signed record."""
    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", PASS)
    out = ok(cli, "keys", "init", user=ADMIN)
    assert "recorded" in out
    ok(cli, "export-pdf", "R-GERMAN", "--out", str(tmp_path / "out"), user=ADMIN)
    cli.record = tmp_path / "out" / "R-GERMAN-d1.pdf"
    cli.fingerprint = out.split("certificate ")[1].split()[0]
    return cli


@pytest.fixture
def signed(tmp_path, capsys, snapshots, monkeypatch):
    """The decided database (SQLite: signing does not depend on the backend, which the
    team-mode test below covers) with a signing key and one signed record."""
    cli = Cli(tmp_path / "reviewer.db", capsys)
    cli.tmp = tmp_path
    snapshots.prepared("decided", cli, _decided)
    return with_key(cli, tmp_path, monkeypatch)


def test_in_team_mode_the_certificate_is_recorded_by_the_admin_function(decided, tmp_path, monkeypatch):
    cli = with_key(decided, tmp_path, monkeypatch)
    assert ok(cli, "verify", "--pdf", str(cli.record), user=ADMIN).splitlines()[-1] == f"OK {cli.record}"
    assert "certificates recorded in the database: 1" in ok(cli, "keys", "show", user=ADMIN)
    refused(cli, "keys", "init", "--new", user="rev1", code=5, words="admin")


def test_keys_init_keeps_the_key_private_and_records_the_certificate(signed):
    path = settings.signing_key_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    shown = ok(signed, "keys", "show", user=ADMIN)
    assert f"this workstation signs with: {signed.fingerprint}" in shown
    assert "certificates recorded in the database: 1" in shown
    # The key never enters the database; the certificate does, by an audited event.
    dump = "\n".join(signed.dump())
    assert "PRIVATE KEY" not in dump and "BEGIN CERTIFICATE" in dump
    assert ok(signed, "verify", user=ADMIN).startswith("OK")
    refused(signed, "keys", "init", user=ADMIN, code=4, words="a signing key exists already")
    refused(signed, "settings", "set", "signing_cert." + "a" * 48, "x", user=ADMIN, code=5,
            words="signing certificates are recorded by `reviewer keys")  # fmt: skip


def test_only_an_admin_makes_the_key(signed, monkeypatch):
    refused(signed, "keys", "init", "--new", user="rev1", code=5, words="admin")


def test_pyhankos_validator_accepts_the_signature(signed):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from reviewer.export.signing import _asn1, embedded_certificate

    data = signed.record.read_bytes()
    cert = embedded_certificate(data)
    (sig,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[_asn1(cert)]))
    assert status.bottom_line and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "/ETSI.CAdES.detached" in data.decode("latin-1")  # PAdES
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
    assert signed.fingerprint in text.replace(" ", "")  # the record prints its certificate


def forgeries(record, tmp_path) -> dict[str, str]:
    """The same record changed with ordinary tools, each saved as a file."""
    data = record.read_bytes()
    out = {}
    stamp = io.BytesIO()
    c = canvas.Canvas(stamp)
    c.setFont("Helvetica-Bold", 40)
    c.drawString(150, 700, "APPROVED")
    c.save()
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.pages[0].merge_page(PdfReader(io.BytesIO(stamp.getvalue())).pages[0])
    out["stamped"] = w
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.add_blank_page()
    out["page added"] = w
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    w.remove_page(len(w.pages) - 1)
    out["page removed"] = w
    files = {}
    for name, writer in out.items():
        path = tmp_path / f"{name.replace(' ', '-')}.pdf"
        with open(path, "wb") as fh:
            writer.write(fh)
        files[name] = str(path)
    # Incremental updates after the signature: new metadata, a new page.
    for name, change in (("metadata", lambda w: w.add_metadata({"/Title": "Approved"})),
                         ("page appended", lambda w: w.add_blank_page())):  # fmt: skip
        w = PdfWriter(io.BytesIO(data), incremental=True)
        change(w)
        path = tmp_path / f"{name.replace(' ', '-')}.pdf"
        with open(path, "wb") as fh:
            w.write(fh)
        files[name] = str(path)
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0x01
    (tmp_path / "flipped.pdf").write_bytes(bytes(flipped))
    files["byte flipped"] = str(tmp_path / "flipped.pdf")
    return files


def test_verify_names_each_file_and_every_forgery(signed, tmp_path):
    files = forgeries(signed.record, tmp_path)
    code, out, _ = signed("verify", "--pdf", str(signed.record), *files.values(), user=ADMIN)
    assert code == 1
    lines = out.splitlines()
    assert f"OK {signed.record}" in lines
    for name, path in files.items():
        line = next(x for x in lines if path in x)
        assert line.startswith(f"PROBLEM {path}: "), (name, line)
    metadata = next(x for x in lines if files["metadata"] in x)
    assert "added to the file after it was signed" in metadata


def test_offline_checks_the_signature_against_the_certificate(signed, tmp_path):
    record = str(signed.record)
    assert ok(signed, "verify", "--pdf", record, "--offline", "--cert", signed.fingerprint,
              user=None).strip() == f"OK {record}"  # fmt: skip
    pem = tmp_path / "org.pem"  # the certificate as the database records it
    pem.write_text(ok(signed, "settings", "get", "signing_cert." + signed.fingerprint[:48], user=ADMIN))
    assert ok(signed, "verify", "--pdf", record, "--offline", "--cert", str(pem), user=None).startswith("OK")
    for name, path in forgeries(signed.record, tmp_path).items():
        code, out, _ = signed("verify", "--pdf", path, "--offline", "--cert", signed.fingerprint)
        assert code == 1 and out.startswith(f"PROBLEM {path}: "), name
    code, out, _ = signed("verify", "--pdf", record, "--offline", "--cert", "ab" * 32)
    assert code == 1 and "not abababab" in out


def test_a_new_key_signs_new_records_and_old_ones_keep_verifying(signed, tmp_path):
    old = signed.record
    ok(signed, "keys", "init", "--new", user=ADMIN)
    assert "certificates recorded in the database: 2" in ok(signed, "keys", "show", user=ADMIN)
    ok(signed, "export-pdf", "R-CJK", "--out", str(tmp_path / "new"), user=ADMIN)
    new = tmp_path / "new" / "R-CJK-d1.pdf"
    code, out, _ = signed("verify", "--pdf", str(old), str(new), user=ADMIN)
    assert code == 0, out
    assert f"OK {old}" in out and f"OK {new}" in out


def test_a_wrong_passphrase_or_an_open_key_file_stops_the_export(signed, tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", "not the passphrase")
    code, _out, err = signed("export-pdf", "R-CJK", "--out", str(tmp_path / "x"), user=ADMIN)
    assert code == 3 and "wrong passphrase" in err
    assert not list((tmp_path / "x").glob("*.pdf"))
    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", PASS)
    os.chmod(settings.signing_key_file(), 0o644)
    code, _out, err = signed("export-pdf", "R-CJK", "--out", str(tmp_path / "x"), user=ADMIN)
    assert code == 7 and "readable by others" in err


def test_a_certificate_edited_in_the_database_is_named_and_trusted_no_more(signed):
    signed.sql("UPDATE settings SET value = replace(value, 'A', 'B') WHERE key LIKE 'signing_cert.%'")
    code, out, _ = signed("verify", "--pdf", str(signed.record), user=ADMIN)
    assert code == 1 and "setting signing_cert." in out
    assert f"PROBLEM {signed.record}: signed with certificate" in out


def test_a_record_of_an_earlier_layout_is_vouched_for_by_its_signature(signed, tmp_path, monkeypatch):
    from reviewer.export import pdf

    monkeypatch.setattr(pdf, "RENDERER", pdf.RENDERER - 1)  # as an earlier version exported it
    ok(signed, "export-pdf", "R-CJK", "--out", str(tmp_path / "early"), user=ADMIN)
    early = tmp_path / "early" / "R-CJK-d1.pdf"
    assert f"renderer:{pdf.RENDERER}" in str(PdfReader(early).metadata["/Keywords"])
    monkeypatch.undo()
    assert f"OK {early}" in ok(signed, "verify", "--pdf", str(early), user=ADMIN).splitlines()
    # Unsigned, nothing vouches for its pages: said so, not passed.
    plain = PdfWriter(clone_from=str(early))
    plain.write(tmp_path / "early-unsigned.pdf")
    code, out, _ = signed("verify", "--pdf", str(tmp_path / "early-unsigned.pdf"), user=ADMIN)
    assert code == 1 and "PROBLEM" in out


def test_a_record_of_a_later_layout_asks_for_that_version(signed, tmp_path, monkeypatch):
    from reviewer.export import pdf

    monkeypatch.setattr(pdf, "RENDERER", pdf.RENDERER + 1)
    ok(signed, "export-pdf", "R-CJK", "--out", str(tmp_path / "later"), user=ADMIN)
    monkeypatch.undo()
    code, out, _ = signed("verify", "--pdf", str(tmp_path / "later" / "R-CJK-d1.pdf"), user=ADMIN)
    assert code == 1 and "made by a later version of Reviewer" in out


def test_every_record_carries_its_layout_version(signed):
    from reviewer.export import pdf

    keywords = str(PdfReader(signed.record).metadata["/Keywords"])
    assert keywords.endswith(f" renderer:{pdf.RENDERER}")


def test_a_re_render_with_changed_content_is_named_whoever_signed_it(signed, tmp_path):
    """The customer renamed and a condition dropped, re-rendered through the project's own
    renderer with the genuine export-time values: signed with another key, the certificate
    is named; signed with the organisation's own key (an insider), the changed page is."""
    import re

    from reviewer.export import signing
    from reviewer.export.pdf import render_bytes
    from reviewer.services import keys
    from tests.helpers.pdf import pdf_text

    dense = "".join(" ".join(pdf_text(signed.record)[1]).split())
    head = re.search(r"Chainheadatexport(\d+):([0-9a-f]{64})", dense)
    stamp = re.search(r"Exportedat(\d{4}-\d{2}-\d{2})(\d{2}:\d{2})UTC", dense)
    assert head and stamp
    record = stored_record(signed, "R-GERMAN")
    forged = dict(record, head_seq=int(head.group(1)), head_hash=head.group(2),
                  exported_at=f"{stamp.group(1)}T{stamp.group(2)}:00.000000Z",
                  organisation="Contoso Responsible AI Office", certificate=signed.fingerprint,
                  conditions=record["conditions"][1:],
                  document={**record["document"], "customer": {**record["document"]["customer"],
                                                               "name": "Someone Else GmbH"}})  # fmt: skip
    p12, _cert = signing.make_key("Forger", b"forger")
    other = signing.load_key(p12, b"forger", "forger")
    (tmp_path / "other-key.pdf").write_bytes(signing.sign(render_bytes(forged), other))
    own = keys.load(PASS.encode())
    (tmp_path / "own-key.pdf").write_bytes(signing.sign(render_bytes(forged), own))
    code, out, _ = signed("verify", "--pdf", str(tmp_path / "other-key.pdf"), str(tmp_path / "own-key.pdf"),
                          user=ADMIN)  # fmt: skip
    lines = out.splitlines()
    assert code == 1
    other_line = next(x for x in lines if "other-key.pdf" in x)
    assert other_line.startswith("PROBLEM") and "not one of the organisation's" in other_line
    own_line = next(x for x in lines if "own-key.pdf" in x)
    assert (
        own_line.startswith("PROBLEM")
        and "page 1 differs from a rendering of the stored decision" in own_line
    )


def test_hand_edits_and_odd_files_are_named_never_trusted_nor_a_crash(signed, tmp_path, monkeypatch):
    """What a hostile review found: each is a PROBLEM line (exit 1), none an OK or a crash."""
    from reviewer.export import pdf, signing

    record = str(signed.record)
    # A certificate written into the settings table by hand (no audit event) is not trusted.
    p12, cert = signing.make_key("Intruder", b"intruder")
    intruder = signing.load_key(p12, b"intruder", "intruder")
    forged = tmp_path / "intruder.pdf"
    body = pdf.render_bytes({**stored_record(signed, "R-GERMAN"), "certificate": intruder.fingerprint})
    forged.write_bytes(signing.sign(body, intruder))
    signed.sql("INSERT INTO settings (key, value) VALUES (:k, :v)",
               {"k": "signing_cert." + intruder.fingerprint[:48], "v": signing.pem_of(cert)})  # fmt: skip
    code, out, _ = signed("verify", "--pdf", str(forged), user=ADMIN)
    assert code == 1 and f"PROBLEM {forged}: " in out and "not one of the organisation's" in out
    signed.sql("DELETE FROM settings WHERE key = :k", {"k": "signing_cert." + intruder.fingerprint[:48]})
    # Keywords of a layout that never existed.
    monkeypatch.setattr(pdf, "RENDERER", 0)
    ok(signed, "export-pdf", "R-CJK", "--out", str(tmp_path / "zero"), user=ADMIN)
    monkeypatch.undo()
    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", PASS)
    code, out, _ = signed("verify", "--pdf", str(tmp_path / "zero" / "R-CJK-d1.pdf"), user=ADMIN)
    assert code == 1 and "neither a record's nor a report's" in out
    # A FIFO is not read forever.
    fifo = tmp_path / "fifo.pdf"
    os.mkfifo(fifo)
    code, out, _ = signed("verify", "--pdf", str(fifo), user=ADMIN)
    assert code == 1 and f"PROBLEM {fifo}: not a regular file" in out
    # A decision's evaluation edited into something Reviewer never writes: named, no crash.
    signed.sql("UPDATE decisions SET evaluation = 'nope' WHERE record_hash IS NOT NULL")
    code, out, _ = signed("verify", "--pdf", record, user=ADMIN)
    assert code == 1 and f"PROBLEM {record}: " in out


def test_a_request_snapshot_edited_after_the_decision_is_named(signed):
    signed.sql("UPDATE decisions SET snapshot = snapshot || ' '")  # one byte more: looks the same
    code, out, _ = signed("verify", user=ADMIN)
    assert code == 1 and "the request snapshot it was made on differs from its SHA-256" in out
    code, out, _ = signed("verify", "--pdf", str(signed.record), user=ADMIN)
    assert code == 1 and "the request snapshot stored with the decision differs" in out


def test_a_record_exported_before_the_organisation_had_a_key_stays_valid(decided, tmp_path, monkeypatch):
    ok(decided, "export-pdf", "R-GERMAN", "--out", str(tmp_path / "early"), user=ADMIN)
    early = tmp_path / "early" / "R-GERMAN-d1.pdf"
    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", PASS)
    ok(decided, "keys", "init", user=ADMIN)
    assert f"OK {early}" in ok(decided, "verify", "--pdf", str(early), user=ADMIN).splitlines()
    ok(decided, "export-pdf", "R-CJK", "--out", str(tmp_path / "late"), user=ADMIN)
    plain = tmp_path / "late-unsigned.pdf"  # the signature stripped by a rewrite: not valid
    PdfWriter(clone_from=str(tmp_path / "late" / "R-CJK-d1.pdf")).write(plain)
    code, out, _ = decided("verify", "--pdf", str(plain), user=ADMIN)
    assert code == 1 and f"PROBLEM {plain}" in out


@pytest.mark.parametrize("edit", ["UPDATE decisions SET outcome = 'maybe'",
                                  "UPDATE requests SET status = 'limbo'",
                                  "UPDATE conditions SET due_on = 'soon'"])  # fmt: skip
def test_a_value_no_type_can_read_is_a_problem_not_a_crash(signed, edit):
    signed.sql(edit)
    code, out, _ = signed("verify", user=ADMIN)
    assert code == 1 and "PROBLEM" in out, out


def test_a_rule_sets_effective_date_edited_in_its_column_changes_no_record(signed):
    signed.sql("UPDATE rule_sets SET effective_on = '1999-01-01'")
    code, out, _ = signed("verify", "--pdf", str(signed.record), user=ADMIN)
    assert f"OK {signed.record}" in out.splitlines(), out


def test_a_signed_record_must_print_the_certificate_that_signed_it(signed, tmp_path):
    import re

    from reviewer.export.pdf import render_bytes
    from reviewer.export.signing import sign
    from reviewer.services import keys
    from tests.helpers.pdf import pdf_text

    dense = "".join(" ".join(pdf_text(signed.record)[1]).split())
    head = re.search(r"Chainheadatexport(\d+):([0-9a-f]{64})", dense)
    stamp = re.search(r"Exportedat(\d{4}-\d{2}-\d{2})(\d{2}:\d{2})UTC", dense)
    assert head and stamp
    same = dict(stored_record(signed, "R-GERMAN"), head_seq=int(head.group(1)), head_hash=head.group(2),
                exported_at=f"{stamp.group(1)}T{stamp.group(2)}:00.000000Z",
                organisation="Contoso Responsible AI Office", certificate=None)  # fmt: skip
    path = tmp_path / "says-unsigned.pdf"  # prints "not signed", signed all the same
    path.write_bytes(sign(render_bytes(same), keys.load(PASS.encode())))
    code, out, _ = signed("verify", "--pdf", str(path), user=ADMIN)
    assert code == 1 and "the certificate it prints is not the one that signed it" in out
