"""Hostile and malformed input, in process: every attack ends in a clear one-line error with
the exit code of cli.md (nothing written, nothing logged as a bug), or is refused by a stated
limit; terminal output cannot be hijacked by the text it shows. (FIFOs, devices, pipes into
`head`, full disks and memory: tests/system/test_hostile_processes.py.)"""

from __future__ import annotations

import copy
import json
import os
import random
import sqlite3
import time
from pathlib import Path

import pytest

from reviewer import intake, settings
from reviewer import request as rq
from reviewer.cli import main as cli_main
from reviewer.errors import InvalidInput
from reviewer.rules import MAX_RULE_SET_TERMS, MAX_RULES, bundled_text, load_file, load_text
from reviewer.rules.lang import MAX_DEPTH, MAX_TERMS
from tests.helpers.documents import CLEAN  # a request on which no rule fires

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "resources" / "rulesets" / "human-rights-2.toml"
URL_FORMS = "sqlite:///PATH or postgresql+psycopg://LOGIN@HOST/DB"


JUSTIFICATION = "Nothing stands in the way: every fact is known and harmless."
# What a terminal must never be handed raw (ESC starts colour and cursor sequences).
RAW_CONTROLS = [
    "\x1b",
    "\x9b",
    "\x7f",
    "\x85",
    "\u202e",
    "\u2066",
    "\u200f",
    "\u061c",
    "\ufeff",
    "\U000e0001",
]


def doc(**changes) -> dict:
    d = copy.deepcopy(CLEAN)
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if key:
            d[section][key] = value
        else:
            d[section] = value
    return d


def write(path: Path, data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return str(path)


def no_bug_logged() -> None:
    log = settings.log_file()
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert "Traceback" not in text and "unexpected error" not in text, text


def refused(cli, code: int, *args: str, expect: str | list[str], user: str | None = None) -> str:
    """Run a command that must fail with `code` and one line naming the problem, writing
    nothing (the database dump is the same before and after) and logging no bug."""
    before = cli.dump() if cli.db_path.exists() else None
    got, out, err = cli(*args, user=user)
    assert got == code, (got, out, err)
    for part in [expect] if isinstance(expect, str) else expect:
        assert part in err, err
    assert "unexpected error" not in err and "Traceback" not in err, err
    if before is not None:
        assert cli.dump() == before
    no_bug_logged()
    return err


@pytest.fixture
def db(cli):
    """A database holding one clean request (the first account is an admin)."""
    code, _out, err = cli("seed-demo", "--count", "2")
    assert code == 0, err
    return cli


# --------------------------------------------------------------------------- lone surrogates


SURROGATE_FILES = {
    "one.json": (
        '{"reference":"R-1","received_on":"2026-01-01","customer":{"name":"A\\ud800B"}}',
        ": customer.name: a lone surrogate (\\ud800) is not a character",
    ),
    "array.json": (
        '[{"reference":"R-1","received_on":"2026-01-01","customer":{"name":"A","city":"\\udfff"}}]',
        ":#1: customer.city: a lone surrogate (\\udfff)",
    ),
    "lines.jsonl": (
        '{"reference":"R-1","received_on":"2026-01-01","customer":{"name":"A"},'
        '"use":{"description":"x\\udc00y"}}\n',
        ":1: use.description: a lone surrogate (\\udc00)",
    ),
    # In CSV only a JSON cell can hold one (UTF-8 itself cannot encode a surrogate).
    "cell.csv": (
        'reference,received_on,customer.name,end_users\nR-1,2026-01-01,A,"[{""name"":""\\ud83d""}]"\n',
        ":2: end_users[0].name: a lone surrogate (\\ud83d)",
    ),
    "key.json": (
        '{"reference":"R-1","received_on":"2026-01-01","customer":{"name":"A","\\ud800":1}}',
        ": customer.\\ud800: unknown field",
    ),
}


@pytest.mark.parametrize("name", sorted(SURROGATE_FILES))
def test_a_lone_surrogate_is_invalid_input_naming_file_record_and_field(db, tmp_path, name):
    text, message = SURROGATE_FILES[name]
    path = write(tmp_path / name, text)
    err = refused(db, 3, "import", path, expect=path + message)
    assert len(err.splitlines()) == 1
    code, _out, err = db("evaluate", path)
    assert code == 3 and path + message in err, err
    no_bug_logged()


def test_a_lone_surrogate_is_refused_by_validation_and_an_escaped_pair_is_a_character():
    _doc, problems = rq.validate(
        {"reference": "R-1", "received_on": "2026-01-01", "customer": {"name": "\ud800"}}
    )
    assert problems == [
        ("customer.name", "a lone surrogate (\\ud800) is not a character: not allowed in text")
    ]
    good, problems = rq.validate(
        rq.loads(
            '{"reference": "R-1", "received_on": "2026-01-01", "customer": {"name": "smile \\ud83d\\ude00"}}'
        )
    )
    assert problems == [] and good is not None and good["customer"]["name"] == "smile \U0001f600"


# --------------------------------------------------------------------------- rule files


def ruleset(
    when: str = "customer.is_reseller = true", extra: str = "", top: str = "", rule_extra: str = ""
) -> str:
    return (
        f'id = "t"\nversion = 1\ntitle = "t"\n{top}\n'
        f"{extra}\n"
        '[[rules]]\nid = "R-1"\ntitle = "x"\noutcome = "escalate_second"\nsource = "s"\n'
        f"when = {json.dumps(when)}\n{rule_extra}"
    )


def chain(n: int, op: str) -> str:
    return f" {op} ".join(f"scale.cameras > {i}" for i in range(n))


def definitions_doubling(n: int) -> str:
    lines = ["[definitions]", 'd0 = "scale.cameras > 1"']
    lines += [f'd{i} = "d{i - 1} and d{i - 1}"' for i in range(1, n)]
    return "\n".join(lines)


BAD_RULE_SETS = {
    "meets-a-number": (
        ruleset("use.operations meets 5"),
        "rule R-1: when: use.operations meets 5: meets takes two lists of values, "
        "got a list of values and a number",
    ),
    "text-greater-than-a-number": (
        ruleset("customer.country > 5"),
        "rule R-1: when: customer.country > 5: > takes two numbers",
    ),
    "a-number-equal-to-text": (
        ruleset("scale.cameras = 'many'"),
        "rule R-1: when: scale.cameras = 'many': = takes two values of one kind, got a number and text",
    ),
    "in-a-number": (ruleset("customer.country in 5"), "rule R-1: when: customer.country in 5"),
    "a-date-parameter": (
        ruleset("received_on > d", top="[parameters]\nd = 2026-01-01"),
        "rule R-1: when: received_on > d: > takes two numbers",
    ),
    "places-that-are-numbers": (
        ruleset("place_in(customer, p)", top="[parameters]\np = [1, 2]"),
        "rule R-1: when: place_in() takes a parameter listing places",
    ),
    "900-parentheses": (
        ruleset("(" * 900 + "customer.is_reseller = true" + ")" * 900),
        f"rule R-1: when: nested too deeply at position {MAX_DEPTH}: at most {MAX_DEPTH} levels",
    ),
    "5000-nots": (
        ruleset("not " * 5000 + "customer.is_reseller = true"),
        "rule R-1: when: nested too deeply at position",
    ),
    "200-somes": (
        ruleset("some end_users (" * 200 + "org_type = 'police'" + ")" * 200),
        "rule R-1: when: nested too deeply at position",
    ),
    "a-deep-definition": (
        ruleset(
            "d70",
            top='[definitions]\nd0 = "scale.cameras > 1"\n'
            + "\n".join(f'd{i} = "not d{i - 1}"' for i in range(1, 71)),
        ),
        "definition d",
    ),
    "definitions-that-double": (
        ruleset("d20", top=definitions_doubling(21)),
        f"definition d11: too large: more than {MAX_TERMS} terms",
    ),
    "a-chain-over-the-limit": (
        ruleset(chain(MAX_TERMS + 1, "and")),
        f"rule R-1: when: too large: more than {MAX_TERMS} terms",
    ),
    "rules-is-a-number": (
        'id = "t"\nversion = 1\nrules = 5\n',
        "rules: expected a list of rules ([[rules]] tables)",
    ),
    "definitions-is-a-list": (
        'id = "t"\nversion = 1\ndefinitions = [1]\n' + ruleset().split('title = "t"\n', 1)[1],
        'definitions: expected a table of name = "condition"',
    ),
    "examples-not-tables": (
        ruleset(rule_extra='examples = [1, "x"]'),
        "rule R-1: examples: expected a list of tables",
    ),
    "examples-a-number": (
        ruleset(rule_extra="examples = 5"),
        "rule R-1: examples: expected a list of tables",
    ),
    "an-example-request-not-a-table": (
        ruleset(rule_extra='examples = [{name = "a", expect = "none", request = 5}]'),
        "rule R-1: example 'a': request: expected a table",
    ),
    "instead-not-tables": (
        ruleset(rule_extra="instead = [5]"),
        "rule R-1: instead: expected a list of tables",
    ),
    "adds-not-a-list": (ruleset(rule_extra='adds = "x"'), "rule R-1: adds: expected a list"),
    "nan-parameter": (ruleset(top="[parameters]\nx = nan"), "parameters.x: nan and inf are not allowed"),
    "deep-toml": (
        'id = "t"\nversion = 1\nx = ' + "[" * 5000 + "]" * 5000 + "\n",
        "not valid TOML: nested too deeply",
    ),
    "an-id-with-a-nul-and-a-path": (
        ruleset().replace('id = "t"', 'id = "../../x\\u0000"', 1),
        'id: 1 to 64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got "../../x\\u0000"',
    ),
    "a-version-no-database-holds": (
        ruleset().replace("version = 1", "version = 99999999999999999999999", 1),
        "version: at most 2,147,483,647, got 99999999999999999999999",
    ),
    "a-title-too-long": (
        ruleset().replace('title = "t"', 'title = "' + "t" * 301 + '"', 1),
        "title: text of at most 300 characters, no NUL",
    ),  # fmt: skip
    "too-many-rules": (
        'id = "t"\nversion = 1\n'
        + "".join(
            f'[[rules]]\nid = "R-{i}"\ntitle = "x"\noutcome = "escalate_second"\nsource = "s"\n'
            'when = "customer.is_reseller = true"\n'
            for i in range(MAX_RULES + 1)
        ),
        f"rules: too many: {MAX_RULES + 1} rules, more than {MAX_RULES}",
    ),
    "too-many-terms-in-all": (
        'id = "t"\nversion = 1\n'
        + "".join(
            f'[[rules]]\nid = "R-{i}"\ntitle = "x"\noutcome = "escalate_second"\nsource = "s"\n'
            f'when = "{chain(1000, "or")}"\n'
            for i in range(MAX_RULE_SET_TERMS // 1000 + 1)
        ),
        f"rules: too large: {(MAX_RULE_SET_TERMS // 1000 + 1) * 1000} terms in all, more than "
        f"{MAX_RULE_SET_TERMS}",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_RULE_SETS))
def test_a_bad_rule_set_is_invalid_input_naming_the_rule_or_key(db, tmp_path, name):
    text, message = BAD_RULE_SETS[name]
    path = write(tmp_path / f"{name}.toml", text)
    sample = write(tmp_path / "one.json", json.dumps(CLEAN))
    err = refused(db, 3, "rules", "check", path, expect=f"{path}: {message}")
    assert err.splitlines()[0].startswith(f"{path}: ")
    refused(db, 3, "rules", "import", path, expect=f"{path}: {message}")
    refused(db, 3, "evaluate", sample, "--rules", path, expect=f"{path}: {message}")


def test_the_bundled_rule_set_still_checks():
    assert cli_main(["rules", "check", str(BUNDLED)]) == 0
    load_text(bundled_text())


def test_a_chain_at_the_limit_compiles_fast_and_decides_like_the_nodes():
    for op in ("and", "or"):
        started = time.perf_counter()
        rs = load_text(ruleset(chain(MAX_TERMS, op)))
        assert time.perf_counter() - started < 2.0
        for cameras, want in ((5000, True), (MAX_TERMS - 1, op == "or"), (0, False), (None, None)):
            d = copy.deepcopy(CLEAN)
            if cameras is None:
                del d["scale"]["cameras"]
            else:
                d["scale"]["cameras"] = cameras
            ev = rs.evaluate(d)
            assert ev.to_json("x") == rs.evaluate_interpreted(d).to_json("x")
            fired = [f for f in ev.findings if f.rule.id == "R-1"]
            if want is None:
                assert fired and fired[0].outcome == "needs_information"
                assert fired[0].missing == ("scale.cameras",)
            else:
                assert bool(fired) is want and (not fired or fired[0].outcome == "escalate_second")


def test_nesting_at_the_limit_is_accepted_and_one_more_level_is_refused():
    ok = "not " * MAX_DEPTH + "customer.is_reseller = true"
    rs = load_text(ruleset(ok))
    d = copy.deepcopy(CLEAN)
    assert rs.evaluate(d).to_json("x") == rs.evaluate_interpreted(d).to_json("x")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        load_text(ruleset("not " + ok))
    parens = "(" * MAX_DEPTH + "customer.is_reseller = true" + ")" * MAX_DEPTH
    load_text(ruleset(parens))
    with pytest.raises(InvalidInput, match="nested too deeply"):
        load_text(ruleset("(" + parens + ")"))


# Conditions of every shape the compiler treats differently (long and/or, deep nesting,
# quantifiers, definitions), checked against the nodes on random requests.
ATOMS = [
    "scale.cameras > {n}",
    "scale.sites <= {n}",
    "customer.is_reseller = true",
    "use.real_time = 'real_time'",
    "'identification' in use.operations",
    "unknown(scale.sites)",
    "known(scale.cameras, customer.country)",
    "customer.country in {{'US', 'DE'}}",
    "empty(end_users)",
    "LE",
    "use.operations meets {{'identification', 'verification'}}",
    "customer.name contains_word terms",
    "place_in(customer, places)",
]
ITEM_ATOMS = [
    "org_type = 'police'",
    "country = 'US'",
    "country = customer.country",
    "name contains_word terms",
]


def _condition(rnd: random.Random, depth: int, budget: list[int], item: bool = False) -> str:
    if depth <= 0 or budget[0] <= 1 or rnd.random() < 0.2:
        budget[0] -= 1
        return rnd.choice(ITEM_ATOMS + ATOMS[:8] if item else ATOMS).format(n=rnd.randint(0, 20))
    r = rnd.random()
    if r < 0.15:
        return "not " + _condition(rnd, depth - 1, budget, item)
    if r < 0.3 and not item:
        return (
            ("some end_users (" if r < 0.25 else "every parties (")
            + _condition(rnd, depth - 1, budget, True)
            + ")"
        )
    parts = [
        _condition(rnd, depth - 1 if i == 0 else min(depth - 1, rnd.randint(0, 2)), budget, item)
        for i in range(rnd.choice([2, 3, 9, 12, 65]))
    ]
    return "(" + rnd.choice([" and ", " or "]).join(parts) + ")"


def _request(rnd: random.Random) -> dict:
    d: dict = {"reference": "R", "customer": {"name": rnd.choice(["Polizei Nord", "Shop"])}}
    c = d["customer"]
    for key, values in (
        ("country", ["US", "DE", "FR"]),
        ("region", ["OR", "IL"]),
        ("city", ["Portland", "x"]),
        ("org_type", ["police", "company"]),
        ("is_reseller", [True, False]),
    ):
        if rnd.random() < 0.7:
            c[key] = rnd.choice(values)
    if rnd.random() < 0.8:
        d["scale"] = {k: rnd.randint(0, 20) for k in ("cameras", "sites") if rnd.random() < 0.7}
    if rnd.random() < 0.8:
        d["use"] = {
            k: v
            for k, v in (
                ("real_time", rnd.choice(["none", "real_time"])),
                ("operations", sorted(rnd.sample(["identification", "verification"], rnd.randint(0, 2)))),
                ("law_enforcement_purpose", rnd.random() < 0.5),
            )
            if rnd.random() < 0.7
        }
    if rnd.random() < 0.7:
        d["end_users"] = [
            {
                k: rnd.choice(v)
                for k, v in (
                    ("org_type", ["police", "company"]),
                    ("country", ["US", "DE"]),
                    ("name", ["Sheriff's office", "x"]),
                )
                if rnd.random() < 0.7
            }
            for _ in range(rnd.randint(0, 3))
        ]
    return d


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_evaluation_agrees_with_the_nodes_on_every_shape(seed):
    rnd = random.Random(seed)
    top = (
        '[parameters]\nterms = ["police", "sheriff"]\n'
        'places = [{country = "US", region = "OR", city = "Portland"}]\n'
        "[definitions]\nLE = \"customer.org_type = 'police' or use.law_enforcement_purpose = true\""
    )
    rules = "".join(
        f'[[rules]]\nid = "R-{i}"\ntitle = "t"\noutcome = "escalate_second"\nsource = "s"\n'
        f'when = "{_condition(rnd, rnd.choice([3, 6, 12]), [400])}"\n'
        f'instead = [{{ when = "{_condition(rnd, 3, [40])}", outcome = "escalate_senior" }}]\n'
        f'adds = [{{ text = "c{i}", when = "{_condition(rnd, 3, [40])}" }}]\n'
        for i in range(4)
    )
    rs = load_text(f'id = "f"\nversion = 1\n{top}\n{rules}')
    for _ in range(150):
        d = _request(rnd)
        want = rs.evaluate_interpreted(d).to_json("x")
        assert rs.evaluate(d).to_json("x") == want
        assert rs.evaluate(d).to_json("x") == want  # again, from the findings remembered


# --------------------------------------------------------------------------- --database


BAD_URLS = {
    "postgresql+psycopg://a:secret@host:notaport/x": "'postgresql+psycopg://a:***@host:notaport/x'",
    "nonsense://": "'nonsense://': not a SQLite or PostgreSQL URL",
    "/tmp/x.db": "'/tmp/x.db': not a database URL (for a SQLite file there, write sqlite:////tmp/x.db)",
    "sqlite://": "a SQLite URL needs the path of its file",
    "postgresql+nodriver://a@b/c": "cannot use this driver",
    "mysql://a@b/c": "not a SQLite or PostgreSQL URL",
}


URL_IDS = {
    "postgresql+psycopg://a:secret@host:notaport/x": "port-not-a-number",
    "nonsense://": "unknown-scheme",
    "/tmp/x.db": "plain-path",
    "sqlite://": "no-file",
    "postgresql+nodriver://a@b/c": "unknown-driver",
    "mysql://a@b/c": "other-database",
}


@pytest.mark.parametrize("url", sorted(BAD_URLS), ids=URL_IDS.get)
@pytest.mark.parametrize(
    "command", [["show", "R-1"], ["import", "x.json"], ["evaluate", "x.json"], ["db", "current"]]
)
def test_a_malformed_database_url_is_a_usage_error_saying_what_a_url_looks_like(capsys, url, command):
    code = cli_main([*command, "--database", url])
    _out, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("reviewer: --database '") and err.count("\n") == 1, err
    assert BAD_URLS[url] in err and URL_FORMS in err, err
    assert "secret" not in err
    no_bug_logged()


def test_a_plain_path_in_the_environment_names_where_it_came_from(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEWER_DATABASE_URL", str(tmp_path / "x.db"))
    assert cli_main(["show", "R-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reviewer: REVIEWER_DATABASE_URL '{tmp_path / 'x.db'}': not a database URL")
    assert URL_FORMS in err and not (tmp_path / "x.db").exists()


# --------------------------------------------------------------------------- writing files


def test_export_to_a_folder_that_cannot_be_written_is_exit_7_and_leaves_no_part(db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for out in (tmp_path / "missing" / "x.jsonl", blocker / "x.jsonl"):
        refused(
            db,
            7,
            "export",
            "--format",
            "jsonl",
            "--out",
            str(out),
            expect=[f"reviewer: cannot write {out}: ", "nothing was written"],
        )
        assert not out.exists() and not Path(f"{out}.part").exists()


def test_a_disk_that_fills_while_exporting_leaves_no_part(db, tmp_path, monkeypatch):
    from reviewer.export import documents

    real = documents.write_export

    def fills(docs, fmt, fh):
        real(docs, fmt, fh)
        fh.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(documents, "write_export", fills)
    out = tmp_path / "x.jsonl"
    refused(
        db,
        7,
        "export",
        "--format",
        "jsonl",
        "--out",
        str(out),
        expect=f"reviewer: cannot write {out}: No space left on device (free some space "
        "and try again); nothing was written",
    )
    assert list(tmp_path.glob("x.jsonl*")) == []


def test_export_pdf_to_a_path_under_a_file_is_exit_7(db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    refused(
        db,
        7,
        "export-pdf",
        "--all-decided",
        "--out",
        str(blocker / "pdfs"),
        expect=f"cannot create {blocker / 'pdfs'}",
    )


# --------------------------------------------------------------------------- restore


def test_restoring_a_backup_of_a_newer_schema_is_refused_before_anything_changes(db, tmp_path):
    backup = tmp_path / "backup.db"
    code, _out, err = db("db", "backup", str(backup))
    assert code == 0, err
    conn = sqlite3.connect(backup)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.close()
    before = db.dump()
    err = refused(db, 7, "db", "restore", str(backup), expect=["9999_from_the_future", "newer"])
    assert len(err.splitlines()) == 1
    assert db.dump() == before
    assert not list(tmp_path.glob(".reviewer.db.restore*"))


# --------------------------------------------------------------------------- hostile files


def test_a_folder_is_refused_before_anything_is_read(db, tmp_path):
    folder = tmp_path / "requests.json"
    folder.mkdir()
    refused(db, 3, "import", str(folder), expect=f"{folder}: not a regular file (a folder)")
    refused(db, 3, "evaluate", str(folder), expect=f"{folder}: not a regular file (a folder)")


def test_a_file_over_the_limit_is_refused_at_once_without_being_read(db, tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("wb") as fh:
        fh.truncate(300 * 1024 * 1024)  # sparse: no disk, and nothing worth reading
    started = time.perf_counter()
    err = refused(
        db,
        3,
        "import",
        str(big),
        expect=(f"{big}: 300 MB is over the import limit of 256 MB (setting max_import_mb)"),
    )
    assert time.perf_counter() - started < 2.0
    assert err.strip() == f"{big}: 300 MB is over the import limit of 256 MB (setting max_import_mb)"
    refused(db, 3, "evaluate", str(big), expect="300 MB is over the import limit of 256 MB")


def test_the_import_limit_is_an_organisation_setting_of_1_to_4096(db, tmp_path):
    assert db("settings", "get", "max_import_mb")[1].strip() == "256"
    for bad in ("0", "4097", "abc", "1.5", "-1", "", "５"):
        refused(db, 3, "settings", "set", "max_import_mb", bad, expect="max_import_mb: ")
    code, out, err = db("settings", "set", "max_import_mb", "0005")
    assert code == 0 and out.strip() == "max_import_mb = 5", err
    six = tmp_path / "six.json"
    with six.open("wb") as fh:
        fh.truncate(6 * 1024 * 1024)
    refused(
        db,
        3,
        "import",
        str(six),
        expect=f"{six}: 6 MB is over the import limit of 5 MB (setting max_import_mb)",
    )
    refused(db, 3, "evaluate", str(six), expect="6 MB is over the import limit of 5 MB")
    good = write(tmp_path / "good.json", json.dumps(CLEAN))
    assert db("import", good)[0] == 0


def test_a_file_that_grows_past_the_limit_while_it_is_read_is_refused(tmp_path):
    path = tmp_path / "grows.jsonl"
    path.write_text(json.dumps(CLEAN) + "\n")
    records = intake.read_records(str(path), limit_mb=1)
    assert next(records).problems == []
    with path.open("a") as fh:
        fh.write((json.dumps(CLEAN) + "\n") * 800)  # about 1.5 MB more
    with pytest.raises(intake.FileProblem, match="grew while it was read: over the import limit of 1 MB"):
        list(records)


def test_a_csv_header_of_a_million_bad_columns_prints_100_lines(db, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n")
    err = refused(db, 3, "import", str(path), expect=f'{path}:1: column "c0": unknown field')
    lines = err.splitlines()
    assert len(lines) == 101
    assert lines[99] == f'{path}:1: column "c99": unknown field'
    assert lines[100] == f"... and {1_000_001 - 100} more errors"  # and "reference" is missing


def test_each_header_problem_is_a_line_of_its_own(db, tmp_path):
    path = write(
        tmp_path / "h.csv", "reference,reference,colour,received_on,customer.name\nR-1,R-1,red,2026-01-01,A\n"
    )
    err = refused(db, 3, "import", path, expect=f'{path}:1: column "reference": named twice')
    assert err.splitlines() == [
        f'{path}:1: column "reference": named twice in the header',
        f'{path}:1: column "colour": unknown field',
    ]


# --------------------------------------------------------------------------- terminal output

HOSTILE_NAME = "Police\x1b[2J\x1b[31m Dept\u202e\u2066evil\u2069\x9b31m\x7f\x85\u200f\ufeff\U000e0001"


def test_show_and_evaluate_escape_what_would_rewrite_the_terminal(db, tmp_path):
    d = doc(
        customer__name=HOSTILE_NAME,
        title="Title\x1b]0;owned\x07 \u202eright-to-left",
        use__description="line one\nline two \x1b[31mred",
    )
    d["reference"] = "R-HOSTILE"
    path = write(tmp_path / "hostile.json", json.dumps(d))
    code, _out, err = db("import", path)
    assert code == 0, err
    for args in (("show", "R-HOSTILE"), ("evaluate", path)):
        code, out, err = db(*args)
        assert code == 0, err
        for raw in RAW_CONTROLS:
            assert raw not in out, (raw, out)
        assert "\\u001b[2J\\u001b[31m Dept\\u202e\\u2066evil\\u2069\\u009b31m\\u007f" in out, out
        assert "\\U000e0001" in out
    code, out, _err = db("evaluate", path)
    assert "HR-03" in out  # the name is quoted in the explanation: escaped there too
    assert "Title\\u001b]0;owned\\u0007 \\u202eright-to-left" in db("show", "R-HOSTILE")[1]


def test_json_output_round_trips_exactly_and_escapes_the_same_characters(db, tmp_path):
    d = doc(customer__name=HOSTILE_NAME)
    d["reference"] = "R-HOSTILE"
    path = write(tmp_path / "hostile.json", json.dumps(d))
    assert db("import", path)[0] == 0
    code, out, _err = db("show", "R-HOSTILE", "--format", "json")
    assert code == 0
    for raw in RAW_CONTROLS:
        assert raw not in out, raw
    shown = json.loads(out)
    assert shown["document"]["customer"]["name"] == HOSTILE_NAME
    code, out, _err = db("evaluate", path, "--format", "json")
    assert code == 0 and not any(raw in out for raw in RAW_CONTROLS)
    explanations = [f["explanation"] for f in json.loads(out)[0]["findings"]]
    assert any(HOSTILE_NAME in e for e in explanations)  # lossless
    code, out, _err = db("export", "R-HOSTILE", "--format", "jsonl")
    assert json.loads(out) == rq.validate(d)[0]


def test_error_messages_escape_the_values_they_quote(db, tmp_path):
    bad = doc(use__use_case="x\x1b[2J\x9b\u202e")
    path = write(tmp_path / "bad\x1b[31m.json", json.dumps(bad))
    err = refused(db, 3, "import", path, expect='use.use_case: unknown value "x\\u001b[2J\\u009b\\u202e"')
    assert not any(raw in err for raw in RAW_CONTROLS)
    assert err.startswith(str(tmp_path / "bad\\u001b[31m.json"))
    assert rq._show("a\x1b\x9b\u202e") == '"a\\u001b\\u009b\\u202e"'
    header = write(tmp_path / "h.csv", "reference,col\x1b[31m\u202e\n")
    err = refused(db, 3, "import", header, expect='column "col\\u001b[31m\\u202e": unknown field')
    assert not any(raw in err for raw in RAW_CONTROLS)
    code, _out, err = db("show", "R-1\x1b[2J")
    assert code == 6 and "\x1b" not in err and "R-1\\x1b[2J" in err  # repr() escapes it too
    db.capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        cli_main(["claim", "R-1", "--expect-version", "x\x1b[2J"])
    assert stop.value.code == 2
    err = db.capsys.readouterr().err
    assert "invalid int value: 'x" in err and "\x1b" not in err
    # A number no database integer holds is a usage error, not an overflow in a query.
    for argv in (["conditions", "mark", "9" * 20, "met", "--note", "x"],
                 ["attachment", "get", "R-1", "9" * 20, "--out", str(tmp_path / "f")],
                 ["claim", "R-1", "--expect-version", "-" + "9" * 20]):  # fmt: skip
        with pytest.raises(SystemExit) as stop:
            cli_main(argv)
        assert stop.value.code == 2, argv
        assert "a whole number of at most 19 digits" in db.capsys.readouterr().err, argv


def test_terminal_safe_escapes_control_format_and_separator_characters():
    assert rq.terminal_safe("plain text, é, 😀, Ελληνικά") == "plain text, é, 😀, Ελληνικά"
    assert rq.terminal_safe("a\tb\nc") == "a\\u0009b\\u000ac"
    assert rq.terminal_safe("a\tb\nc", lines=True) == "a\tb\nc"
    assert rq.terminal_safe(
        "\x1b\x9b\x7f\u200e\u200f\u202a\u202e\u2066\u2069\u061c\u2028\ud800\U000e0001"
    ) == ("\\u001b\\u009b\\u007f\\u200e\\u200f\\u202a\\u202e\\u2066\\u2069\\u061c\\u2028\\ud800\\U000e0001")
    value = "x\x1b\x9b\u202e\ud800\U000e0001\u2028 é"
    text = rq.json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value and text.isprintable() and "é" in text


# --------------------------------------------------------------------------- due dates


@pytest.fixture
def claimed(db, tmp_path):
    path = write(tmp_path / "clean.json", json.dumps(CLEAN))
    assert db("import", path)[0] == 0
    assert db("claim", "CLEAN-1")[0] == 0
    return db


@pytest.mark.parametrize(
    "spec, why",
    [
        ("x@2027-02-30", "the due date '2027-02-30' is not a real date"),
        ("x@31/01/2027", "the due date '31/01/2027' is not written YYYY-MM-DD"),
        ("x@2027-1-5", "the due date '2027-1-5' is not written YYYY-MM-DD"),
        ("x@20270131", "the due date '20270131' is not written YYYY-MM-DD"),
        ("x @ 2027.01.31", "the due date '2027.01.31' is not written YYYY-MM-DD"),
    ],
)
def test_a_due_date_that_is_not_a_real_date_is_a_usage_error_and_nothing_is_stored(claimed, spec, why):
    err = refused(
        claimed,
        2,
        "decide",
        "CLEAN-1",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUSTIFICATION,
        "--condition",
        spec,
        expect=f"reviewer: --condition takes TEXT or TEXT@YYYY-MM-DD, got {spec!r}: {why}",
    )
    assert len(err.splitlines()) == 1


def test_an_at_sign_before_something_else_than_a_date_stays_text(claimed):
    code, _out, err = claimed(
        "decide",
        "CLEAN-1",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUSTIFICATION,
        "--condition",
        "report to dpo@example.com",
        "--condition",
        "retention review by legal@2027-03-31",
    )
    assert code == 0, err
    shown = json.loads(claimed("show", "CLEAN-1", "--format", "json")[1])
    conditions = {c["text"]: c["due"] for c in shown["decisions"][0]["conditions"]}
    assert set(conditions) == {"report to dpo@example.com", "retention review by legal"}
    assert conditions["retention review by legal"] == "2027-03-31"


def test_the_intake_helper_checks_files_without_reading_them(tmp_path):
    folder = tmp_path / "x.json"
    folder.mkdir()
    missing = tmp_path / "missing.csv"
    wrong = tmp_path / "notes.txt"
    wrong.write_text("x")
    assert intake.check_files([str(folder), str(missing), str(wrong)]) == [
        f"{folder}: not a regular file (a folder)",
        f"{missing}: cannot read: No such file or directory",
        f"{wrong}: unsupported file type '.txt': expected .json, .jsonl or .csv",
    ]
    assert os.path.isdir(folder)


def _records(path: str, parse: bool) -> list:
    try:
        return [
            (r.label, repr(r.raw), r.problems, r.text and rq.loads(r.text))
            for r in intake.read_records(path, parse)
        ]
    except intake.FileProblem as exc:
        return [str(exc)]


def test_a_json_file_read_a_few_bytes_at_a_time_gives_the_same_records_and_errors(tmp_path, monkeypatch):
    """JSON is decoded as it is read (so memory stays flat however large the file): records,
    values cut at a chunk's end and the line and column of every error are those of the
    whole file."""
    corpus = ROOT / "tests" / "data" / "corpus" / "malformed"
    docs = [
        *(doc(customer__name=f"Ελληνικά {i} 😀") for i in range(3)),
        {**CLEAN, "scale": {"cameras": 10**14}},
    ]
    whole = json.dumps(docs, ensure_ascii=False, indent=2).encode()
    cases = [p.read_bytes() for p in sorted(corpus.glob("*.json"))]
    cases += [
        whole,
        b"\xef\xbb\xbf" + whole,
        whole + b" x",
        whole[:-40],
        b"[1, 2, 31e5]",
        b"[" + b"1" * 5000 + b"]",
        whole.replace("Ελ".encode(), b"\xff", 1),
        whole[:300] + b"\xc3",
        whole[:200] + b"\n\n ,, " + whole[200:],
    ]
    cases += [whole[:cut] for cut in range(0, len(whole), 97)]
    path = str(tmp_path / "c.json")
    for data in cases:
        Path(path).write_bytes(data)
        for parse in (True, False):
            monkeypatch.setattr(intake, "CHUNK_BYTES", 1 << 20)
            expected = _records(path, parse)
            for chunk in (1, 3, 64):
                monkeypatch.setattr(intake, "CHUNK_BYTES", chunk)
                assert _records(path, parse) == expected, (chunk, data[:80])


def test_a_file_given_twice_or_a_reference_twice_is_refused_not_counted_twice(db, tmp_path):
    """One file named twice (as a.jsonl and ./a.jsonl) is refused by import and evaluate; a
    reference in two files is refused by evaluate as import refuses it: counted twice, its
    figures would have made its customer's totals (HR-30) twice as large."""
    doc = json.dumps({**CLEAN, "reference": "TWICE-1"})
    a = write(tmp_path / "a.jsonl", doc + "\n")
    b = write(tmp_path / "b.jsonl", doc + "\n")
    again = str(tmp_path / "." / "a.jsonl")
    for command in ("import", "evaluate"):
        refused(db, 3, command, a, again, expect=f"{again}: the same file as {a}, given twice")
    refused(db, 3, "evaluate", a, b, expect=f"{b}:1: reference: duplicate reference 'TWICE-1'")
    from reviewer import intake

    assert intake.check_files([a, a]) == [f"{a}: the same file as {a}, given twice: each file is read once"]
    code, out, err = db("evaluate", a, "--format", "json")
    assert code == 0, err
    assert json.loads(out)[0]["customer_total"]["cameras"] == [["TWICE-1", CLEAN["scale"]["cameras"]]]


def test_a_stored_rule_set_loads_whatever_id_an_earlier_version_allowed(tmp_path):
    """The id, version and title limits are for files to import, check or evaluate with: a
    text stored by an earlier version (an id with a space or an accent) still loads, so the
    database it is active in keeps working."""
    text = ruleset().replace('id = "t"', 'id = "règles éthiques"', 1)
    assert load_text(text).id == "règles éthiques"
    path = write(tmp_path / "old.toml", text)
    with pytest.raises(InvalidInput, match="id: 1 to 64 of A-Z a-z 0-9"):
        load_file(path)
