"""The command line itself: options before or after the sub-command, help texts, the log."""

from __future__ import annotations

import argparse
import contextlib
import io
import json

import pytest

from reviewer import request as rq
from reviewer.cli import COMMANDS, _command_of, build_parser
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


def _outcome(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[object, str, str]:
    """What parsing `argv` gives: the namespace, or the exit code; and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            got: object = vars(parser.parse_args(argv))
        except SystemExit as exc:
            got = ("exit", exc.code)
    return got, out.getvalue(), err.getvalue()


JUSTIFIED = "x" * 30
LINES = [
    ["evaluate", "a.json", "b.jsonl", "--format", "json", "--rules", "r.toml"],
    ["--database", "sqlite:///x.db", "--user", "evaluate", "evaluate", "a.json"],
    ["--database=sqlite:///x.db", "--user=u", "rules", "list", "--format", "json"],
    ["rules", "backtest", "human-rights@1", "--database", "sqlite:///y.db"],
    ["users", "add", "bob", "--role", "reviewer", "--role", "senior"],
    ["users", "role", "bob", "--add", "admin"],
    ["decide", "R-1", "--outcome", "approve_with_conditions", "--justification", JUSTIFIED,
     "--condition", "notice@2027-01-01", "--condition", "audit", "--expect-version", "3"],
    ["keys", "init", "--new"], ["db", "init", "--admin", "root"], ["db", "current"],
    ["conditions", "--overdue"], ["conditions", "mark", "3", "met", "--note", "seen"],
    ["attachment", "get", "R-1", "2", "--out", "f.pdf"], ["customer", "link", "R-1", "C-2"],
    ["return", "R-1", "--draft"], ["check", "R-1", "--reject", "--reason", JUSTIFIED],
    ["export-pdf", "--all-decided", "--out", "d", "--jobs", "2"], ["seed-demo", "--count", "5"],
    ["settings", "set", "organisation_name", "Acme"], ["verify", "--pdf", "a.pdf", "b.pdf"],
    # refused: the same messages, the same exit codes
    ["evaluate"], ["evaluate", "--bogus", "a.json"], ["evaluate", "a.json", "--format", "xml"],
    ["rules"], ["rules", "bogus"], ["users", "add", "bob"], ["decide", "R-1", "--outcome", "maybe"],
    ["return", "R-1", "--draft", "--reason", JUSTIFIED], ["seed-demo", "--count", "many"],
    ["--user"], ["--user", "-h", "show", "R-1"], ["show", "R-1", "extra"],
    # help
    ["evaluate", "--help"], ["rules", "diff", "-h"], ["db", "--help"],
]  # fmt: skip


@pytest.mark.parametrize("argv", LINES, ids=[" ".join(a)[:60] for a in LINES])
def test_a_command_line_reads_the_same_with_its_command_alone_or_the_whole_parser(argv):
    """`main` parses with a parser holding only the command named (building all of them takes
    longer than most commands): namespaces, errors, exit codes and help are the whole one's."""
    only = _command_of(argv)
    assert (only is None) == (argv == ["--user"])  # every other line names its command plainly
    assert _outcome(build_parser(only), argv) == _outcome(build_parser(), argv)


def test_which_command_a_line_names():
    assert _command_of(["evaluate", "f"]) == "evaluate"
    assert _command_of(["--database", "sqlite:///x", "--user", "show", "show", "R"]) == "show"
    assert _command_of(["--database=x", "rules", "list"]) == "rules"
    for argv in ([], ["--help"], ["-h", "evaluate"], ["--data", "x", "evaluate"], ["--screenshot", "f.png"],
                 ["--", "evaluate"], ["evalute", "f"], ["--database"]):  # fmt: skip
        assert _command_of(argv) is None
    for name in COMMANDS:  # each builds alone, with every subcommand it has
        parser = build_parser(name)
        assert _outcome(parser, [name, "--help"]) == _outcome(build_parser(), [name, "--help"])


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
