"""The house rules that need a fresh interpreter: the core stays Qt-free when imported, and the
GUI says so instead of crashing without a display (the rules read from the source are
tests/unit/test_architecture.py)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import EXAMPLES, Cli
from tests.helpers.imports import ROOT, modules


def test_modules_outside_ui_import_no_qt():
    core = sorted(m for m in modules() if not m.startswith("reviewer.ui") and m != "reviewer.__main__")
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in core)
        + "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
        "assert not bad, bad\nprint('clean', len(" + repr(core) + "))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("clean")


def test_gui_without_display_exits_2_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for argv in ([sys.executable, "-m", "reviewer"], [sys.executable, "main.py"]):
        out = subprocess.run(
            argv + ["--database", f"sqlite:///{tmp_path / 'x.db'}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            cwd=ROOT,
        )
        assert out.returncode == 2, out.stderr
        assert "no display" in out.stderr


def test_a_command_on_a_current_database_does_not_load_alembic(tmp_path):
    """Alembic (and the SQL dialects it brings) is for migrating: a command on a database at
    the program's revision starts without it."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    code = (
        "import sys\nfrom reviewer.cli import main\n"
        f"first = main(['seed-demo', '--count', '2', '--database', {url!r}, '--user', 'admin1'])\n"
        "made = 'alembic' in sys.modules\n"
        "for name in [m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')]:\n"
        "    del sys.modules[name]\n"
        f"second = main(['users', 'list', '--database', {url!r}, '--user', 'admin1'])\n"
        "print(first, made, second, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "0 True 0 False"  # made the database with it, then not


# What `evaluate` of request files without a database must never load (start-up, issue 18).
NOT_FOR_EVALUATE = ("sqlalchemy", "alembic", "PySide6", "shiboken6", "reportlab", "pyhanko",
                    "reviewer.models", "reviewer.context", "reviewer.gui", "reviewer.ui")  # fmt: skip
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def _imports_of_command(argv: list[str], home: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The command's process and every module it imported (`python -X importtime -m reviewer`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("REVIEWER_DATABASE_URL", "REVIEWER_USER")}
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"))  # fmt: skip
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "reviewer", *argv], capture_output=True,
                         text=True, env=env, check=False, cwd=ROOT)  # fmt: skip
    names = {m.group(1) for line in out.stderr.splitlines() if (m := _IMPORTED.match(line))}
    return out, names


def test_evaluate_without_a_database_loads_no_database_layer_window_or_pdf(tmp_path):
    """`reviewer evaluate FILE` (and `explain FILE`) without a database imports only what it
    uses: no SQLAlchemy, Alembic, models, services over the database, Qt, ReportLab or pyHanko
    (nor the code generator for one request, nor a TOML parser once the rule set is in the
    disk cache); and makes nothing where the database would be. A command that opens a database does load
    SQLAlchemy (so the check sees imports at all)."""
    example = str(EXAMPLES / "p02-us-sheriff.json")
    missing = tmp_path / "no-such-folder" / "r.db"
    runs = [["evaluate", example, "--format", "json"], ["evaluate", example, "--format", "text"],
            ["evaluate", example, "--database", f"sqlite:///{missing}"], ["explain", example]]  # fmt: skip
    for i, argv in enumerate(runs):
        out, names = _imports_of_command(argv, tmp_path)
        assert out.returncode == 0, out.stderr
        assert "EX-0002" in out.stdout
        loaded = sorted(n for n in names if n.startswith(NOT_FOR_EVALUATE)
                        or (n.startswith("reviewer.services.") and n != "reviewer.services.files"))  # fmt: skip
        assert loaded == [], (argv, loaded)
        assert "reviewer.rules" in names and "reviewer.services.files" in names
        assert "logging.handlers" not in names  # reviewer.logs rotates the file itself
        if argv[0] == "evaluate":  # one request is evaluated by the nodes: nothing generated
            assert "reviewer.rules.codegen" not in names
        if i > 0:  # the rule set's TOML comes from the disk cache the first run wrote
            assert "tomllib" not in names
    assert not missing.parent.exists()
    out, names = _imports_of_command(["users", "list", "--database", f"sqlite:///{missing}"], tmp_path)
    assert out.returncode == 7 and "sqlalchemy" in names and "alembic" not in names


def test_evaluate_on_a_sqlite_database_in_good_order_loads_no_database_layer(tmp_path, capsys):
    """`reviewer evaluate FILE` on a SQLite database in good order reads it with sqlite3
    (`services.direct`: the active rule set verified by its events, the import limit, the
    customer totals), loading no SQLAlchemy; a database whose rule set was edited by hand is
    read the usual way, which names the edit (exit 1)."""
    db = tmp_path / "r.db"
    assert Cli(db, capsys)("seed-demo", "--count", "20", user="root")[0] == 0
    argv = [
        "evaluate",
        str(EXAMPLES / "p02-us-sheriff.json"),
        "--format",
        "json",
        "--database",
        f"sqlite:///{db}",
    ]
    out, names = _imports_of_command(argv, tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["reference"] == "EX-0002"
    loaded = sorted(n for n in names if n.startswith(NOT_FOR_EVALUATE))
    assert loaded == [] and "reviewer.services.direct" in names and "sqlite3" in names
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE rule_sets SET sha256 = '00' || substr(sha256, 3) WHERE state = 'active'")
    conn.close()
    out, names = _imports_of_command(argv, tmp_path)
    assert out.returncode == 1 and out.stdout == "" and "its audit event records" in out.stderr
    assert "sqlalchemy" in names


def test_verify_and_a_decision_on_a_small_database_compile_no_rule_set_and_load_no_signing(tmp_path, capsys):
    """`reviewer verify` of a database of a few requests evaluates them by the rules' nodes,
    as `decide` does its one request (compiling the rule set would take longer), and without
    a PDF to check loads no signature library; the same checks name a changed evaluation."""
    db = tmp_path / "r.db"
    cli = Cli(db, capsys)
    assert cli("seed-demo", "--count", "20", user="root")[0] == 0
    assert cli("claim", "DEMO-000002", user="root")[0] == 0
    url = f"sqlite:///{db}"
    signing = ("pyhanko", "cryptography", "asn1crypto", "reviewer.export.signing")
    decide = ["decide", "DEMO-000002", "--outcome", "refuse", "--justification", "x" * 40]
    for argv in (["verify"], decide, ["verify"]):
        out, names = _imports_of_command([*argv, "--database", url, "--user", "root"], tmp_path)
        assert out.returncode == 0, (argv, out.stderr)
        assert "reviewer.rules" in names and "reviewer.rules.codegen" not in names, argv
        assert sorted(n for n in names if n.startswith(signing)) == [], argv
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE requests SET recommendation = 'approve' WHERE reference = 'DEMO-000005'")
    conn.close()
    out, names = _imports_of_command(["verify", "--database", url, "--user", "root"], tmp_path)
    assert out.returncode == 1 and "DEMO-000005: the stored evaluation differs" in out.stdout, out.stdout
