"""The `reviewer` command (`shared/design/cli.md`): parse, open the context, call one service,
print, and map errors to exit codes; nothing else.

Writing commands bring the database to the newest schema first (copying the file aside);
reading commands never migrate and stop with exit 7 on a schema that is behind.

Start-up: this module imports only what parsing the command line and evaluating request files
without a database need (the rules, the request format, the file readers, the texts). Each
command imports the database layer it uses (SQLAlchemy and Alembic through `reviewer.context`,
the models and `reviewer.services.*`), the window (`reviewer.gui`) and what it alone needs
(`reviewer.rules.explain`) in its own body, first thing, so `reviewer evaluate FILE` without a
database never loads them (tests/system/test_architecture_processes.py checks it); and a
command line is parsed by the parser of its command alone (`build_parser`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import functools
import gc
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from reviewer import rules, settings
from reviewer.errors import (
    EnvironmentProblem,
    InvalidInput,
    NotFound,
    NotPermitted,
    ReviewerError,
    UsageError,
)
from reviewer.export.documents import write_export, write_export_file
from reviewer.export.text import customer_text, evaluation_text, explanation_text, show_text, utc_text
from reviewer.logs import setup_logging
from reviewer.request import SHAPES, json_safe, terminal_safe
from reviewer.services import files
from reviewer.vocabulary import ORG_SETTINGS, ConditionStatus, Outcome, Role, size_words

if TYPE_CHECKING:
    from reviewer.context import Context
    from reviewer.models import Decision, Request
    from reviewer.models.db import Database
    from reviewer.services.direct import Direct
    from reviewer.services.verify import VerifyReport

log = logging.getLogger(__name__)

EXIT_CODES = """exit codes:
  0  done
  1  verify found a problem
  2  usage error (unknown option, missing argument); no display for the window
  3  invalid input (request or rule-set files); nothing was written
  4  conflict: the request changed since it was read
  5  not permitted: a role, four eyes, or a rule forbids it (the message names it)
  6  not found (reference, account, rule set)
  7  environment: database unreachable, locked, read-only, disk full, schema behind
"""


def _epilog() -> str:
    return (
        f"{EXIT_CODES}\n"
        f"database: --database URL, else ${settings.ENV_DATABASE}, else database_url in\n"
        f"  {settings.config_file()}, else\n  {settings.default_database_url()}\n"
        f"log file: {settings.log_file()}"
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(terminal_safe(f"{self.prog}: error: {message}"), file=sys.stderr)
        raise SystemExit(2)


def _common(suppress: bool) -> _Parser:
    """--database and --user, taken before or after the sub-command: a sub-command's parser
    leaves them alone unless given there (SUPPRESS), so neither place overrides the other."""
    default = argparse.SUPPRESS if suppress else None
    common = _Parser(add_help=False)
    common.add_argument("--database", metavar="URL", default=default,
                        help="database URL: sqlite:///PATH or postgresql+psycopg://LOGIN@HOST/DB "
                        "(default: see below)")  # fmt: skip
    common.add_argument("--user", metavar="NAME", default=default,
                        help="act as this account (SQLite only; on PostgreSQL you act as your "
                        "database login)")  # fmt: skip
    return common


def _format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=["json", "text"], default="text", help="output format (default: text)"
    )


MAX_WHOLE_ARGUMENT = 2**63 - 1  # what a database integer holds (SQLite's, PostgreSQL's bigint)


def _whole(text: str) -> int:
    """A whole-number argument (a count, an id, a number, a version) that a database can hold:
    a larger one is a usage error (exit 2), not an overflow deep in a query."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text[:30]!r}") from None
    if abs(value) > MAX_WHOLE_ARGUMENT:
        raise argparse.ArgumentTypeError(f"{text[:30]!r}: a whole number of at most 19 digits")
    return value


def _ref(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ref", metavar="REF", help="the request's reference")


def _expect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expect-version",
        type=_whole,
        metavar="N",
        help="act only if the request is still at version N (else exit 4)",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with `command`, the same parser holding that command
    alone, which reads its command line exactly as the whole one does (`main` uses it)."""
    return _parser(_epilog(), command)


class _Unused:
    """Stands for the parser of a command that is not being parsed: what is defined on it is
    dropped (`_parser`)."""

    def __getattr__(self, name: str) -> Callable[..., _Unused]:
        return lambda *args, **kwargs: self


@functools.lru_cache(maxsize=64)
def _parser(epilog: str, only: str | None = None) -> argparse.ArgumentParser:
    """One parser per epilog (which names this user's files) and command: building every
    command's costs more than most commands (argparse looks up a translation for every help
    text: 15 ms), and parsing leaves it as it was, so a process that runs several commands
    (the tests, the window) builds each once. With `only`, the other commands' parsers are not
    built: `reviewer --help` and a line without that command take the whole parser."""
    common = _common(suppress=True)
    p = _Parser(prog="reviewer", parents=[_common(suppress=False)],
                formatter_class=argparse.RawDescriptionHelpFormatter,
                description="Human-rights review of face recognition sales requests. "
                "Without a command, starts the desktop application.",
                epilog=epilog)  # fmt: skip
    p.add_argument("--screenshot", metavar="FILE",
                   help="window: save it as PNG once the queue shows, print the seconds since "
                   "start, and exit")  # fmt: skip
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return cast(argparse.ArgumentParser, _Unused())
        return sub.add_parser(name, parents=[common], help=text, description=text)

    s = command("import", "import request files (all or nothing)")
    s.add_argument("files", nargs="+", metavar="FILE", help=".json, .jsonl or .csv request files")
    s.add_argument("--update", action="store_true", help="store new versions of known references")

    s = command("export", "export requests in the request format")
    s.add_argument("refs", nargs="*", metavar="REF", help="references to export (default: all)")
    s.add_argument(
        "--format", choices=["json", "jsonl", "csv"], required=True, help="the request format to write"
    )
    s.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")

    s = command("evaluate", "evaluate request files; stores nothing")
    s.add_argument("files", nargs="+", metavar="FILE", help=".json, .jsonl or .csv request files")
    _format(s)
    s.add_argument(
        "--rules", metavar="FILE", help="a rule-set TOML file instead of the active (or bundled) one"
    )

    s = command("verify", "check the audit chain, stored versions and decisions")
    s.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="also check that event SEQ has this hash (a value kept elsewhere)",
    )
    s.add_argument("--pdf", nargs="+", metavar="FILE", help="check exported PDF records")
    s.add_argument("--offline", action="store_true",
                   help="with --pdf: check only what the file shows, without the database (the "
                   "signature, against --cert)")  # fmt: skip
    s.add_argument("--cert", metavar="PEM-or-FINGERPRINT",
                   help="with --offline: the organisation's certificate, as a PEM file or its "
                   "SHA-256 fingerprint")  # fmt: skip
    _format(s)

    s = command("keys", "the organisation's key for signing PDF records")
    k = s.add_subparsers(dest="keys_command", required=True, metavar="ACTION", parser_class=_Parser)
    x = k.add_parser(
        "init", parents=[common], help="make a signing key and a self-signed certificate (admin)"
    )
    x.add_argument("--new", action="store_true", help="replace this workstation's key (rotation); "
                   "records signed with the old one keep verifying")  # fmt: skip
    x = k.add_parser(
        "import", parents=[common], help="take a PKCS#12 file issued by the organisation's CA (admin)"
    )
    x.add_argument("file", metavar="FILE.p12", help="the key and certificate, protected by the passphrase")
    k.add_parser("show", parents=[common], help="this workstation's key and the certificates recorded")

    s = command("seed-demo", "demo data for an empty database")
    s.add_argument("--count", type=_whole, default=200, metavar="N",
                   help="requests to generate (default: 200)")  # fmt: skip
    s.add_argument(
        "--seed",
        type=_whole,
        default=7,
        metavar="S",
        help="random seed; the same seed gives the same requests (default: 7)",
    )
    s.add_argument(
        "--decisions",
        type=_whole,
        default=0,
        metavar="K",
        help="also make K decisions through the workflow (demo accounts, SQLite)",
    )
    s.add_argument(
        "--force", action="store_true", help="add demo requests even when the database holds requests"
    )

    s = command("show", "a request with its history")
    _ref(s)
    _format(s)

    for name, text in (("claim", "claim a new request"), ("release", "release your claim"),
                       ("take-over", "take over a claim (senior)")):  # fmt: skip
        s = command(name, text)
        _ref(s)
        _expect(s)

    s = command("note", "add a note to a request (an audit event; never edited, never deleted)")
    _ref(s)
    s.add_argument("--text", required=True, metavar="TEXT", help="the note (a correction is a new note)")

    s = command("attach", "attach evidence files to a request (all or nothing; any account)")
    _ref(s)
    s.add_argument("files", nargs="+", metavar="FILE",
                   help="the files, kept in the database (each at most max_attachment_mb)")  # fmt: skip
    s.add_argument("--note", metavar="TEXT", help="what the files are (kept with each)")

    s = command("attachments", "a request's attachments, numbered in the order attached")
    _ref(s)
    _format(s)

    s = command("attachment", "one attachment: its bytes, or (admin) their redaction")
    asub = s.add_subparsers(dest="attachment_command", required=True, parser_class=_Parser,
                            metavar="COMMAND")  # fmt: skip
    a = asub.add_parser("get", parents=[common], help="write an attachment's bytes to a new file")
    _ref(a)
    a.add_argument("number", type=_whole, metavar="N", help="its number (see `reviewer attachments REF`)")
    a.add_argument("--out", required=True, metavar="FILE", help="the new file (never overwritten)")
    a = asub.add_parser("redact", parents=[common],
                        help="remove its bytes, keeping its name, size and hash (admin)")  # fmt: skip
    _ref(a)
    a.add_argument("number", type=_whole, metavar="N", help="its number (see `reviewer attachments REF`)")
    a.add_argument("--reason", required=True, metavar="TEXT", help="why (at least 30 characters)")

    s = command("decide", "decide a claimed request")
    _ref(s)
    s.add_argument(
        "--outcome",
        required=True,
        choices=[o.value for o in Outcome if o is not Outcome.RETURN_FOR_INFORMATION],
        help="the decision (return for information: use `reviewer return`)",
    )
    s.add_argument(
        "--justification",
        required=True,
        metavar="TEXT",
        help="why (at least 30 characters); printed on the PDF record",
    )
    s.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="TEXT[@YYYY-MM-DD]",
        help="a condition of the approval, with an optional due date (repeatable)",
    )
    s.add_argument(
        "--re-review",
        metavar="YYYY-MM-DD",
        help="when an approval is reviewed again (default: one year from today)",
    )
    _expect(s)

    s = command("return", "return a request to sales for information")
    _ref(s)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--reason", metavar="TEXT", help="what sales must supply (at least 30 characters)")
    g.add_argument(
        "--draft",
        action="store_true",
        help="print a drafted request for information (the decisive missing facts and why "
        "they matter); records nothing",
    )
    _expect(s)

    s = command("explain", "decisive missing facts and what would change the outcome; stores nothing")
    s.add_argument("items", nargs="+", metavar="FILE-or-REF",
                   help="request files (.json, .jsonl, .csv) or references of stored requests")  # fmt: skip
    s.add_argument("--ref", action="store_true", help="every argument is a reference of a stored request")
    _format(s)
    s.add_argument(
        "--rules",
        metavar="FILE",
        help="for files: a rule-set TOML file instead of the active (or bundled) one",
    )

    s = command("check", "confirm or reject a decision (the second pair of eyes)")
    _ref(s)
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--confirm", action="store_true", help="the decision becomes final")
    g.add_argument("--reject", action="store_true", help="send the decision back to its decider")
    s.add_argument("--reason", metavar="TEXT", default="", help="why a rejection (required with --reject)")
    _expect(s)

    s = command("reopen", "reopen a decided request (senior)")
    _ref(s)
    s.add_argument(
        "--reason", required=True, metavar="TEXT", help="why it is reviewed again (at least 30 characters)"
    )
    _expect(s)

    s = command("rereview", "approvals due for re-review: their date has come or a condition is overdue; "
                "--start REF starts one")  # fmt: skip
    s.add_argument("--due-by", metavar="YYYY-MM-DD", help="re-review dates up to this day (default: today)")
    _format(s)
    s.add_argument("--start", metavar="REF", help="start the re-review of REF: in review again, "
                   "assigned to you, evaluated under the active rule set (reviewer or senior)")  # fmt: skip
    s.add_argument("--reason", metavar="TEXT", help="with --start: why (at least 30 characters)")
    _expect(s)

    s = command("customers", "every customer with its requests: all, open, approved")
    s.add_argument("--search", metavar="TEXT", help="only customers whose name holds TEXT")
    _format(s)

    s = command("customer", "a customer whole: `customer C` shows every request, decision, open "
                "condition and the deployment in total; `customer link|unlink REF C` moves a "
                "request by hand, `customer merge C1 C2` merges C1 into C2 (reviewer or senior)")  # fmt: skip
    s.add_argument("items", nargs="+", metavar="ARG",
                   help="C (a number such as C-12, or a name); or link REF C, unlink REF C, "
                   "merge C1 C2")  # fmt: skip
    _format(s)

    s = command("conditions", "conditions of final decisions")
    s.add_argument("--overdue", action="store_true", help="only open conditions past their due date")
    _format(s)
    csub = s.add_subparsers(dest="conditions_command", parser_class=_Parser, metavar="COMMAND")
    m = csub.add_parser("mark", parents=[common], help="mark a condition met or lapsed")
    m.add_argument("id", type=_whole, metavar="ID", help="the condition's id (see `conditions`)")
    m.add_argument(
        "status",
        choices=[c.value for c in ConditionStatus if c is not ConditionStatus.OPEN],
        help="met or lapsed",
    )
    m.add_argument("--note", required=True, metavar="TEXT", help="what shows it (required)")

    roles = Role.values()
    s = command("users", "accounts and roles")
    usub = s.add_subparsers(dest="users_command", required=True, parser_class=_Parser,
                            metavar="COMMAND")  # fmt: skip
    u = usub.add_parser("list", parents=[common], help="every account with its roles")
    _format(u)
    u = usub.add_parser("add", parents=[common], help="add an account (admin)")
    u.add_argument("name", metavar="NAME", help="the account name (on PostgreSQL: an existing login)")
    u.add_argument(
        "--role", action="append", required=True, choices=roles, help="a role of the account (repeatable)"
    )
    u = usub.add_parser("role", parents=[common], help="give or take away a role (admin)")
    u.add_argument("name", metavar="NAME", help="the account name")
    g = u.add_mutually_exclusive_group(required=True)
    g.add_argument("--add", choices=roles, help="the role to give")
    g.add_argument("--remove", choices=roles, help="the role to take away")
    u = usub.add_parser("disable", parents=[common], help="disable an account (admin)")
    u.add_argument("name", metavar="NAME", help="the account name")

    s = command("export-pdf", "PDF records of final decisions")
    s.add_argument("refs", nargs="*", metavar="REF", help="references whose final decisions to export")
    s.add_argument("--all-decided", action="store_true", help="every final decision")
    s.add_argument("--out", required=True, metavar="DIR", help="the folder to write to")
    s.add_argument("--overwrite", action="store_true", help="replace existing files")
    s.add_argument("--jobs", type=_whole, default=None, metavar="N", help="processes (default: one per core)")

    s = command("report", "the transparency report of a period, as a PDF")
    s.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD",
                   help="the period's first day (UTC)")  # fmt: skip
    s.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD",
                   help="the period's last day (UTC), included")  # fmt: skip
    s.add_argument("--out", required=True, metavar="FILE.pdf",
                   help="the PDF to write (an existing file is replaced)")  # fmt: skip
    _format(s)

    s = command("rules", "rule-set versions and their lifecycle")
    rsub = s.add_subparsers(dest="rules_command", required=True, parser_class=_Parser,
                            metavar="COMMAND")  # fmt: skip
    r = rsub.add_parser("list", parents=[common], help="every stored version and its state")
    _format(r)
    r = rsub.add_parser("show", parents=[common], help="a stored version's text")
    r.add_argument("key", metavar="ID@VER", help="the version, e.g. human-rights@1")
    r = rsub.add_parser("check", parents=[common], help="check a rule-set file (stores nothing)")
    r.add_argument("file", metavar="FILE", help="a rule-set TOML file")
    r = rsub.add_parser("import", parents=[common], help="store a rule-set file as a draft (admin)")
    r.add_argument("file", metavar="FILE", help="a rule-set TOML file")
    r = rsub.add_parser("diff", parents=[common], help="what changes from A to B")
    r.add_argument("a", metavar="A", help="a file or ID@VER")
    r.add_argument("b", metavar="B", help="a file or ID@VER")
    _format(r)
    r = rsub.add_parser(
        "backtest", parents=[common], help="what a candidate would change in the stored requests"
    )
    r.add_argument("candidate", metavar="FILE-or-ID@VER", help="a file or a stored version")
    _format(r)
    r = rsub.add_parser("propose", parents=[common], help="propose a draft for activation (admin)")
    r.add_argument("key", metavar="ID@VER", help="the draft")
    r = rsub.add_parser("approve", parents=[common], help="activate a proposed version (a second admin)")
    r.add_argument("key", metavar="ID@VER", help="the proposed version")

    s = command("settings", "organisation settings")
    ssub = s.add_subparsers(dest="settings_command", required=True, parser_class=_Parser,
                            metavar="COMMAND")  # fmt: skip
    keys = ", ".join(ORG_SETTINGS)
    o = ssub.add_parser("get", parents=[common], help="print a setting")
    o.add_argument("key", metavar="KEY", help=f"the setting ({keys})")
    o = ssub.add_parser("set", parents=[common], help="change a setting (admin)")
    o.add_argument("key", metavar="KEY", help=f"the setting ({keys})")
    o.add_argument("value", metavar="VALUE", help="its new value")

    s = command("db", "the database: schema, first account, backups")
    dbsub = s.add_subparsers(dest="db_command", required=True, parser_class=_Parser,
                             metavar="COMMAND")  # fmt: skip
    dbsub.add_parser("upgrade", parents=[common], help="migrate to the newest schema")
    dbsub.add_parser("current", parents=[common], help="show the schema revision")
    d = dbsub.add_parser("backup", parents=[common], help="online copy of a SQLite database (admin)")
    d.add_argument("file", metavar="FILE", help="the new backup file")
    d = dbsub.add_parser("restore", parents=[common], help="replace the database by a backup (admin)")
    d.add_argument("file", metavar="FILE", help="the backup file")
    d.add_argument(
        "--force",
        action="store_true",
        help="restore a backup that does not verify (the restore event says so)",
    )
    d = dbsub.add_parser("init", parents=[common], help="first account and rule set of a new (team) database")
    d.add_argument("--admin", required=True, metavar="LOGIN", help="the first admin's login")
    return p


# --------------------------------------------------------------------------- opening


def _context(args: argparse.Namespace, write: bool = False, **kwargs: bool) -> Context:
    from reviewer.context import open_context

    ctx = open_context(args.database, args.user, write, shared_engines=True, **kwargs)
    args.opened.append(ctx.db)  # closed by main() when the command ends
    if ctx.backup is not None:
        print(f"database migrated; the previous file was copied to {ctx.backup}", file=sys.stderr)
    if ctx.created:
        print(f"created database {ctx.db.describe()} with first account {ctx.actor.name!r} "
              "(admin, senior, reviewer)")  # fmt: skip
    return ctx


def _dump(data: Any) -> None:
    """JSON for people and programs: lossless, with control and format characters escaped
    (`request.json_safe`), so it is safe on a terminal too."""
    print(json_safe(json.dumps(data, ensure_ascii=False, indent=2, default=str)))


def _dump_list(items: Iterable[Any]) -> None:
    """`_dump` of a list written item by item as it is made, one item a line (the same JSON
    value; CPython's C encoder writes each, which `indent` would switch off)."""
    out = sys.stdout
    out.write("[")
    sep = "\n  "
    for item in items:
        out.write(sep + json_safe(json.dumps(item, ensure_ascii=False, default=str)))
        sep = ",\n  "
    out.write("]\n" if sep == "\n  " else "\n]\n")


# --------------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> int:
    from reviewer.services import importing

    ctx = _context(args, write=True)
    with ctx.db.read() as session:
        limit = importing.import_limit(session)
    # Every file is opened and checked before the writing transaction begins: what is not a
    # regular file (a FIFO, a device, a folder) or is over the limit is refused at once, so no
    # file can hold the write lock while it is awaited (the readers check again as they open).
    files.check_inputs(args.files, limit)
    with ctx.db.write() as session:
        result = importing.import_files(
            session, args.files, ctx.actor, update_existing=args.update, limit_mb=limit
        )
    print(result.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from reviewer.services import queries

    ctx = _context(args)
    with ctx.db.read() as session:
        docs = queries.iter_documents(session, args.refs or None)
        if args.out:
            n = write_export_file(docs, args.format, args.out)
            print(f"exported {n} requests to {args.out}", file=sys.stderr)
        else:
            write_export(docs, args.format, sys.stdout)
    return 0


def _opened(args: argparse.Namespace) -> Database | None:
    """The database if there is one (a reading command never makes one). A SQLite file that
    is not there is seen without loading the database layer."""
    if settings.missing_sqlite_file(args.database):
        return None
    from reviewer.context import existing_database

    db = existing_database(args.database)
    if db is not None:
        args.opened.append(db)
    return db


def _rules_for_files(args: argparse.Namespace, db: Database | None) -> tuple[rules.RuleSet, int]:
    """The rule set request files are judged by (--rules, else the active one, else the
    bundled one) and the import size limit."""
    if args.rules:
        return rules.load_file(args.rules), files.DEFAULT_LIMIT_MB
    if db is None:
        return rules.load_bundled(), files.DEFAULT_LIMIT_MB
    from reviewer.services import importing, rulesets

    with db.read() as session:
        return rulesets.active_rules(session).ruleset, importing.import_limit(session)


def _quick_database(args: argparse.Namespace) -> tuple[Direct, rules.RuleSet, int] | None:
    """A plain SQLite file read without SQLAlchemy (`services.direct`): with its verified
    active rule set and import limit; None when it is not such a file or is not in the order
    that reader knows (the usual way then reads it, and names what is wrong)."""
    path = settings.plain_sqlite_path(settings.resolve_database_url(args.database))
    if args.rules or path is None or not path.is_file():
        return None
    from reviewer.services import direct

    reader = direct.opened(path)
    if reader is None:
        return None
    try:
        return (reader, *reader.rules_and_limit())
    except direct.READ_ERRORS:
        reader.close()
        return None


def _file_totals(args: argparse.Namespace, slim: list[files.Figures], db: Database | None,
                 reader: Direct | None) -> files.FileTotals:  # fmt: skip
    """The customer totals of the files' requests, with the database's when there is one."""
    if reader is not None:
        from reviewer.services import direct

        try:
            return reader.file_totals(slim)
        except direct.READ_ERRORS:
            db = _opened(args)
    if db is None:
        return files.FileTotals(slim)
    from reviewer.services.totals import file_totals

    return file_totals(slim, db)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Two passes over large input: every request validated first (nothing is printed when one
    is invalid), then read again, evaluated and printed one by one, so memory stays flat
    whatever the number of requests (`files.check_files`). A plain SQLite database is read
    without SQLAlchemy when it is in good order (`services.direct`)."""
    quick, db = _quick_database(args), None
    if quick is None:
        db = _opened(args)
        ruleset, limit = _rules_for_files(args, None if args.rules else db)
        reader = None
    else:
        reader, ruleset, limit = quick
    try:
        checked = files.check_files(args.files, limit, files.HOLD_BYTES, figures=ruleset.reads_totals)
        totals = _file_totals(args, checked.slim, db, reader) if ruleset.reads_totals else None
    finally:
        if reader is not None:
            reader.close()
    checked.slim = []
    # A few requests are evaluated by the rules' nodes: compiling the rule set would take longer.
    few = checked.held is not None and ruleset.sooner_by_nodes(len(checked.held))
    results = (_evaluated(ruleset, doc, None if totals is None else totals.get(doc["reference"]), few)
               for doc in files.valid_requests(checked, limit))  # fmt: skip
    if args.format == "json":
        _dump_list(results)
        return 0
    for i, result in enumerate(results):  # escaped (export.text)
        sys.stdout.write(("\n\n" if i else "") + evaluation_text(result))
    sys.stdout.write("\n")
    return 0


def _evaluated(ruleset: rules.RuleSet, doc: dict[str, Any], parts: rules.Parts | None,
               by_nodes: bool = False) -> dict[str, Any]:  # fmt: skip
    result: dict[str, Any] = rules.evaluate_with(ruleset, doc, parts, by_nodes).to_json(doc["reference"])
    if parts is not None:
        result["customer_total"] = parts
    return result


def cmd_verify(args: argparse.Namespace) -> int:
    from reviewer.services import records
    from reviewer.services.verify import verify

    anchor = None
    if args.anchor:
        seq, _, digest = args.anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise UsageError("--anchor takes SEQ:HASH, e.g. 42:3fa9...(64 hex digits)")
        anchor = (int(seq), digest.lower())
    if args.offline or args.cert:
        if not (args.offline and args.pdf and args.cert):
            raise UsageError("--offline checks PDF records without the database: verify --pdf "
                             "FILE... --offline --cert PEM-or-FINGERPRINT")  # fmt: skip
        pdfs = [(path, records.verify_pdf_offline(path, args.cert)) for path in args.pdf]
        return _pdf_report(pdfs, args.format, None)
    ctx = _context(args)
    with ctx.db.read() as session:
        report = verify(session, anchor)
        pdfs = records.verify_pdfs(session, args.pdf or [])
    return _pdf_report(pdfs, args.format, report)


def _pdf_report(pdfs: list[tuple[str, list[str]]], fmt: str, report: VerifyReport | None) -> int:
    """verify's output: the database's report (unless offline), then one line per PDF,
    named as given: `OK FILE` or `PROBLEM FILE: ...`."""
    ok = all(not problems for _path, problems in pdfs) and (report is None or report.ok)
    if fmt == "json":
        out: dict[str, Any] = report.to_json() if report is not None else {}
        out["ok"] = ok
        out["pdfs"] = [{"file": path, "ok": not problems, "problems": problems} for path, problems in pdfs]
        print(json.dumps(out, indent=2))
        return 0 if ok else 1
    if report is not None:
        status = "OK" if report.ok else "PROBLEM"
        print(f"{status}: {report.events} events, {report.decisions} decisions checked")
        for p in report.problems:
            where = f"{p.kind} {p.seq_or_reference}"  # most messages begin with it already
            line = p.message if p.message.startswith(where) else f"{where}: {p.message}"
            print(terminal_safe(f"  {line}"))
    for path, problems in pdfs:
        line = f"OK {path}" if not problems else f"PROBLEM {path}: " + "; ".join(problems)
        print(terminal_safe(line))
    return 0 if ok else 1


def _passphrase(confirm: bool = False) -> bytes:
    """The signing key's passphrase: REVIEWER_KEY_PASSPHRASE, or a prompt at a terminal."""
    from reviewer.services import keys

    value = keys.passphrase_from_environment()
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UsageError(f"the signing key needs its passphrase: set {settings.ENV_KEY_PASSPHRASE} "
                         "or run this at a terminal")  # fmt: skip
    first = getpass.getpass("Signing key passphrase: ").encode("utf-8")
    if confirm and getpass.getpass("Again: ").encode("utf-8") != first:
        raise UsageError("the two passphrases differ")
    return first


def cmd_keys(args: argparse.Namespace) -> int:
    from reviewer.services import keys

    if args.keys_command == "show":
        ctx = _context(args)
        path = settings.signing_key_file()
        with ctx.db.read() as session:
            certs = keys.recorded(session)
        mine = None
        if path.exists():
            passphrase = keys.passphrase_from_environment()
            mine = keys.load(passphrase).fingerprint if passphrase else None
        print(f"key file: {path if path.exists() else 'none on this workstation'}")
        if mine:
            print(f"this workstation signs with: {mine}")
        elif path.exists():
            print(f"(set {settings.ENV_KEY_PASSPHRASE} to show which certificate it holds)")
        print(f"certificates recorded in the database: {len(certs)}")
        for c in certs:
            print(terminal_safe(f"  {c.fingerprint}  {c.subject}  valid until {c.not_after}"))
        return 0
    ctx = _context(args, write=True)
    passphrase = _passphrase(confirm=args.keys_command == "init")
    with ctx.db.write() as session:
        if args.keys_command == "init":
            digest = keys.init(session, ctx.actor, passphrase, new=args.new)
        else:
            digest = keys.import_key(session, ctx.actor, args.file, passphrase)
    print(f"signing key in {settings.signing_key_file()}; certificate {digest} recorded")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from reviewer.services import seeding

    if args.count < 1:
        raise UsageError("--count must be at least 1")
    ctx = _context(args, write=True)
    if args.decisions and not ctx.db.is_sqlite:
        raise NotPermitted("seed-demo --decisions acts in the names of demo accounts, which team "
                           "mode forbids (everyone acts as their own login); seed decisions on "
                           "a SQLite demo database")  # fmt: skip
    with ctx.db.write() as session:
        result = seeding.seed_demo(session, ctx.actor, args.count, args.seed, args.force)
        decided = 0
        if result is not None and args.decisions > 0:
            decided = seeding.seed_decisions(session, ctx.actor, args.decisions, args.seed)
    if result is None:
        print("the database already holds requests: nothing changed (use --force to add more)")
    else:
        made = f" and {decided} decisions" if decided else ""
        print(f"seeded {result.created} demo requests{made} (seed {args.seed}) into "
              f"{ctx.db.describe()}")  # fmt: skip
    return 0


def cmd_export_pdf(args: argparse.Namespace) -> int:
    from reviewer.context import open_database
    from reviewer.services import keys, records
    from reviewer.services import settings as settings_service

    if not args.refs and not args.all_decided:
        raise UsageError("export-pdf needs references or --all-decided")
    ctx = _context(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create {out}: {exc.strerror or exc}") from exc
    with ctx.db.read() as session:
        rows = records.select_decisions(session, args.refs, args.all_decided)
        named = settings_service.is_set(session, "organisation_name")
    if not named:
        print("note: " + settings_service.UNNAMED.format(default=ORG_SETTINGS["organisation_name"].default),
              file=sys.stderr)  # fmt: skip
    targets = records.plan(rows, out, args.overwrite)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)

    def progress(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            print(f"\rexported {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    passphrase = _passphrase() if keys.has_key() else None
    n = records.export_pdfs(functools.partial(open_database, ctx.db.url), targets,
                            jobs=max(1, jobs), progress=progress, passphrase=passphrase)  # fmt: skip
    print(f"wrote {n} PDF records to {out}" + ("" if passphrase else
          " (not signed: an admin runs `reviewer keys init` to sign records)"))  # fmt: skip
    return 0


def _day(option: str, value: str) -> dt.date:
    """A date option: YYYY-MM-DD exactly (a usage error naming the option otherwise)."""
    try:
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} takes a date YYYY-MM-DD, got {value!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    from reviewer.services import keys
    from reviewer.services import report as transparency

    start, end = _day("--from", args.start), _day("--to", args.end)
    ctx = _context(args)
    with ctx.db.read() as session:
        data = transparency.report_data(session, start, end)
    passphrase = _passphrase() if keys.has_key() else None
    key = keys.load(passphrase) if passphrase is not None else None
    transparency.write_report(data, Path(args.out), key)
    signed = (f"signed by certificate {key.fingerprint}" if key is not None else
              "not signed: an admin runs `reviewer keys init` to sign records")  # fmt: skip
    if args.format == "json":
        _dump({**data, "file": args.out, "certificate": key.fingerprint if key is not None else None})
        print(f"wrote {args.out} ({signed})", file=sys.stderr)
    else:
        print(terminal_safe(transparency.summary_text(data), lines=True))
        print(terminal_safe(f"wrote {args.out} ({signed})"))
    return 0


def _rules_write(args: argparse.Namespace) -> int:
    from reviewer.services import rulesets

    if args.rules_command == "import":
        rules.read_file(args.file)  # a FIFO or a device is refused before the write lock
    ctx = _context(args, write=True)
    actor, command = ctx.actor, args.rules_command
    with ctx.db.write() as session:
        if command == "import":
            row, created = rulesets.import_version(session, actor, args.file)
            print(f"{row.key}: {'stored as a draft' if created else 'already stored'} "
                  f"(sha256 {row.sha256})")  # fmt: skip
            return 0
        if command == "propose":
            report = rulesets.propose(session, actor, args.key)
            print(f"{args.key} proposed by {actor.name}; a different admin approves it")
        else:
            report = rulesets.approve(session, actor, args.key)
            print(f"{args.key} is active (approved by {actor.name}); evaluations refreshed")
    print(terminal_safe(rulesets.backtest_text(report), lines=True))
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    command = args.rules_command
    if command == "check":
        ruleset = rules.load_file(args.file)
        examples = sum(len(r.raw.get("examples", [])) for r in ruleset.rules)
        print(terminal_safe(f"{args.file}: {ruleset.key} is well formed: {len(ruleset.rules)} "
                            f"rules, {len(ruleset.parameters)} parameters, {examples} examples "
                            f"pass; sha256 {ruleset.sha256}"))  # fmt: skip
        return 0
    if command in ("import", "propose", "approve"):
        return _rules_write(args)
    from reviewer.services import rulesets

    ctx = _context(args)
    with ctx.db.read() as session:
        if command == "list":
            versions = rulesets.list_versions(session)
            if args.format == "json":
                print(json.dumps(versions, indent=2))
            else:
                for v in versions:
                    done = [
                        (what, who, when)
                        for what, who, when in (
                            ("imported", v["imported_by"], v["imported_at"]),
                            ("proposed", v["proposed_by"], v["proposed_at"]),
                            ("approved", v["approved_by"], v["approved_at"]),
                        )
                        if who
                    ]
                    steps = "; ".join(f"{what} by {who} at {(when or '')[:16]}"
                                      for what, who, when in done)  # fmt: skip
                    print(terminal_safe(f"{v['rule_set']:<24} {v['state']:<9} {v['title']}  [{steps}]"))
            return 0
        if command == "show":
            row = rulesets.get_version(session, args.key)
            print(f"# {row.key} ({row.state.value}), sha256 {row.sha256}")
            print(terminal_safe(row.content, lines=True))
            return 0
        if command == "diff":
            d = rulesets.diff(rulesets.resolve(session, args.a), rulesets.resolve(session, args.b))
            if args.format == "json":
                print(json.dumps(d, indent=2, default=str))
            else:
                print(terminal_safe(rulesets.diff_text(d), lines=True))
            return 0
        report = rulesets.backtest(session, rulesets.resolve(session, args.candidate)).to_json()
    print(json.dumps(report, indent=2) if args.format == "json"
          else terminal_safe(rulesets.backtest_text(report), lines=True))  # fmt: skip
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from reviewer.services.settings import get_setting, set_setting

    if args.settings_command == "get":
        ctx = _context(args)
        with ctx.db.read() as session:
            print(get_setting(session, args.key))
        return 0
    ctx = _context(args, write=True)
    with ctx.db.write() as session:
        value = set_setting(session, ctx.actor, args.key, args.value)
    print(f"{args.key} = {value}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from reviewer.models.db import head_revision, known_revision
    from reviewer.services import accounts, maintenance

    command = args.db_command
    if command == "upgrade":
        ctx = _context(args, write=True)
        print(f"{ctx.db.describe()} is at revision {ctx.db.current_revision()} (head)")
        return 0
    if command == "backup":
        ctx = _context(args, check_schema=False)
        maintenance.backup(ctx.db, ctx.actor, Path(args.file))
        print(f"backed up {ctx.db.describe()} to {args.file}")
        return 0
    if command == "restore":
        ctx = _context(args, check_schema=False)
        restored = maintenance.restore(ctx.db, ctx.actor, Path(args.file), args.force)
        print(f"restored {ctx.db.describe()} from {args.file} (schema revision "
              f"{restored.revision})")  # fmt: skip
        if restored.report is None:
            print("the backup's schema is behind: the next writing command (or reviewer db "
                  "upgrade) migrates it")  # fmt: skip
        else:
            ok = restored.report.ok
            print(
                "verify: "
                + ("OK" if ok else f"{len(restored.report.problems)} problems (restored with --force)")
            )
        return 0
    if command == "init":
        ctx = _context(args, write=True, first_account=False)
        with ctx.db.write() as session:
            accounts.initialise(session, ctx.actor, args.admin, ctx.db)
        print(f"initialised {ctx.db.describe()}: first account {args.admin!r} (admin, senior, "
              "reviewer), rule set activated")  # fmt: skip
        return 0
    ctx = _context(args, check_schema=False)
    current, head = ctx.db.current_revision(), head_revision()
    if current == head:
        state = "up to date"
    elif known_revision(current):
        state = "behind: run reviewer db upgrade"
    else:
        state = "unknown to this program: a newer Reviewer's, or edited by hand"
    print(f"{ctx.db.describe()}: revision {current or 'none'} (head {head}, {state})")
    return 0


def _act(args: argparse.Namespace, fn: Callable[..., Request | Decision], **kwargs: Any) -> str:
    """Run one workflow action: on the version read now (or --expect-version), in one
    writing transaction; a stale version is a conflict (exit 4)."""
    from reviewer.services import accounts, queries

    ctx = _context(args, write=True)
    expect = args.expect_version
    if expect is None:
        with ctx.db.read() as session:
            accounts.require_account(session, ctx.actor)  # who you are before what you asked
            expect = queries.current_version(session, args.ref)
    with ctx.db.write() as session:
        return _summary(fn(session, ctx.actor, args.ref, expect_version=expect, **kwargs))


def _summary(obj: Request | Decision) -> str:
    from reviewer.models import Decision

    if isinstance(obj, Decision):
        state = "final" if obj.final else "awaiting a second check"
        if obj.rejected:
            state = "rejected at check"
        return f"decision {obj.number}: {obj.outcome.value} ({state})"
    return f"{obj.reference}: {obj.status.value}, version {obj.version}"


def cmd_claim(args: argparse.Namespace) -> int:
    from reviewer.services import workflow

    claims = {"claim": workflow.claim, "release": workflow.release, "take-over": workflow.take_over}
    print(_act(args, claims[args.command]))
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from reviewer.services import workflow

    ctx = _context(args, write=True)
    with ctx.db.write() as session:
        seq = workflow.add_note(session, ctx.actor, args.ref, args.text)
    print(terminal_safe(f"note added to {args.ref} (event {seq})"))
    return 0


def cmd_attach(args: argparse.Namespace) -> int:
    from reviewer.services import attachments

    ctx = _context(args, write=True)
    with ctx.db.write() as session:
        done = attachments.attach_files(session, ctx.actor, args.ref, args.files, args.note)
    for item in done:
        print(terminal_safe(item.line()))
    return 0


def cmd_attachments(args: argparse.Namespace) -> int:
    from reviewer.services import queries

    ctx = _context(args)
    with ctx.db.read() as session:
        rows = queries.attachment_rows(session, queries.get_request(session, args.ref).id)
    if args.format == "json":
        _dump(rows)
        return 0
    for r in rows:
        state = f"  REDACTED by {r['redacted_by']} at {utc_text(r['redacted_at'])}" if r["redacted"] else ""
        print(terminal_safe(f"{r['number']:>3}  {r['name']}  {size_words(r['size'], exact=True)}  "
                            f"sha256 {r['sha256'][:16]}...  {utc_text(r['time'])}  {r['author']}"
                            f"{state}"))  # fmt: skip
    print(f"{len(rows)} attachments")
    return 0


def cmd_attachment(args: argparse.Namespace) -> int:
    from reviewer.services import attachments

    if args.attachment_command == "get":
        ctx = _context(args)
        with ctx.db.read() as session:
            item = attachments.save_attachment(session, args.ref, args.number, Path(args.out))
        print(terminal_safe(f"wrote {item.line()} (SHA-256 checked) to {args.out}"))
        return 0
    ctx = _context(args, write=True)
    with ctx.db.write() as session:
        item = attachments.redact(session, ctx.actor, args.ref, args.number, args.reason)
    print(terminal_safe(f"redacted {item.line()}: its bytes are removed; its name, size and "
                        "SHA-256 are kept"))  # fmt: skip
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from reviewer.services import workflow

    try:
        re_review = dt.date.fromisoformat(args.re_review) if args.re_review else None
    except ValueError:
        raise UsageError(f"--re-review takes a date YYYY-MM-DD, got {args.re_review!r}") from None
    conditions = []
    for spec in args.condition:
        try:
            conditions.append(workflow.ConditionInput.parse(spec))
        except ValueError as exc:
            raise UsageError(f"--condition takes TEXT or TEXT@YYYY-MM-DD, got {spec!r}: {exc}") from None
    print(_act(args, workflow.decide, outcome=args.outcome, justification=args.justification,
               conditions=conditions, re_review=re_review))  # fmt: skip
    return 0


def cmd_return(args: argparse.Namespace) -> int:
    from reviewer.services import evaluations, queries, workflow

    if args.draft:
        ctx = _context(args)
        with ctx.db.read() as session:
            e = evaluations.explain_stored(session, queries.get_request(session, args.ref))
        print(terminal_safe(e.draft(), lines=True))
        return 0
    print(_act(args, workflow.return_request, reason=args.reason))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Files are explained under the active rule set (or --rules, or the bundled one), as
    `evaluate` does; references under the stored request's own verified rule set."""
    from reviewer.rules.explain import explainer_for, public

    paths = [] if args.ref else [x for x in args.items if _names_a_file(x)]
    refs = [x for x in args.items if x not in paths]
    if args.rules and refs:
        raise UsageError("--rules applies to files; a stored request is explained under its own rule set")
    results: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = {}
    db = _opened(args) if (refs or not args.rules) else None
    if refs and db is None:
        raise NotFound(f"{refs[0]}: not a file, and there is no database to look it up in")
    if paths:
        ruleset, limit = _rules_for_files(args, db)
        explainer = explainer_for(ruleset)
        for path in paths:  # each file on its own, so the output follows the arguments
            results[path] = [
                (explainer.explain(doc), ruleset.titles) for doc in files.read_valid([path], limit)
            ]
    if refs:
        assert db is not None
        from reviewer.services import evaluations, queries

        with db.read() as session:
            for ref in refs:
                e = evaluations.explain_stored(session, queries.get_request(session, ref))
                results[ref] = [(e.explanation, e.ruleset.titles)]
    ordered = [r for item in dict.fromkeys(args.items) for r in results[item]]
    if args.format == "json":
        _dump([public(e) for e, _t in ordered])
    else:
        print("\n\n".join(explanation_text(e, t) for e, t in ordered))
    return 0


def _names_a_file(item: str) -> bool:
    """An argument of `explain` is a file if it exists, or if it cannot be a reference or
    ends like a request file (a misspelt file name is reported as a file, exit 3)."""
    if os.path.exists(item):
        return True
    return not SHAPES["reference"].fullmatch(item) or item.lower().endswith((".json", ".jsonl", ".csv"))


def cmd_check(args: argparse.Namespace) -> int:
    from reviewer.services import workflow

    if args.reject and not args.reason:
        raise UsageError("check --reject needs --reason TEXT")
    print(_act(args, workflow.check, confirm=args.confirm, reason=args.reason))
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    from reviewer.services import workflow

    print(_act(args, workflow.reopen, reason=args.reason))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from reviewer.services import queries

    ctx = _context(args)
    with ctx.db.read() as session:
        data = queries.show(session, args.ref)
    if args.format == "json":
        _dump(data)
    else:
        print(show_text(data))
    return 0


def cmd_rereview(args: argparse.Namespace) -> int:
    from reviewer.services import queries, workflow

    if args.start is not None:
        if args.reason is None or args.due_by is not None:
            raise UsageError("rereview --start REF needs --reason TEXT (and takes no --due-by)")
        args.ref = args.start
        print(_act(args, workflow.start_rereview, reason=args.reason))
        return 0
    if args.reason is not None or args.expect_version is not None:
        raise UsageError("--reason and --expect-version go with rereview --start REF")
    due_by = _day("--due-by", args.due_by) if args.due_by else None
    ctx = _context(args)
    with ctx.db.read() as session:
        rows = queries.rereview_due(session, due_by)
    if args.format == "json":
        _dump(rows)
        return 0
    for r in rows:
        print(terminal_safe(f"{r['reference']:<20} decision {r['decision']} "
                            f"{Outcome.label_of(r['outcome'])}: {r['why']} — {r['customer']}"))  # fmt: skip
    print(f"{len(rows)} approvals due for re-review")
    return 0


def cmd_customers(args: argparse.Namespace) -> int:
    from reviewer.services import customers

    ctx = _context(args)
    with ctx.db.read() as session:
        rows = customers.customer_rows(session, args.search)
    if args.format == "json":
        _dump(rows)
        return 0
    for r in rows:
        country = r["country"] or "no country"
        print(terminal_safe(f"{r['number']:<8} {r['name']} ({country}): {r['requests']} requests, "
                            f"{r['open']} open, {r['approved']} approved"))  # fmt: skip
    print(f"{len(rows)} customers")
    return 0


CUSTOMER_ACTIONS = {"link": 3, "unlink": 3, "merge": 3}


def cmd_customer(args: argparse.Namespace) -> int:
    from reviewer.services import customers

    items = args.items
    if items[0] in CUSTOMER_ACTIONS and len(items) == CUSTOMER_ACTIONS[items[0]]:
        action, first, second = items
        ctx = _context(args, write=True)
        with ctx.db.write() as session:
            if action == "merge":
                target = customers.merge(session, ctx.actor, first, second)
                done = f"merged {first} into customer C-{target.id} ({target.name})"
            else:
                fn = customers.link if action == "link" else customers.unlink
                moved = fn(session, ctx.actor, first, second)
                done = f"{first}: {action}ed, now customer C-{moved.id} ({moved.name})"
        print(terminal_safe(done))
        return 0
    if len(items) != 1:
        raise UsageError("customer takes C (a number or a name), or link REF C, unlink REF C, "
                         f"merge C1 C2; got {' '.join(items)!r}")  # fmt: skip
    ctx = _context(args)
    with ctx.db.read() as session:
        data = customers.detail(session, customers.resolve(session, items[0]))
    if args.format == "json":
        _dump(data)
    else:
        print(customer_text(data))
    return 0


def cmd_conditions(args: argparse.Namespace) -> int:
    from reviewer.services import queries, workflow

    if args.conditions_command == "mark":
        ctx = _context(args, write=True)
        with ctx.db.write() as session:
            cond = workflow.mark_condition(session, ctx.actor, args.id, args.status, args.note)
            print(f"condition {cond.id}: {cond.status.value}")
        return 0
    ctx = _context(args)
    with ctx.db.read() as session:
        rows = queries.list_conditions(session, overdue=args.overdue)
    if args.format == "json":
        _dump(rows)
    else:
        for r in rows:
            print(terminal_safe(f"{r['id']:>6}  {r['reference']:<20} {r['status']:<7} due "
                                f"{r['due']}  [{r['rule']}] {r['text']}"))  # fmt: skip
        print(f"{len(rows)} conditions" + (" overdue" if args.overdue else ""))
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from reviewer.services import accounts

    if args.users_command == "list":
        ctx = _context(args)
        with ctx.db.read() as session:
            users = accounts.list_users(session)
        if args.format == "json":
            print(json.dumps(users, indent=2))
        else:
            for u in users:
                state = "" if u["active"] else "  (disabled)"
                print(terminal_safe(f"{u['name']:<24} {', '.join(u['roles'])}{state}"))
        return 0
    ctx = _context(args, write=True)
    with ctx.db.write() as session:
        if args.users_command == "add":
            account = accounts.add_user(session, ctx.actor, args.name, args.role)
        elif args.users_command == "role":
            account = accounts.change_role(session, ctx.actor, args.name, args.add, args.remove)
        else:
            account = accounts.disable_user(session, ctx.actor, args.name)
        state = "active" if account.active else "disabled"
        print(f"{account.name}: {', '.join(account.role_names)} ({state})")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "show": cmd_show,
    "note": cmd_note,
    "attach": cmd_attach,
    "attachments": cmd_attachments,
    "attachment": cmd_attachment,
    "rereview": cmd_rereview,
    "customers": cmd_customers,
    "customer": cmd_customer,
    "claim": cmd_claim,
    "release": cmd_claim,
    "take-over": cmd_claim,
    "decide": cmd_decide,
    "return": cmd_return,
    "check": cmd_check,
    "reopen": cmd_reopen,
    "conditions": cmd_conditions,
    "users": cmd_users,
    "export-pdf": cmd_export_pdf,
    "report": cmd_report,
    "settings": cmd_settings,
    "rules": cmd_rules,
    "import": cmd_import,
    "export": cmd_export,
    "evaluate": cmd_evaluate,
    "explain": cmd_explain,
    "verify": cmd_verify,
    "seed-demo": cmd_seed_demo,
    "keys": cmd_keys,
    "db": cmd_db,
}


def _broken_pipe() -> int:
    """The reader of our output went away (`reviewer ... | head`): a quiet exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return 0


_GLOBAL_OPTIONS = ("--database", "--user", "--screenshot")  # each takes a value


def _command_of(argv: Sequence[str] | None) -> str | None:
    """The command a command line names, when that is plain to see: its first argument that
    is not an option, after global options alone (`--database URL`, `--user=NAME`...). None
    for anything else (no command, help, an abbreviated or unknown option before it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _GLOBAL_OPTIONS:
            i += 2
        elif arg.startswith(tuple(f"{option}=" for option in _GLOBAL_OPTIONS)):
            i += 1
        else:
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser(_command_of(argv)).parse_args(argv)
    setup_logging()
    if args.command is None:
        from reviewer import gui

        return gui.run_gui(args.database, args.user, args.screenshot)
    args.opened = []
    if argv is None:  # the process's own command (not a caller's in-process call)
        # A command is one batch: what the start made (modules, the parser) is never garbage,
        # and a bulk command (import, evaluate, verify) allocates containers by the million,
        # most of them kept to the end; the default thresholds would walk them all again and again.
        gc.freeze()
        gc.set_threshold(100_000, 20, 100)
    try:
        return _run(args)
    finally:
        for db in args.opened:
            db.dispose()


def _run(args: argparse.Namespace) -> int:
    """One command, its known errors mapped to their exit codes and anything else logged."""
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
    except InvalidInput as exc:
        for line in exc.lines():  # one line each: text from the input is escaped
            print(terminal_safe(line), file=sys.stderr)
        code = exc.exit_code
    except ReviewerError as exc:
        print(terminal_safe(f"reviewer: {exc}"), file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print("reviewer: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _broken_pipe()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            return _broken_pipe()
        log.exception("unexpected error in %s", args.command)
        print(f"reviewer: unexpected error; details are in {settings.log_file()}", file=sys.stderr)
        return 70
    except Exception:
        log.exception("unexpected error in %s", args.command)
        print(f"reviewer: unexpected error; details are in {settings.log_file()}", file=sys.stderr)
        return 70
    if code in (0, 1):
        log.info("%s: exit %d", args.command, code)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
