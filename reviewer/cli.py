"""The `reviewer` command (`shared/design/cli.md`).

Writing commands bring the database to the newest schema first (copying the file aside);
reading commands never migrate and stop with exit 7 on a schema that is behind.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from reviewer import settings as config
from reviewer.services.audit import Actor
from reviewer.errors import (
    EnvironmentProblem,
    InvalidInput,
    NotPermitted,
    ReviewerError,
    UsageError,
)

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", metavar="URL", help="database URL (default: settings)")
    common.add_argument("--user", metavar="NAME", help="act as this account (SQLite only)")

    p = _Parser(prog="reviewer", parents=[common],
                description="Human-rights review of face recognition sales requests. "
                "Without a command, starts the desktop application.")  # fmt: skip
    p.add_argument("--screenshot", metavar="FILE", help="GUI: save the window as PNG and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("import", parents=[common], help="import request files (all or nothing)")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--update", action="store_true", help="store new versions of known references")

    s = sub.add_parser("export", parents=[common], help="export requests in the request format")
    s.add_argument("refs", nargs="*", metavar="REF")
    s.add_argument("--format", choices=["json", "jsonl", "csv"], required=True)
    s.add_argument("--out", metavar="FILE")

    s = sub.add_parser("evaluate", parents=[common], help="evaluate request files; stores nothing")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--format", choices=["json", "text"], default="text")
    s.add_argument("--rules", metavar="FILE", help="a rule-set TOML file instead of the active one")

    s = sub.add_parser("verify", parents=[common], help="check the audit chain and stored versions")
    s.add_argument("--anchor", metavar="SEQ:HASH")
    s.add_argument("--pdf", nargs="+", metavar="FILE", help="check exported PDF records")
    s.add_argument("--format", choices=["json", "text"], default="text")

    s = sub.add_parser("seed-demo", parents=[common], help="demo data for an empty database")
    s.add_argument("--count", type=int, default=200)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--decisions", type=int, default=0, metavar="K",
                   help="also make K decisions through the workflow (demo accounts)")
    s.add_argument("--force", action="store_true")

    s = sub.add_parser("show", parents=[common], help="a request with its history")
    s.add_argument("ref", metavar="REF")
    s.add_argument("--format", choices=["json", "text"], default="text")

    for name, what in (("claim", "claim a new request"), ("release", "release your claim"),
                       ("take-over", "take over a claim (senior)")):
        s = sub.add_parser(name, parents=[common], help=what)
        s.add_argument("ref", metavar="REF")
        s.add_argument("--expect-version", type=int, metavar="N")

    s = sub.add_parser("decide", parents=[common], help="decide a claimed request")
    s.add_argument("ref", metavar="REF")
    s.add_argument("--outcome", required=True,
                   choices=["approve", "approve_with_conditions", "refuse"])
    s.add_argument("--justification", required=True, metavar="TEXT")
    s.add_argument("--condition", action="append", default=[], metavar="TEXT[@DATE]")
    s.add_argument("--re-review", metavar="DATE")
    s.add_argument("--expect-version", type=int, metavar="N")

    s = sub.add_parser("return", parents=[common], help="return a request for information")
    s.add_argument("ref", metavar="REF")
    s.add_argument("--reason", required=True, metavar="TEXT")
    s.add_argument("--expect-version", type=int, metavar="N")

    s = sub.add_parser("check", parents=[common], help="confirm or reject a decision")
    s.add_argument("ref", metavar="REF")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--confirm", action="store_true")
    g.add_argument("--reject", action="store_true")
    s.add_argument("--reason", metavar="TEXT", default="")
    s.add_argument("--expect-version", type=int, metavar="N")

    s = sub.add_parser("reopen", parents=[common], help="reopen a decided request (senior)")
    s.add_argument("ref", metavar="REF")
    s.add_argument("--reason", required=True, metavar="TEXT")
    s.add_argument("--expect-version", type=int, metavar="N")

    s = sub.add_parser("conditions", parents=[common], help="conditions of final decisions")
    s.add_argument("--overdue", action="store_true")
    s.add_argument("--format", choices=["json", "text"], default="text")
    csub = s.add_subparsers(dest="conditions_command", parser_class=_Parser)
    m = csub.add_parser("mark", parents=[common], help="mark a condition met or lapsed")
    m.add_argument("id", type=int, metavar="ID")
    m.add_argument("status", choices=["met", "lapsed"])
    m.add_argument("--note", required=True, metavar="TEXT")

    s = sub.add_parser("users", parents=[common], help="accounts and roles")
    usub = s.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    u = usub.add_parser("list", parents=[common])
    u.add_argument("--format", choices=["json", "text"], default="text")
    u = usub.add_parser("add", parents=[common])
    u.add_argument("name", metavar="NAME")
    u.add_argument("--role", action="append", required=True, choices=["reviewer", "senior", "admin"])
    u = usub.add_parser("role", parents=[common])
    u.add_argument("name", metavar="NAME")
    g = u.add_mutually_exclusive_group(required=True)
    g.add_argument("--add", choices=["reviewer", "senior", "admin"])
    g.add_argument("--remove", choices=["reviewer", "senior", "admin"])
    u = usub.add_parser("disable", parents=[common])
    u.add_argument("name", metavar="NAME")

    s = sub.add_parser("export-pdf", parents=[common], help="PDF records of final decisions")
    s.add_argument("refs", nargs="*", metavar="REF")
    s.add_argument("--all-decided", action="store_true")
    s.add_argument("--out", required=True, metavar="DIR")
    s.add_argument("--overwrite", action="store_true")
    s.add_argument("--jobs", type=int, default=None, metavar="N", help="processes (default: cores)")

    s = sub.add_parser("rules", parents=[common], help="rule-set versions and their lifecycle")
    rsub = s.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    r = rsub.add_parser("list", parents=[common])
    r.add_argument("--format", choices=["json", "text"], default="text")
    r = rsub.add_parser("show", parents=[common])
    r.add_argument("key", metavar="ID@VER")
    r = rsub.add_parser("check", parents=[common])
    r.add_argument("file", metavar="FILE")
    r = rsub.add_parser("import", parents=[common])
    r.add_argument("file", metavar="FILE")
    r = rsub.add_parser("diff", parents=[common])
    r.add_argument("a", metavar="A")
    r.add_argument("b", metavar="B")
    r.add_argument("--format", choices=["json", "text"], default="text")
    r = rsub.add_parser("backtest", parents=[common])
    r.add_argument("candidate", metavar="FILE-or-ID@VER")
    r.add_argument("--format", choices=["json", "text"], default="text")
    for name in ("propose", "approve"):
        r = rsub.add_parser(name, parents=[common])
        r.add_argument("key", metavar="ID@VER")

    s = sub.add_parser("settings", parents=[common], help="organisation settings")
    ssub = s.add_subparsers(dest="settings_command", required=True, parser_class=_Parser)
    g = ssub.add_parser("get", parents=[common])
    g.add_argument("key")
    g = ssub.add_parser("set", parents=[common])
    g.add_argument("key")
    g.add_argument("value")

    s = sub.add_parser("db", parents=[common], help="database schema")
    dbsub = s.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    dbsub.add_parser("upgrade", parents=[common], help="migrate to the newest schema")
    dbsub.add_parser("current", parents=[common], help="show the schema revision")
    d = dbsub.add_parser("backup", parents=[common], help="online copy of a SQLite database")
    d.add_argument("file", metavar="FILE")
    d = dbsub.add_parser("restore", parents=[common], help="replace the database by a backup")
    d.add_argument("file", metavar="FILE")
    d = dbsub.add_parser("init", parents=[common],
                         help="first account and rule set of a new (team) database")
    d.add_argument("--admin", required=True, metavar="LOGIN")
    return p


def acting_user(args: argparse.Namespace, db: Any = None) -> Actor:
    """Who is acting (workflow.md): on SQLite the OS login, or --user / REVIEWER_USER; on
    PostgreSQL the database login (session_user), and naming another is refused."""
    os_login = _os_login()
    named = args.user or os.environ.get(config.ENV_USER)
    if db is None:
        from reviewer.models.db import Database

        db = Database(config.resolve_database_url(args.database))
    if not db.is_sqlite:
        if named:
            raise NotPermitted(
                "--user and REVIEWER_USER are refused on PostgreSQL: you act as your database "
                "login; connect as that login instead"
            )
        return Actor(name=db.session_user(), os_login=os_login)
    return Actor(name=named or os_login, os_login=os_login)


def _os_login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return str(os.getuid())


def open_for_write(args: argparse.Namespace) -> Any:
    """Open the database for a writing command: migrate (with a copy aside) and, for a new
    database, create the first account and activate the bundled rule set."""
    from reviewer.models.db import Database
    from reviewer.services.importing import bootstrap

    db = Database(config.resolve_database_url(args.database))
    if not db.is_sqlite:
        acting_user(args, db)  # refuses --user before anything else happens
    was_new, backup = db.upgrade()
    if backup is not None:
        print(f"database migrated; the previous file was copied to {backup}", file=sys.stderr)
    if was_new and db.is_sqlite:
        actor = acting_user(args, db)
        with db.write() as session:
            bootstrap(session, actor)
        print(f"created database {db.describe()} with first account {actor.name!r} "
              "(admin, senior, reviewer)")  # fmt: skip
    return db


def _database(args: argparse.Namespace) -> Any:
    from reviewer.models.db import Database

    return Database(config.resolve_database_url(args.database))


def _missing(db: Any) -> bool:
    """A SQLite file that does not exist yet (connecting would create it, empty)."""
    return db.sqlite_path is not None and not db.sqlite_path.exists()


def _existing_database(args: argparse.Namespace) -> Any:
    db = _database(args)
    if _missing(db):
        raise EnvironmentProblem(f"no database at {db.sqlite_path}: import requests or run "
                                 "reviewer db upgrade first")  # fmt: skip
    return db


def open_for_read(args: argparse.Namespace) -> Any:
    db = _existing_database(args)
    db.require_current()
    return db


# --------------------------------------------------------------------------- commands


def cmd_import(args: argparse.Namespace) -> int:
    from reviewer.services.importing import import_files

    db = open_for_write(args)
    with db.write() as session:
        result = import_files(session, args.files, acting_user(args, db),
                              update_existing=args.update)  # fmt: skip
    print(result.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from reviewer.services.importing import iter_documents, write_export

    db = open_for_read(args)
    with db.read() as session:
        docs = iter_documents(session, args.refs or None)
        if args.out:
            tmp = f"{args.out}.part"
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                n = write_export(docs, args.format, fh)
            os.replace(tmp, args.out)
            print(f"exported {n} requests to {args.out}", file=sys.stderr)
        else:
            write_export(docs, args.format, sys.stdout)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from reviewer import intake, rules
    from reviewer import request as rq
    from reviewer.services.importing import ErrorList

    if args.rules:
        ruleset = rules.load_file(args.rules)
    else:
        ruleset = _database_rules(args) or rules.load_bundled()
    errors = ErrorList()
    results = []
    for path in args.files:
        try:
            for rec in intake.read_records(path):
                doc, problems = (None, []) if rec.raw is None else rq.validate(rec.raw)
                problems = rec.problems + problems
                if problems or doc is None:
                    for field, msg in problems:
                        errors.add(intake.format_problem(rec.file, rec.label, field, msg))
                    continue
                results.append(ruleset.evaluate(doc).to_json(doc["reference"]))
        except intake.FileProblem as exc:
            errors.add(str(exc))
    if errors:
        raise errors.error()
    if args.format == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        from reviewer.export.text import evaluation_text

        print("\n\n".join(evaluation_text(r) for r in results))
    return 0


def _database_rules(args: argparse.Namespace) -> Any:
    """The active rule set when a database exists; None otherwise (the bundled default)."""
    from reviewer.services.importing import active_rules

    db = _database(args)
    if _missing(db):
        return None
    db.require_current()
    with db.read() as session:
        return active_rules(session).ruleset


def cmd_verify(args: argparse.Namespace) -> int:
    from reviewer.services.audit import verify

    anchor = None
    if args.anchor:
        seq, _, digest = args.anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise UsageError("--anchor takes SEQ:HASH, e.g. 42:3fa9...(64 hex digits)")
        anchor = (int(seq), digest.lower())
    db = open_for_read(args)
    with db.read() as session:
        report = verify(session, anchor)
        if args.pdf:
            from reviewer.services.audit import Problem
            from reviewer.export import verify_pdf

            for path in args.pdf:
                for message in verify_pdf(session, path):
                    report.problems.append(Problem("pdf", path, message))
            report.ok = not report.problems
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        status = "OK" if report.ok else "PROBLEM"
        print(f"{status}: {report.events} events, {report.decisions} decisions checked")
        for p in report.problems:
            print(f"  {p.kind} {p.seq_or_reference}: {p.message}")
    return 0 if report.ok else 1


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from reviewer.services.importing import seed_demo

    if args.count < 1:
        raise UsageError("--count must be at least 1")
    db = open_for_write(args)
    if args.decisions and not db.is_sqlite:
        raise NotPermitted("seed-demo --decisions acts in the names of demo accounts, which team "
                           "mode forbids (everyone acts as their own login); seed decisions on "
                           "a SQLite demo database")  # fmt: skip
    with db.write() as session:
        result = seed_demo(session, acting_user(args, db), args.count, args.seed, args.force)
        decided = 0
        if result is not None and args.decisions > 0:
            from reviewer.services.workflow import seed_decisions

            decided = seed_decisions(session, acting_user(args, db), args.decisions, args.seed)
    if result is None:
        print("the database already holds requests: nothing changed (use --force to add more)")
    else:
        made = f" and {decided} decisions" if decided else ""
        print(f"seeded {result.created} demo requests{made} (seed {args.seed}) into "
              f"{db.describe()}")
    return 0


def cmd_export_pdf(args: argparse.Namespace) -> int:
    from pathlib import Path

    from reviewer.export import export_pdfs, plan, select_decisions

    if not args.refs and not args.all_decided:
        raise UsageError("export-pdf needs references or --all-decided")
    db = open_for_read(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create {out}: {exc.strerror or exc}") from exc
    with db.read() as session:
        rows = select_decisions(session, args.refs, args.all_decided)
    targets = plan(rows, out, args.overwrite)
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)

    def progress(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            print(f"\rexported {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    n = export_pdfs(db.url, targets, jobs=max(1, jobs), progress=progress)
    print(f"wrote {n} PDF records to {out}")
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from reviewer import rules
    from reviewer.services import rulesets as lifecycle

    command = args.rules_command
    if command == "check":
        ruleset = rules.load_file(args.file)
        examples = sum(len(r.raw.get("examples", [])) for r in ruleset.rules)
        print(f"{args.file}: {ruleset.key} is well formed: {len(ruleset.rules)} rules, "
              f"{len(ruleset.parameters)} parameters, {examples} examples pass; "
              f"sha256 {ruleset.sha256}")  # fmt: skip
        return 0
    if command in ("import", "propose", "approve"):
        db = open_for_write(args)
        actor = acting_user(args, db)
        with db.write() as session:
            if command == "import":
                row, created = lifecycle.import_version(session, actor, args.file)
                print(f"{row.key}: {'stored as a draft' if created else 'already stored'} "
                      f"(sha256 {row.sha256})")  # fmt: skip
                return 0
            if command == "propose":
                report = lifecycle.propose(session, actor, args.key)
                print(f"{args.key} proposed by {actor.name}; a different admin approves it")
            else:
                report = lifecycle.approve(session, actor, args.key)
                print(f"{args.key} is active (approved by {actor.name}); evaluations refreshed")
        print(lifecycle.backtest_text(report))
        return 0
    db = open_for_read(args)
    with db.read() as session:
        if command == "list":
            rows = lifecycle.list_versions(session)
            if args.format == "json":
                print(json.dumps(rows, indent=2))
            else:
                for r in rows:
                    who = "; ".join(f"{k.split('_')[0]} by {r[k]} at {(r[k[:-3] + '_at'] or '')[:16]}"
                                    for k in ("imported_by", "proposed_by", "approved_by") if r[k])
                    print(f"{r['rule_set']:<24} {r['state']:<9} {r['title']}  [{who}]")
            return 0
        if command == "show":
            row = lifecycle.get_version(session, args.key)
            print(f"# {row.key} ({row.state.value}), sha256 {row.sha256}")
            print(row.content)
            return 0
        if command == "diff":
            d = lifecycle.diff(lifecycle.resolve(session, args.a), lifecycle.resolve(session, args.b))
            print(json.dumps(d, indent=2, default=str) if args.format == "json"
                  else lifecycle.diff_text(d))  # fmt: skip
            return 0
        report = lifecycle.backtest(session, lifecycle.resolve(session, args.candidate)).to_json()
    print(json.dumps(report, indent=2) if args.format == "json"
          else lifecycle.backtest_text(report))  # fmt: skip
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from reviewer.export import get_setting, set_setting

    if args.settings_command == "get":
        db = open_for_read(args)
        with db.read() as session:
            print(get_setting(session, args.key))
        return 0
    db = open_for_write(args)
    with db.write() as session:
        set_setting(session, acting_user(args, db), args.key, args.value)
    print(f"{args.key} = {args.value.strip()}")
    return 0


def _backup_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from reviewer.services.audit import Chain, verify
    from reviewer.models.db import Database
    from reviewer.services.importing import require_account

    db = Database(config.resolve_database_url(args.database))
    if not db.is_sqlite:
        raise UsageError("on PostgreSQL, back up with pg_dump -Fc and restore with pg_restore "
                         "(see the README, Team mode)")  # fmt: skip
    path = db.sqlite_path
    if path is None or not path.exists():
        raise EnvironmentProblem(f"no database at {path}")
    actor = acting_user(args, db)
    target = Path(args.file)
    with db.read() as session:
        account = require_account(session, actor)
        if "admin" not in account.role_names:
            raise NotPermitted(f"{actor.name} is not an admin: only an admin backs up or restores")
    if args.db_command == "backup":
        db.backup_to(target)
        print(f"backed up {db.describe()} to {target}")
        return 0
    if not target.exists():
        raise EnvironmentProblem(f"no backup at {target}")
    db.restore_from(target)
    restored = Database(db.url)
    print(f"restored {db.describe()} from {target} (schema revision "
          f"{restored.current_revision()})")  # fmt: skip
    if restored.is_current():
        with restored.read() as session:
            report = verify(session)
        print("verify: " + ("OK" if report.ok else f"{len(report.problems)} problems"))
        with restored.write() as session:
            chain = Chain(session, actor)
            chain.append("restore", None, {"from": str(target)})
            chain.close()
    else:
        print("the backup's schema is behind: the next writing command (or reviewer db "
              "upgrade) migrates it")  # fmt: skip
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from reviewer.models.db import head_revision

    if args.db_command == "upgrade":
        db = open_for_write(args)
        print(f"{db.describe()} is at revision {db.current_revision()} (head)")
        return 0
    if args.db_command in ("backup", "restore"):
        return _backup_restore(args)
    if args.db_command == "init":
        from reviewer.services.importing import initialise

        db = _database(args)
        db.upgrade()
        actor = acting_user(args, db)
        with db.write() as session:
            initialise(session, actor, args.admin, db)
        print(f"initialised {db.describe()}: first account {args.admin!r} (admin, senior, "
              "reviewer), rule set activated")  # fmt: skip
        return 0
    db = _existing_database(args)
    current = db.current_revision()
    head = head_revision()
    state = "up to date" if current == head else "behind: run reviewer db upgrade"
    print(f"{db.describe()}: revision {current or 'none'} (head {head}, {state})")
    return 0


def _act(args: argparse.Namespace, fn: Any, **kwargs: Any) -> Any:
    """Run one workflow action: on the version read now (or --expect-version), in one
    writing transaction; a stale version is a conflict (exit 4)."""
    from reviewer.services.workflow import current_version

    db = open_for_write(args)
    actor = acting_user(args, db)
    expect = getattr(args, "expect_version", None)
    if expect is None:
        from reviewer.services.importing import require_account

        with db.read() as session:
            require_account(session, actor)  # who you are comes before what you asked for
            expect = current_version(session, args.ref)
    with db.write() as session:
        result = fn(session, actor, args.ref, expect_version=expect, **kwargs)
        summary = _summary(result)
    return summary


def _summary(obj: Any) -> str:
    from reviewer.models import Decision

    if isinstance(obj, Decision):
        state = "final" if obj.final else "awaiting a second check"
        if obj.rejected:
            state = "rejected at check"
        return f"decision {obj.number}: {obj.outcome.value} ({state})"
    return f"{obj.reference}: {obj.status.value}, version {obj.version}"


def cmd_claim(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review

    fn = {"claim": review.claim, "release": review.release, "take-over": review.take_over}
    print(_act(args, fn[args.command]))
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    import datetime as dt

    from reviewer.services import workflow as review

    try:
        re_review = dt.date.fromisoformat(args.re_review) if args.re_review else None
    except ValueError:
        raise UsageError(f"--re-review takes a date YYYY-MM-DD, got {args.re_review!r}") from None
    conditions = [review.ConditionInput.parse(c) for c in args.condition]
    print(_act(args, review.decide, outcome=args.outcome, justification=args.justification,
               conditions=conditions, re_review=re_review))  # fmt: skip
    return 0


def cmd_return(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review

    print(_act(args, review.return_request, reason=args.reason))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review

    if args.reject and not args.reason:
        raise UsageError("check --reject needs --reason TEXT")
    print(_act(args, review.check, confirm=args.confirm, reason=args.reason))
    return 0


def cmd_reopen(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review

    print(_act(args, review.reopen, reason=args.reason))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review
    from reviewer.export.text import show_text

    db = open_for_read(args)
    with db.read() as session:
        data = review.show(session, args.ref)
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(show_text(data))
    return 0


def cmd_conditions(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review

    if args.conditions_command == "mark":
        db = open_for_write(args)
        with db.write() as session:
            cond = review.mark_condition(session, acting_user(args, db), args.id, args.status,
                                         args.note)  # fmt: skip
            print(f"condition {cond.id}: {cond.status.value}")
        return 0
    db = open_for_read(args)
    with db.read() as session:
        rows = review.list_conditions(session, overdue=args.overdue)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['id']:>6}  {r['reference']:<20} {r['status']:<7} due {r['due']}  "
                  f"[{r['rule']}] {r['text']}")  # fmt: skip
        print(f"{len(rows)} conditions" + (" overdue" if args.overdue else ""))
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from reviewer.services import workflow as review

    if args.users_command == "list":
        db = open_for_read(args)
        with db.read() as session:
            rows = review.list_users(session)
        if args.format == "json":
            print(json.dumps(rows, indent=2))
        else:
            for r in rows:
                state = "" if r["active"] else "  (disabled)"
                print(f"{r['name']:<24} {', '.join(r['roles'])}{state}")
        return 0
    db = open_for_write(args)
    actor = acting_user(args, db)
    with db.write() as session:
        if args.users_command == "add":
            account = review.add_user(session, actor, args.name, args.role)
        elif args.users_command == "role":
            account = review.change_role(session, actor, args.name, args.add, args.remove)
        else:
            account = review.disable_user(session, actor, args.name)
        state = "active" if account.active else "disabled"
        print(f"{account.name}: {', '.join(account.role_names)} ({state})")
    return 0


COMMANDS = {
    "show": cmd_show,
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
    "settings": cmd_settings,
    "rules": cmd_rules,
    "import": cmd_import,
    "export": cmd_export,
    "evaluate": cmd_evaluate,
    "verify": cmd_verify,
    "seed-demo": cmd_seed_demo,
    "db": cmd_db,
}


def setup_logging() -> None:
    """Failures nobody can act on go, with their traceback, to a log file in the data folder."""
    from logging.handlers import RotatingFileHandler

    try:
        path = config.log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                       encoding="utf-8")  # fmt: skip
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    if args.command is None:
        from reviewer.gui import run_gui

        return run_gui(args)
    try:
        return COMMANDS[args.command](args)
    except InvalidInput as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return exc.exit_code
    except ReviewerError as exc:
        print(f"reviewer: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reviewer: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception:
        log.exception("unexpected error in %s", args.command)
        print(f"reviewer: unexpected error; details are in {config.log_file()}", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
