"""`reviewer explain` and `reviewer return --draft` as a user runs them."""

from __future__ import annotations

import json

from tests.helpers.cli import EXAMPLES
from tests.helpers.workflow import ADMIN, ok


def test_explain_files_as_json_and_text(cli):
    files = [str(EXAMPLES / n) for n in ("p05-unknown-scale.json", "p02-us-sheriff.json")]
    out = ok(cli, "explain", *files, "--format", "json", user=None)
    got = {e["reference"]: e for e in json.loads(out)}
    assert set(got) == {"EX-0005", "EX-0002"}
    assert {d["field"] for d in got["EX-0005"]["decisive"]} >= {"scale.cameras", "scale.sites"}
    assert got["EX-0002"]["no_change"][0]["rule"] == "HR-01"
    text = ok(cli, "explain", *files, user=None)
    assert "EX-0005: recommendation NEEDS INFORMATION" in text
    assert "scale.cameras (Cameras):" in text and "= 51 -> needs_information still" in text
    assert "No change: HR-01 Police department in a moratorium country" in text


def test_explain_stored_requests_by_reference_and_draft_a_request_for_information(wf):
    out = ok(wf, "explain", "R-INFO", "R-COND", "--format", "json", user="rev1")
    got = {e["reference"]: e for e in json.loads(out)}
    assert got["R-INFO"]["decisive"][0]["field"] == "customer.sector"
    assert got["R-COND"]["what_if"]  # conditions: a change that approves it
    same = ok(wf, "explain", "--ref", "R-INFO", "--format", "json", user="rev1")
    assert json.loads(same)[0] == got["R-INFO"]
    before = wf.dump()
    draft = ok(wf, "return", "R-INFO", "--draft", user="rev1")
    assert wf.dump() == before  # a draft records nothing
    assert draft.startswith("Request R-INFO (Harbour Ltd): we need the following")
    assert (
        "1. Sector (customer.sector)" in draft and "the rule set needs it before any decision (HR-29" in draft
    )
    code, _out, err = wf("explain", "NOPE-1", user="rev1")
    assert code == 6 and "NOPE-1" in err


def test_the_drafted_text_is_kept_with_the_return_decision(wf):
    draft = ok(wf, "return", "R-INFO", "--draft", user="rev1")
    ok(wf, "claim", "R-INFO", user="rev1")
    ok(wf, "return", "R-INFO", "--reason", draft, user="rev1")
    shown = json.loads(ok(wf, "show", "R-INFO", "--format", "json", user=ADMIN))
    assert shown["decisions"][-1]["justification"] == draft.strip() or shown["decisions"][-1][
        "justification"] == draft  # fmt: skip


def test_explain_follows_the_arguments_and_names_a_misspelt_file(cli, tmp_path):
    files = [str(EXAMPLES / n) for n in ("p08-portland-hardware-store.json", "p01-office-door-access.json")]
    refs = [e["reference"] for e in json.loads(ok(cli, "explain", *files, "--format", "json", user=None))]
    assert refs == ["EX-0008", "EX-0001"]
    for wrong in ("nonexistent.json", str(tmp_path)):
        code, _out, err = cli("explain", wrong)
        assert code == 3 and wrong in err


def test_a_draft_keeps_each_value_on_its_line_and_says_when_nothing_is_needed(cli, tmp_path):
    doc = json.loads((EXAMPLES / "p05-unknown-scale.json").read_text())
    doc["customer"]["name"] = "Evil Ltd\nFAKE LINE: approved by senior"
    f = tmp_path / "evil.json"
    f.write_text(json.dumps(doc))
    ok(cli, "import", str(f), str(EXAMPLES / "p01-office-door-access.json"), user=None)
    draft = ok(cli, "return", "EX-0005", "--draft", user=None)
    assert "\nFAKE LINE" not in draft and "Evil Ltd\\u000aFAKE LINE" in draft
    note = ok(cli, "return", "EX-0001", "--draft", user=None)
    assert "needs no information from sales: its recommendation is conditions" in note
