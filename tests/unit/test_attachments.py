"""Evidence attached to a request (the case file): kept in the database a chunk at a time,
each file's SHA-256 in the audit trail, listed by `attachments` and `show`, given back by
`attachment get` checked against that hash, redacted by an admin only, printed in the PDF
record, and checked by `verify`. Driven through the real command line."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from tests.helpers.cli import EXAMPLES
from tests.helpers.pdf import pdf_text, stored_record
from tests.helpers.workflow import ADMIN, JUST, ok, refused

REASON = "Attached by mistake: it holds the home addresses of the customer's staff."
MIB = 1024 * 1024


def _files(tmp_path):
    """A small text file and a random one of more than two chunks."""
    small = tmp_path / "contract clause 7.txt"
    small.write_text("Clause 7: no use by law enforcement.\n", encoding="utf-8")
    big = tmp_path / "dpia.pdf"
    big.write_bytes(os.urandom(2 * MIB + 12_345))
    return small, big


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(cli) -> list[int]:
    return [
        cli.sql(f"SELECT count(*) FROM {t}")[0][0]
        for t in ("attachments", "attachment_chunks", "audit_events")
    ]


def test_attach_list_show_and_get_back_the_same_bytes(wf, tmp_path):
    small, big = _files(tmp_path)
    before = json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user="rev1"))
    out = ok(wf, "attach", "R-APPROVE", str(small), str(big), "--note", "from the customer", user="rev1")
    lines = out.splitlines()
    assert lines == [
        f"R-APPROVE attachment 1: contract clause 7.txt, {small.stat().st_size} bytes, sha256 {_sha(small)}",
        f"R-APPROVE attachment 2: dpia.pdf, {big.stat().st_size:,} bytes (2.0 MB), sha256 {_sha(big)}",
    ]
    listed = json.loads(ok(wf, "attachments", "R-APPROVE", "--format", "json", user="rev2"))
    assert [(a["number"], a["name"], a["size"], a["sha256"], a["author"], a["redacted"], a["note"])
            for a in listed] == [
        (1, "contract clause 7.txt", small.stat().st_size, _sha(small), "rev1", False, "from the customer"),
        (2, "dpia.pdf", big.stat().st_size, _sha(big), "rev1", False, "from the customer"),
    ]  # fmt: skip
    text = ok(wf, "attachments", "R-APPROVE", user="rev2")
    assert "  1  contract clause 7.txt  " in text and "dpia.pdf" in text and text.endswith("2 attachments\n")
    shown = json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user="rev2"))
    assert shown["version"] == before["version"]  # an open decision panel never conflicts
    keys = {"number", "name", "size", "sha256", "time", "author", "redacted"}
    assert all(keys <= set(a) and a["time"].endswith("Z") for a in shown["attachments"])
    assert [a["number"] for a in shown["attachments"]] == [1, 2]
    assert shown["events"][-1]["words"].startswith("attached 2 dpia.pdf (2.0 MB, sha256 ")
    assert "Attachments:" in ok(wf, "show", "R-APPROVE", user="rev2")
    for number, original in ((1, small), (2, big)):
        target = tmp_path / "out" / f"copy-{number}"
        target.parent.mkdir(exist_ok=True)
        out = ok(wf, "attachment", "get", "R-APPROVE", str(number), "--out", str(target), user="rev2")
        assert out.startswith(f"wrote R-APPROVE attachment {number}: ")
        assert target.read_bytes() == original.read_bytes()
    # Never over an existing file, nor from what is not there.
    refused(wf, "attachment", "get", "R-APPROVE", "1", "--out", str(tmp_path / "out" / "copy-2"),
            user="rev2", code=3, words="already exists")  # fmt: skip
    assert (tmp_path / "out" / "copy-2").read_bytes() == big.read_bytes()
    refused(wf, "attachment", "get", "R-APPROVE", "3", "--out", str(tmp_path / "x"), user="rev2",
            code=6, words="R-APPROVE has no attachment 3")  # fmt: skip
    refused(wf, "attach", "R-NOPE", str(small), user="rev2", code=6, words="R-NOPE")
    # The next one is number 3, and the chain verifies.
    assert ok(wf, "attach", "R-APPROVE", str(small), user="rev2").startswith("R-APPROVE attachment 3: ")
    assert ok(wf, "verify", user=ADMIN).startswith("OK")


def test_a_file_over_the_limit_is_refused_and_nothing_written(wf, tmp_path):
    ok(wf, "settings", "set", "max_attachment_mb", "1", user=ADMIN)
    fits, over = tmp_path / "fits.bin", tmp_path / "over.bin"
    fits.write_bytes(b"x" * MIB)  # exactly the limit
    over.write_bytes(b"x" * (MIB + 1))
    before = _counts(wf)
    # All or nothing: the file that fits is not kept either.
    refused(wf, "attach", "R-APPROVE", str(fits), str(over), user="rev1", code=3,
            words=f"{over}: 1,048,577 bytes (1.0 MB) is over the attachment limit of 1 MB (setting "
            "max_attachment_mb); nothing was attached")  # fmt: skip
    assert _counts(wf) == before
    assert ok(wf, "attach", "R-APPROVE", str(fits), user="rev1").startswith("R-APPROVE attachment 1: ")


def test_the_default_limit_is_25_mb_by_the_file_s_size(cli, tmp_path):
    ok(cli, "import", _example(), user=ADMIN)
    sparse = tmp_path / "scan.tiff"
    with open(sparse, "wb") as fh:
        os.truncate(fh.fileno(), 26 * MIB)  # a size, and no data to write or read
    before = _counts(cli)
    code, _out, err = cli("attach", "EX-0001", str(sparse), user=ADMIN)
    assert code == 3
    assert err.strip() == (f"{sparse}: 27,262,976 bytes (26.0 MB) is over the attachment limit of 25 MB "
                           "(setting max_attachment_mb); nothing was attached")  # fmt: skip
    assert _counts(cli) == before


def _example() -> str:
    return str(EXAMPLES / "p01-office-door-access.json")


def test_a_fifo_a_folder_an_empty_file_or_an_odd_name_is_refused(cli, tmp_path):
    ok(cli, "import", _example(), user=ADMIN)
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    refused(cli, "attach", "EX-0001", str(fifo), user=ADMIN, code=3, words="not a regular file (a FIFO)")
    refused(
        cli, "attach", "EX-0001", str(tmp_path), user=ADMIN, code=3, words="not a regular file (a folder)"
    )
    empty = tmp_path / "empty.pdf"
    empty.touch()
    refused(cli, "attach", "EX-0001", str(empty), user=ADMIN, code=3, words="empty (0 bytes)")
    disguised = tmp_path / "invoice\u202efdp.exe"
    disguised.write_bytes(b"MZ")
    refused(cli, "attach", "EX-0001", str(disguised), user=ADMIN, code=3, words="(U+202E): rename the file")
    refused(cli, "attach", "EX-0001", str(tmp_path / "missing.pdf"), user=ADMIN, code=3,
            words="cannot read: No such file or directory")  # fmt: skip


def test_a_file_that_grows_past_the_limit_while_read_is_refused(cli, tmp_path, monkeypatch):
    from reviewer.services import attachments

    ok(cli, "import", _example(), user=ADMIN)
    ok(cli, "settings", "set", "max_attachment_mb", "1", user=ADMIN)
    grown = tmp_path / "grown.bin"
    grown.write_bytes(b"y" * (MIB + 10))
    opened = attachments._open_regular
    # As if the file had been within the limit when it was opened.
    monkeypatch.setattr(attachments, "_open_regular", lambda path, limit: opened(path, limit + 1))
    before = _counts(cli)
    refused(cli, "attach", "EX-0001", str(grown), user=ADMIN, code=3,
            words="grew while it was read: over the attachment limit of 1 MB")  # fmt: skip
    assert _counts(cli) == before


def test_an_admin_redacts_the_bytes_and_keeps_name_size_and_hash(wf, tmp_path):
    small, big = _files(tmp_path)
    ok(wf, "attach", "R-APPROVE", str(small), str(big), user="rev1")
    refused(wf, "attachment", "redact", "R-APPROVE", "2", "--reason", REASON, user="rev1", code=5,
            words="rev1 is not an admin: only an admin redacts an attachment")  # fmt: skip
    refused(wf, "attachment", "redact", "R-APPROVE", "2", "--reason", "by mistake", user=ADMIN, code=5,
            words="a reason needs at least 30 characters")  # fmt: skip
    refused(wf, "attachment", "redact", "R-APPROVE", "2", "--reason", "by mistake" + "\u200b" * 30,
            user=ADMIN, code=5, words="(got 10; 30 invisible characters are not counted)")  # fmt: skip
    out = ok(wf, "attachment", "redact", "R-APPROVE", "2", "--reason", REASON, user=ADMIN)
    assert out.startswith("redacted R-APPROVE attachment 2: dpia.pdf, ")
    (row,) = wf.sql("SELECT a.name, a.size, a.sha256, a.redacted, a.redacted_by, a.redact_reason, "
                    "(SELECT count(*) FROM attachment_chunks c WHERE c.attachment_id = a.id) "
                    "FROM attachments a WHERE a.number = 2")  # fmt: skip
    assert row == ("dpia.pdf", big.stat().st_size, _sha(big), True, ADMIN, REASON, 0)
    listed = json.loads(ok(wf, "attachments", "R-APPROVE", "--format", "json", user="rev1"))
    assert [a["redacted"] for a in listed] == [False, True] and listed[1]["sha256"] == _sha(big)
    assert "REDACTED by admin1" in ok(wf, "attachments", "R-APPROVE", user="rev1")
    refused(wf, "attachment", "get", "R-APPROVE", "2", "--out", str(tmp_path / "back"), user="rev1",
            code=6, words="R-APPROVE attachment 2 (dpia.pdf) was redacted by admin1")  # fmt: skip
    assert not (tmp_path / "back").exists()
    refused(wf, "attachment", "redact", "R-APPROVE", "2", "--reason", REASON, user=ADMIN, code=3,
            words="already redacted")  # fmt: skip
    events = json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user="rev1"))["events"]
    assert events[-1]["words"] == f"attachment 2 redacted: {REASON}"
    assert ok(wf, "verify", user=ADMIN).startswith("OK")


def test_the_record_lists_the_attachments_made_before_the_decision(wf, tmp_path):
    from reviewer.export.pdf import render_bytes

    small, big = _files(tmp_path)
    ok(wf, "claim", "R-APPROVE", user="rev1")
    ok(wf, "attach", "R-APPROVE", str(small), user="rev1")
    ok(wf, "decide", "R-APPROVE", "--outcome", "approve", "--justification", JUST, user="rev1")
    ok(wf, "attach", "R-APPROVE", str(big), user="rev1")  # after the decision: not in its record
    ok(wf, "export-pdf", "R-APPROVE", "--out", str(tmp_path / "pdf"), user="rev1")
    record = tmp_path / "pdf" / "R-APPROVE-d1.pdf"
    flat = " ".join(" ".join(pdf_text(record)[1]).split())
    assert "Attachments on file at the decision" in flat
    assert f"1 contract clause 7.txt {small.stat().st_size} bytes SHA-256 {_sha(small)}" in flat
    assert "dpia.pdf" not in flat
    assert "rev1: attached 1 contract clause 7.txt (37 bytes, sha256 " in flat  # in the history
    # A later redaction keeps name, size and hash: the record still renders the same.
    ok(wf, "attachment", "redact", "R-APPROVE", "1", "--reason", REASON, user=ADMIN)
    assert ok(wf, "verify", "--pdf", str(record), user=ADMIN).splitlines()[-1] == f"OK {record}"
    ok(wf, "export-pdf", "R-APPROVE", "--out", str(tmp_path / "again"), user="rev1")
    again = " ".join(" ".join(pdf_text(tmp_path / "again" / "R-APPROVE-d1.pdf")[1]).split())
    assert f"1 contract clause 7.txt {small.stat().st_size} bytes SHA-256 {_sha(small)}" in again
    assert "redacted" not in again
    # A record without attachments says so.
    empty = tmp_path / "none.pdf"
    empty.write_bytes(render_bytes({**stored_record(wf, "R-APPROVE"), "attachments": []}))
    flat = " ".join(" ".join(pdf_text(empty)[1]).split())
    assert "Attachments on file at the decision none" in flat


@pytest.mark.parametrize("tamper, words", [
    ("UPDATE attachment_chunks SET data = :junk WHERE number = 2",
     "R-APPROVE attachment 2: its stored bytes (2,109,497 bytes, sha256 "),
    ("UPDATE attachments SET sha256 = :hash WHERE number = 1",
     "R-APPROVE attachment 1: its SHA-256 is "),
    ("UPDATE attachments SET name = 'other.pdf' WHERE number = 1",
     "R-APPROVE attachment 1: its name is 'other.pdf', the audit trail says 'contract clause 7.txt'"),
    ("DELETE FROM attachment_chunks WHERE attachment_id = (SELECT id FROM attachments WHERE number = 1)",
     "R-APPROVE attachment 1: its bytes are missing"),
    ("UPDATE attachments SET redacted = true WHERE number = 1",
     "R-APPROVE attachment 1: its redacted is True, the audit trail says False"),
])  # fmt: skip
def test_verify_names_an_attachment_changed_outside_reviewer(wf, tmp_path, tamper, words):
    small, big = _files(tmp_path)
    ok(wf, "attach", "R-APPROVE", str(small), str(big), user="rev1")
    wf.sql(tamper, {"junk": b"\0" * MIB, "hash": "0" * 64})
    code, out, _ = wf("verify", user=ADMIN)
    assert code == 1 and words in out, out


def test_verify_names_a_missing_or_an_unrecorded_attachment(wf, tmp_path):
    small, _big = _files(tmp_path)
    ok(wf, "attach", "R-APPROVE", str(small), user="rev1")
    wf.sql("DELETE FROM attachment_chunks")
    wf.sql("DELETE FROM attachments")
    code, out, _ = wf("verify", user=ADMIN)
    assert code == 1 and "R-APPROVE attachment 1 of the audit trail is missing" in out
    ok(wf, "attach", "R-APPROVE", str(small), user="rev1")
    wf.sql("UPDATE attachments SET number = 7")
    code, out, _ = wf("verify", user=ADMIN)
    assert code == 1 and "R-APPROVE attachment 7 (contract clause 7.txt) is not in the audit trail" in out
    # `get` refuses bytes whose row no longer matches its attach event.
    refused(wf, "attachment", "get", "R-APPROVE", "7", "--out", str(tmp_path / "c"), user="rev1",
            code=1, words="differs from its attach event")  # fmt: skip


def test_get_refuses_bytes_that_differ_from_their_hash(wf, tmp_path):
    _small, big = _files(tmp_path)
    ok(wf, "attach", "R-APPROVE", str(big), user="rev1")
    wf.sql("UPDATE attachment_chunks SET data = :junk WHERE number = 3", {"junk": b"forged"})
    target = tmp_path / "back.pdf"
    refused(wf, "attachment", "get", "R-APPROVE", "1", "--out", str(target), user="rev1", code=1,
            words="its stored bytes")  # fmt: skip
    assert not target.exists() and not (tmp_path / ".back.pdf.part").exists()


def test_verify_names_the_note_whose_text_was_changed(wf):
    ok(wf, "note", "R-APPROVE", "--text", "The DPIA is on file, see attachment 1.", user="rev1")
    wf.sql("UPDATE audit_events SET payload = replace(payload, 'DPIA', 'consent') WHERE action = 'note'")
    code, out, _ = wf("verify", user=ADMIN)
    assert code == 1 and "hash does not match the event's content (the note event of R-APPROVE)" in out


def test_a_baseline_carries_the_attachments_and_an_older_one_loads(wf, tmp_path):
    from reviewer.models.db import Database
    from reviewer.services.replay import AttachmentRecord, Replay
    from reviewer.services.verify import snapshot

    small, big = _files(tmp_path)
    ok(wf, "attach", "R-APPROVE", str(small), str(big), user="rev1")
    ok(wf, "attachment", "redact", "R-APPROVE", "2", "--reason", REASON, user=ADMIN)
    db = Database(wf.url)
    try:
        with db.read() as session:
            state = snapshot(session)
    finally:
        db.dispose()
    replay = Replay()
    replay.apply("baseline", "upgrade", None, json.loads(json.dumps(state)))
    assert replay.attachments == {
        ("R-APPROVE", 1): AttachmentRecord("contract clause 7.txt", small.stat().st_size, _sha(small)),
        ("R-APPROVE", 2): AttachmentRecord("dpia.pdf", big.stat().st_size, _sha(big), True),
    }
    del state["attachments"]  # a baseline written before attachments existed
    replay.apply("baseline", "upgrade", None, state)
    assert replay.attachments == {}
