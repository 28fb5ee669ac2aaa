"""PDF justification records, read back with pypdf (workflow.md, "The PDF justification")."""

from __future__ import annotations

import re

from reviewer import request as rq
from tests.helpers.documents import make
from tests.helpers.pdf import LONG, pdf_text, stored_record
from tests.helpers.workflow import ADMIN, JUST, ok, refused


def test_checker_is_printed(decided, tmp_path):
    # a request that needs a second check
    doc = make({"use.decision_effects": ["insurance"]})
    doc["reference"] = "R-CHECKED"
    f = tmp_path / "c.jsonl"
    f.write_text(rq.canonical_json(doc) + "\n")
    ok(decided, "import", str(f), user=ADMIN)
    ok(decided, "claim", "R-CHECKED", user=ADMIN)
    ok(decided, "decide", "R-CHECKED", "--outcome", "approve", "--justification", JUST, user=ADMIN)
    refused(
        decided,
        "export-pdf",
        "R-CHECKED",
        "--out",
        str(tmp_path / "x"),
        user=ADMIN,
        code=6,
        words="no final decision to export for R-CHECKED",
    )
    ok(decided, "check", "R-CHECKED", "--confirm", user="rev2")
    ok(decided, "export-pdf", "R-CHECKED", "--out", str(tmp_path / "x"), user=ADMIN)
    text, _p, _m = pdf_text(tmp_path / "x" / "R-CHECKED-d1.pdf")
    assert "rev2 (reviewer)" in text and "Checked by" in text


def test_long_description_flows_over_pages_with_page_x_of_y(decided, tmp_path):
    ok(decided, "export-pdf", "R-LONG", "--out", str(tmp_path), user=ADMIN)
    text, pages, _m = pdf_text(tmp_path / "R-LONG-d1.pdf")
    assert len(pages) >= 4
    for i, page in enumerate(pages, 1):
        assert f"Page {i} of {len(pages)}" in page
    flat = " ".join(text.split())
    assert len(LONG) == 20_000
    phrase = "Lorem ipsum dolor sit amet"
    assert flat.count(phrase) == LONG.count(phrase)  # every repetition survives
    assert "END-OF-DESCRIPTION" in flat


def test_existing_files_need_overwrite(decided, tmp_path):
    ok(decided, "export-pdf", "R-GERMAN", "--out", str(tmp_path), user=ADMIN)
    before = (tmp_path / "R-GERMAN-d1.pdf").stat().st_mtime_ns
    code, _o, err = decided("export-pdf", "R-GERMAN", "--out", str(tmp_path), user=ADMIN)
    assert code == 3 and "already exists (use --overwrite)" in err
    assert (tmp_path / "R-GERMAN-d1.pdf").stat().st_mtime_ns == before
    ok(decided, "export-pdf", "R-GERMAN", "--out", str(tmp_path), "--overwrite", user=ADMIN)


def test_file_names_cannot_collide():
    from reviewer.services.records import pdf_name

    assert pdf_name("REQ-1", 2) == "REQ-1-d2.pdf"
    a, b = pdf_name("REQ/1", 1), pdf_name("REQ_1", 1)
    assert a != b and re.fullmatch(r"REQ_1-[0-9a-f]{8}-d1\.pdf", a) and b == "REQ_1-d1.pdf"


def test_a_reference_written_as_anothers_file_name_gets_a_name_of_its_own(db_cli, tmp_path):
    """`a_.._..-57717b01` is what `a/../..` becomes (its SHA-256 begins 57717b01): both are
    exported in one run, each to a file of its own with its own record, none lost."""
    from reviewer.services.records import pdf_name

    crafted = "a_.._..-57717b01"
    assert pdf_name("a/../..", 1) == "a_.._..-57717b01-d1.pdf"
    assert re.fullmatch(r"a_\.\._\.\.-57717b01-[0-9a-f]{8}-d1\.pdf", pdf_name(crafted, 1))
    docs = []
    for ref in ("a/../..", crafted):
        doc = make({})
        doc["reference"] = ref
        docs.append(doc)
    (tmp_path / "both.jsonl").write_text("".join(rq.canonical_json(d) + "\n" for d in docs))
    ok(db_cli, "import", str(tmp_path / "both.jsonl"), user=ADMIN)
    for ref in ("a/../..", crafted):
        ok(db_cli, "claim", ref, user=ADMIN)
        ok(db_cli, "decide", ref, "--outcome", "refuse", "--justification", JUST, user=ADMIN)
    out = tmp_path / "pdfs"
    ok(db_cli, "export-pdf", "--all-decided", "--out", str(out), user=ADMIN)
    files = sorted(out.glob("*.pdf"))
    assert len(files) == 2, files
    for ref in ("a/../..", crafted):
        _text, _pages, meta = pdf_text(out / pdf_name(ref, 1))
        assert stored_record(db_cli, ref)["record_hash"] in meta["/Keywords"], ref


def test_a_character_beyond_the_basic_plane_copies_back_exactly(cli, tmp_path):
    """😀 (U+1F600) in the title and the customer's name is printed with the main font and
    copies back as itself (ReportLab's map to Unicode cut it to U+1F60); the rest of the
    text is unchanged."""
    doc = make({"customer.name": "Grin 😀 Ltd"})
    doc["reference"], doc["title"] = "EMOJI-1", "😀 smile at the door"
    (tmp_path / "e.json").write_text(rq.canonical_json(doc), encoding="utf-8")
    ok(cli, "import", str(tmp_path / "e.json"), user=ADMIN)
    ok(cli, "claim", "EMOJI-1", user=ADMIN)
    ok(cli, "decide", "EMOJI-1", "--outcome", "refuse", "--justification", JUST, user=ADMIN)
    ok(cli, "export-pdf", "EMOJI-1", "--out", str(tmp_path), user=ADMIN)
    text, _pages, _meta = pdf_text(tmp_path / "EMOJI-1-d1.pdf")
    assert "😀 smile at the door" in text and "Grin 😀 Ltd" in text and "\u1f60" not in text
    assert ok(cli, "verify", "--pdf", str(tmp_path / "EMOJI-1-d1.pdf"), user=ADMIN).startswith("OK")


def test_two_records_are_never_written_to_one_file(tmp_path, monkeypatch):
    """Two references whose names would share a SHA-256 prefix are refused before anything
    is written; a file of a record's name that appears while it is written (another name for
    it where upper and lower case are one) is left as it is."""
    import pytest

    from reviewer.errors import EnvironmentProblem, InvalidInput
    from reviewer.export.documents import write_whole
    from reviewer.services import records

    monkeypatch.setattr(records, "pdf_name", lambda reference, number: f"same-d{number}.pdf")
    with pytest.raises(InvalidInput) as refusal:
        records.plan([(1, "A/1", 1), (2, "A_1", 1)], tmp_path, overwrite=True)
    assert "same-d1.pdf: the name of both A/1 decision 1 and A_1 decision 1" in str(refusal.value)
    path = tmp_path / "R-1-d1.pdf"
    path.write_bytes(b"the record written first")
    with pytest.raises(EnvironmentProblem, match="a file of that name exists"):
        write_whole(path, b"another record", replace=False)
    assert path.read_bytes() == b"the record written first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R-1-d1.pdf"]  # no part left
    write_whole(path, b"replaced")  # --overwrite
    assert path.read_bytes() == b"replaced"


def test_verify_pdf_accepts_genuine_and_rejects_forgeries(decided, tmp_path):
    ok(decided, "export-pdf", "R-GERMAN", "R-CJK", "--out", str(tmp_path), user=ADMIN)
    genuine = tmp_path / "R-GERMAN-d1.pdf"
    assert ok(decided, "verify", "--pdf", str(genuine), user=ADMIN).startswith("OK")

    # a forger re-renders the record with another justification and the same hash
    from reviewer.export.pdf import render

    record = stored_record(decided, "R-GERMAN")
    forged = dict(record, justification="Approved without any conditions at all, trust us.")
    render(forged, str(tmp_path / "forged.pdf"))
    code, out, _ = decided("verify", "--pdf", str(tmp_path / "forged.pdf"), user=ADMIN)
    assert code == 1 and "the printed justification differs from the record" in out

    # a PDF from another database: its hash is not here
    other = dict(record, record_hash="ab" * 32)
    render(other, str(tmp_path / "other.pdf"))
    code, out, _ = decided("verify", "--pdf", str(tmp_path / "other.pdf"), user=ADMIN)
    assert code == 1 and "is not in this database" in out

    # the decision is changed in the database after export
    decided.sql(
        "update decisions set justification = justification || ' (amended)' "
        "where request_id = (select id from requests where reference = 'R-CJK')"
    )
    code, out, _ = decided("verify", "--pdf", str(tmp_path / "R-CJK-d1.pdf"), user=ADMIN)
    assert code == 1 and "no longer matches its record hash" in out
    code, out, _ = decided("verify", "--pdf", str(genuine), user=ADMIN)
    assert f"OK {genuine}" in out.splitlines()  # the genuine one stays clean, named on its line


def test_settings_are_for_admins(decided):
    refused(
        decided,
        "settings",
        "set",
        "organisation_name",
        "Someone Else",
        user="rev2",
        code=5,
        words="only an admin changes settings",
    )
    assert (
        ok(decided, "settings", "get", "organisation_name", user=ADMIN).strip()
        == "Contoso Responsible AI Office"
    )


def test_the_record_says_what_would_have_changed_the_outcome(decided, tmp_path):
    """A section of the record: the what-ifs of the decided request, from its snapshot."""
    doc = make({"use.operations": ["verification"], "scale.cameras": 400})
    doc["reference"] = "R-WHATIF"
    doc["customer"]["name"] = "Whatif Optics Ltd"  # a customer of its own: its totals are its figures
    f = tmp_path / "w.jsonl"
    f.write_text(rq.canonical_json(doc) + "\n")
    ok(decided, "import", str(f), user=ADMIN)
    ok(decided, "claim", "R-WHATIF", user=ADMIN)
    ok(decided, "decide", "R-WHATIF", "--outcome", "refuse", "--justification", JUST, user=ADMIN)
    ok(decided, "export-pdf", "R-WHATIF", "--out", str(tmp_path / "w"), user=ADMIN)
    text, _p, _m = pdf_text(tmp_path / "w" / "R-WHATIF-d1.pdf")
    flat = " ".join(text.split())
    assert "What the facts decide" in flat and "What would change it:" in flat
    assert "scale.cameras = 50 -> With conditions (HR-19 stops, HR-30 stops)" in flat


HEADINGS = {"1. The request", "2. The evaluation", "3. The decision", "4. Sign-off", "5. Integrity",
            "End users", "Sites", "Description", "What the facts decide", "Conditions"}  # fmt: skip


def test_no_heading_sits_alone_at_the_bottom_of_a_page(decided, tmp_path):
    ok(decided, "export-pdf", "--all-decided", "--out", str(tmp_path), user=ADMIN)
    checked = 0
    for path in sorted(tmp_path.glob("*.pdf")):
        _text, pages, _m = pdf_text(path)
        for page in pages[:-1]:
            lines = [x.strip() for x in page.splitlines() if x.strip()]
            body = [x for x in lines if not re.match(r"^Page \d+ of \d+$", x) and " · decision " not in x]
            assert body and body[-1] not in HEADINGS, (path.name, body[-3:])
            checked += 1
    assert checked >= 5


def test_verify_compares_every_page_with_a_rendering_and_stays_valid_after_later_events(decided, tmp_path):
    from reviewer.export.pdf import render

    ok(decided, "export-pdf", "R-GERMAN", "--out", str(tmp_path), user=ADMIN)
    genuine = tmp_path / "R-GERMAN-d1.pdf"
    _text, pages, _m = pdf_text(genuine)
    history = " ".join(" ".join(pages).split())
    assert "The request's history up to this decision" in history and f"{ADMIN}: claimed" in history
    # Later events: another request decided, the organisation renamed, this one reopened.
    ok(decided, "settings", "set", "organisation_name", "Renamed Office", user=ADMIN)
    ok(decided, "reopen", "R-GERMAN", "--reason", "Reopened to look at the new site list again.", user=ADMIN)
    code, out, _ = decided("verify", "--pdf", str(genuine), user=ADMIN)
    assert f"OK {genuine}" in out.splitlines(), out
    # A re-render through the project's own renderer with one condition dropped.
    record = stored_record(decided, "R-GERMAN")
    m = re.search(r"Chainheadatexport(\d+):([0-9a-f]{64})", "".join("".join(pages).split()))
    assert m is not None
    seq, digest = m.groups()
    forged = dict(record, conditions=record["conditions"][1:], head_seq=int(seq), head_hash=digest,
                  organisation="Contoso Responsible AI Office")  # fmt: skip
    render(forged, str(tmp_path / "dropped.pdf"))
    code, out, _ = decided("verify", "--pdf", str(tmp_path / "dropped.pdf"), user=ADMIN)
    assert code == 1 and "differs from a rendering of the stored decision" in out
    # The export time is the one value two exports differ in: the same content with the
    # printed export time renders to the same pages; backdated before its chain head, named.
    stamp = re.search(r"Exportedat(\d{4}-\d{2}-\d{2})(\d{2}:\d{2})UTC", "".join("".join(pages).split()))
    assert stamp is not None
    same = dict(record, head_seq=int(seq), head_hash=digest, organisation="Contoso Responsible AI Office",
                exported_at=f"{stamp.group(1)}T{stamp.group(2)}:59.999999Z")  # fmt: skip
    render(same, str(tmp_path / "again.pdf"))
    assert pdf_text(tmp_path / "again.pdf")[1] == pages
    render(dict(same, exported_at="2001-01-01T00:00:00.000000Z"), str(tmp_path / "backdated.pdf"))
    code, out, _ = decided("verify", "--pdf", str(tmp_path / "backdated.pdf"), user=ADMIN)
    assert code == 1 and "before the chain head it prints" in out


SNAKE = re.compile(r"\b(needs_information|escalate_senior|escalate_second|approve_with_conditions|"
                   r"take_over|override never)\b")  # fmt: skip


def test_the_record_speaks_in_words_not_codes(decided, tmp_path):
    """Outcomes, override levels, missing facts and the history in the words of the shared
    vocabulary (the window prints the same), field labels as in the request format."""
    from reviewer.vocabulary import event_words, field_label, finding_words

    police = make({"customer.org_type": "police", "customer.country": "US", "customer.region": "WA"})
    police["reference"] = "R-WORDS"
    unknown = make({"customer.org_type": None})
    unknown["reference"] = "R-UNKNOWN"
    f = tmp_path / "w.jsonl"
    f.write_text(rq.canonical_json(police) + "\n" + rq.canonical_json(unknown) + "\n")
    ok(decided, "import", str(f), user=ADMIN)
    for ref in ("R-WORDS", "R-UNKNOWN"):
        ok(decided, "claim", ref, user=ADMIN)
        ok(decided, "decide", ref, "--outcome", "refuse", "--justification", JUST, user=ADMIN)
    ok(decided, "export-pdf", "R-WORDS", "R-UNKNOWN", "--out", str(tmp_path / "w"), user=ADMIN)
    text, _p, _m = pdf_text(tmp_path / "w" / "R-WORDS-d1.pdf")
    flat = " ".join(text.split())
    text, _p, _m = pdf_text(tmp_path / "w" / "R-UNKNOWN-d1.pdf")
    asking = " ".join(text.split())
    assert f"Missing: {field_label('customer.org_type')} (customer.org_type)" in asking
    assert "Needs information" in asking and not SNAKE.search(asking)
    assert f"HR-01 Police department in a moratorium country — {finding_words('refuse', 'never')}" in flat
    assert "Refuse (no one may approve)" in flat
    assert "DPIA completed" in flat and "EU AI Act Art. 5 objective" in flat
    assert event_words("decide", {"decision": 1, "outcome": "refuse"}) == "decided 1: Refused"
    assert f"{ADMIN}: received" in flat and f"{ADMIN}: claimed" in flat
    assert f"{ADMIN}: decided 1: Refused" in flat
    assert "3. The decision Outcome Refused Justification" in flat  # the decision's, not a finding's
    assert not SNAKE.search(flat), SNAKE.search(flat)
    shown = ok(decided, "show", "R-WORDS", "--format", "json", user=ADMIN)
    assert '"words": "decided 1: Refused"' in shown.replace('":"', '": "')


def test_an_unset_organisation_name_is_pointed_out_at_export(cli, tmp_path):
    cli.tmp = tmp_path
    doc = make({})
    doc["reference"] = "R-UNNAMED"
    (tmp_path / "u.jsonl").write_text(rq.canonical_json(doc) + "\n")
    ok(cli, "import", str(tmp_path / "u.jsonl"), user=ADMIN)
    ok(cli, "claim", "R-UNNAMED", user=ADMIN)
    ok(cli, "decide", "R-UNNAMED", "--outcome", "refuse", "--justification", JUST, user=ADMIN)
    code, _out, err = cli("export-pdf", "R-UNNAMED", "--out", str(tmp_path / "a"), user=ADMIN)
    assert code == 0 and "the organisation name is not set" in err and "settings set organisation_name" in err
    ok(cli, "settings", "set", "organisation_name", "Contoso Responsible AI Office", user=ADMIN)
    code, _out, err = cli("export-pdf", "R-UNNAMED", "--out", str(tmp_path / "b"), user=ADMIN)
    assert code == 0 and "organisation name" not in err


def test_what_a_reader_shows_beyond_the_text_is_compared_too(decided, tmp_path):
    """Without a signature the pages are all there is: an annotation drawn over the outcome,
    a crop box that hides it, or a script are named, though the page text is unchanged."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import FreeText
    from pypdf.generic import DictionaryObject, NameObject, RectangleObject, TextStringObject

    ok(decided, "export-pdf", "R-GERMAN", "--out", str(tmp_path), user=ADMIN)
    genuine = tmp_path / "R-GERMAN-d1.pdf"
    forged = {}
    w = PdfWriter(clone_from=PdfReader(genuine))
    w.add_annotation(0, FreeText(text="APPROVED", rect=(50, 700, 400, 760)))
    forged["annotation"] = w
    w = PdfWriter(clone_from=PdfReader(genuine))
    w.pages[0][NameObject("/CropBox")] = RectangleObject((0, 0, 595, 500))
    forged["crop"] = w
    w = PdfWriter(clone_from=PdfReader(genuine))
    w._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
    )
    forged["script"] = w
    for name, writer in forged.items():
        path = tmp_path / f"{name}.pdf"
        writer.write(path)
        code, out, _ = decided("verify", "--pdf", str(path), user=ADMIN)
        assert code == 1 and out.splitlines()[-1].startswith(f"PROBLEM {path}: "), (name, out)
    assert f"OK {genuine}" in ok(decided, "verify", "--pdf", str(genuine), user=ADMIN).splitlines()
