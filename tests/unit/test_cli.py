"""The command line itself: options before or after the sub-command, help texts, the log."""

from __future__ import annotations

import argparse
import json

from reviewer import request as rq
from reviewer.cli import build_parser
from reviewer.cli import main as cli_main
from tests.helpers.workflow import scenario_docs


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_options_before_the_sub_command_are_honoured(cli, tmp_path, capsys, monkeypatch):
    f = tmp_path / "r.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    assert _run(capsys, "--database", cli.url, "--user", "admin1", "import", str(f))[0] == 0
    assert (
        _run(
            capsys, "--database", cli.url, "--user", "admin1", "users", "add", "alice", "--role", "reviewer"
        )[0]
        == 0
    )
    code, out, err = _run(capsys, "--user", "alice", "--database", cli.url, "claim", "R-APPROVE")
    assert code == 0, err
    data = json.loads(_run(capsys, "--database", cli.url, "show", "R-APPROVE", "--format", "json")[1])
    assert data["assignee"] == "alice"
    assert data["events"][-1]["actor"] == "alice" and data["events"][-1]["action"] == "claim"
    # after the sub-command it works as before, and there it wins over the one before
    code, _out, err = _run(
        capsys, "--user", "nobody", "release", "R-APPROVE", "--user", "alice", "--database", cli.url
    )
    assert code == 0, err


def test_database_before_verify_checks_that_database(cli, tmp_path, capsys, monkeypatch):
    other = tmp_path / "other.db"
    monkeypatch.setenv("REVIEWER_DATABASE_URL", f"sqlite:///{other}")
    f = tmp_path / "r.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    assert _run(capsys, "--database", cli.url, "--user", "admin1", "import", str(f))[0] == 0
    code, out, _err = _run(capsys, "--database", cli.url, "verify", "--format", "json")
    # The bootstrap, an import each, and one new customer (every scenario is Harbour Ltd, GB).
    assert code == 0 and json.loads(out)["events"] == len(scenario_docs()) + 2
    assert not other.exists()  # the environment's database was never touched
    cli.sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    code, out, _err = _run(capsys, "--database", cli.url, "verify")
    assert code == 1 and "PROBLEM" in out


def _actions(parser: argparse.ArgumentParser, path: str = "reviewer"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_and_argument_has_a_help_text_and_dates_say_the_format():
    missing = [f"{path}: {a.dest}" for path, a in _actions(build_parser()) if not a.help]
    assert missing == []
    dated = [a for _p, a in _actions(build_parser()) if a.dest in ("re_review", "condition")]
    assert len(dated) == 2 and all("YYYY-MM-DD" in str(a.metavar) for a in dated)
    assert not [a for _p, a in _actions(build_parser()) if "DATE" in str(a.metavar or "")]


def test_top_level_help_lists_exit_codes_and_the_default_database(capsys):
    text = build_parser().format_help()
    for code in range(8):
        assert f"\n  {code}  " in text
    assert "reviewer.db" in text and "REVIEWER_DATABASE_URL" in text


def test_the_log_keeps_warnings_and_our_events_not_alembic_info(cli, tmp_path, isolated_home,
                                                                 capsys):  # fmt: skip
    f = tmp_path / "r.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    assert _run(capsys, "import", str(f), "--database", cli.url, "--user", "admin1")[0] == 0
    log = (isolated_home / "data" / "reviewer" / "reviewer.log").read_text()
    assert "alembic" not in log.lower()
    assert "reviewer.cli: import: exit 0" in log
