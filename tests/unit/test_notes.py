"""Notes on a request (the case file, first part): any account adds one, it is an audit event
shown with the request and printed in the PDF record's history, and never changes."""

from __future__ import annotations

import json

from tests.helpers.pdf import pdf_text
from tests.helpers.workflow import ADMIN, JUST, ok, refused

NOTE = "Sales confirmed by phone that the cameras stay in the two lobbies; see the DPIA, page 4."


def test_a_note_is_shown_printed_and_leaves_the_version_alone(decided, tmp_path):
    before = json.loads(ok(decided, "show", "R-GERMAN", "--format", "json", user=ADMIN))
    out = ok(decided, "note", "R-GERMAN", "--text", f"  {NOTE}  ", user=ADMIN)
    assert out.startswith("note added to R-GERMAN (event ")
    after = json.loads(ok(decided, "show", "R-GERMAN", "--format", "json", user=ADMIN))
    assert after["version"] == before["version"]  # an open decision panel never conflicts
    (note,) = after["notes"]
    assert note["author"] == ADMIN and note["text"] == NOTE and note["time"].endswith("Z")
    assert after["events"][-1]["words"] == f"note: {NOTE}"
    assert ok(decided, "verify", user=ADMIN).startswith("OK")


def test_the_record_prints_the_notes_made_before_the_decision(wf, tmp_path):
    ok(wf, "claim", "R-APPROVE", user="rev1")
    ok(wf, "note", "R-APPROVE", "--text", NOTE, user="rev1")
    ok(wf, "decide", "R-APPROVE", "--outcome", "approve", "--justification", JUST, user="rev1")
    ok(wf, "note", "R-APPROVE", "--text", "After the decision: not in its record.", user="rev1")
    ok(wf, "export-pdf", "R-APPROVE", "--out", str(tmp_path), user="rev1")
    flat = " ".join(" ".join(pdf_text(tmp_path / "R-APPROVE-d1.pdf")[1]).split())
    assert f"rev1: note: {NOTE}" in flat and "After the decision" not in flat


def test_a_note_edited_in_the_database_is_named_by_verify(decided):
    ok(decided, "note", "R-GERMAN", "--text", NOTE, user=ADMIN)
    decided.sql("UPDATE audit_events SET payload = replace(payload, 'lobbies', 'stations') "
                "WHERE action = 'note'")  # fmt: skip
    code, out, _ = decided("verify", user=ADMIN)
    assert code == 1 and "hash does not match the event's content" in out


def test_an_empty_or_huge_note_or_an_unknown_request_is_refused(decided):
    refused(decided, "note", "R-GERMAN", "--text", "   ", user=ADMIN, code=3, words="1 to 4000 characters")
    refused(decided, "note", "R-GERMAN", "--text", "x" * 4001, user=ADMIN, code=3, words="1 to 4000")
    refused(decided, "note", "R-GERMAN", "--text", "\u200b\u2066\u200d", user=ADMIN, code=3,
            words="invisible characters alone are no note")  # fmt: skip
    refused(decided, "note", "R-NOPE", "--text", NOTE, user=ADMIN, code=6, words="R-NOPE")
    assert json.loads(ok(decided, "show", "R-GERMAN", "--format", "json", user=ADMIN))["notes"] == []
