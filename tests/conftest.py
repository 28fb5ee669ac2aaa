"""Shared fixtures. Qt runs offscreen; every test gets its own data, config and cache folders.

Database tests take `db_cli`, which runs them on SQLite and, when REVIEWER_TEST_PG_URL (the
database owner) and REVIEWER_TEST_PG_URL2 (a reviewer login) are set, on PostgreSQL too.
Without them the PostgreSQL runs skip with a message; with REVIEWER_REQUIRE_PG=1 (CI) a skip
is a failure. On PostgreSQL a test user NAME acts through the database login NAME, which
shares the password of REVIEWER_TEST_PG_URL2 (the README's Team mode section and .ci/run
create them).

The runners, paths and sample data behind these fixtures live in tests/helpers/.
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Rule sets loaded when test modules are imported (`RS = load_bundled()`) come before any
# fixture: their disk cache (rules.diskcache) goes to a folder of this run, not the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="reviewer-tests-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)

import json  # noqa: E402
import re  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from xdist.scheduler import LoadScopeScheduling  # noqa: E402

# The helpers assert too (ok, refused, make...): let pytest explain their failures in full.
pytest.register_assert_rewrite("tests.helpers")

from reviewer import request as rq  # noqa: E402
from reviewer.models.db import Database  # noqa: E402
from tests.helpers.cli import EXAMPLES, Cli, PgCli, _require_pg  # noqa: E402
from tests.helpers.database import upgrade_from_template  # noqa: E402
from tests.helpers.documents import make  # noqa: E402
from tests.helpers.pdf import LONG, NAMES  # noqa: E402
from tests.helpers.snapshots import Snapshots  # noqa: E402
from tests.helpers.workflow import ADMIN, JUST, ok, scenario_docs  # noqa: E402

# The PostgreSQL tests share one database (and the cluster-wide memberships of its logins):
# under xdist they form one work unit, run in order on one worker, started first as the
# longest; every other test is a unit of its own. (xdist's own loadgroup marks do not reach
# the scheduler with pytest 9.2, which no longer reads the node id they rewrite.)
_ON_PG = re.compile(r"^tests/pg/|\[(?:[^\]]*-)?pg(?:-[^\]]*)?\]$")


class _PostgresqlTogether(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return "postgresql" if _ON_PG.search(nodeid) else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling:
    return _PostgresqlTogether(config, log)


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test run on PostgreSQL must be recognisable from its node id alone."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("db_cli") == "pg":
        assert _ON_PG.search(item.nodeid), f"{item.nodeid}: the scheduler would not see it uses PostgreSQL"


@pytest.fixture(autouse=True)
def collected() -> Iterator[None]:
    """After each test its garbage is collected (so a connection it left open to the collector
    fails it, not a later test), and what is still alive (modules, Qt, the caches of the
    process, the session's fixtures) is frozen: the collector never walks it again. Without
    this the full collections walked a heap that grew to 600,000 objects, a third of a second
    each and 15% of a run."""
    yield
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def schema_from_template(request, monkeypatch):
    """New SQLite databases come from a copy of one the migrations made in this process
    (`upgrade_from_template`); tests marked `migrates` (the migrations' own) run them."""
    if request.node.get_closest_marker("migrates") is None:
        monkeypatch.setattr(Database, "upgrade", upgrade_from_template)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))  # the parsed rule sets (rules.diskcache)
    monkeypatch.delenv("REVIEWER_DATABASE_URL", raising=False)
    monkeypatch.delenv("REVIEWER_USER", raising=False)
    return home


@pytest.fixture
def cli(tmp_path, capsys) -> Cli:
    """A SQLite database (for tests of SQLite-only behaviour: files, backups, WAL)."""
    return Cli(tmp_path / "reviewer.db", capsys)


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory) -> Snapshots:
    """Database states a fixture builds once per session and every later test gets a copy of."""
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


def _fresh_pg(pg: Cli) -> None:
    assert isinstance(pg, PgCli)
    pg.reset()
    pg.initialise()


@pytest.fixture(params=["sqlite", "pg"])
def db_cli(request, tmp_path, capsys, snapshots) -> Cli:
    """The same test on SQLite and on PostgreSQL (team mode). On SQLite the database file does
    not exist yet; on PostgreSQL it is migrated and initialised with the first account."""
    if request.param == "sqlite":
        return Cli(tmp_path / "reviewer.db", capsys)
    _require_pg()
    pg = PgCli(capsys)
    snapshots.prepared("initialised", pg, _fresh_pg)
    return pg


@pytest.fixture
def examples() -> list[Path]:
    files = sorted(EXAMPLES.glob("p*.json"))
    assert files, f"no examples found in {EXAMPLES}"
    return files


@pytest.fixture
def expected() -> dict[str, dict]:
    return {e["file"]: e for e in json.loads((EXAMPLES / "expected.json").read_text())}


def _scenarios(cli: Cli) -> None:
    """The scenario requests and accounts of every kind."""
    f = cli.tmp / "scenarios.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    ok(cli, "import", str(f), user=ADMIN)
    for name, roles in (
        ("rev1", ["reviewer"]),
        ("rev2", ["reviewer"]),
        ("sen1", ["senior", "reviewer"]),
        ("sen2", ["senior"]),
        ("adm", ["admin"]),
    ):
        ok(cli, "users", "add", name, *[a for r in roles for a in ("--role", r)], user=ADMIN)


@pytest.fixture
def wf(db_cli, tmp_path, snapshots):
    """A database with the scenario requests and accounts of every kind."""
    db_cli.tmp = tmp_path
    snapshots.prepared("scenarios", db_cli, _scenarios)
    return db_cli


def _decided(cli: Cli) -> None:
    """Requests with awkward names, decided: R-SECOND needs a checker; the others one reviewer."""
    docs = []
    for ref, name in NAMES.items():
        doc = make(
            {
                "use.operations": ["identification"],
                "customer.name": name,
                "use.description": f"Greek too: Ελληνικά. {name}",
            }
        )
        doc["reference"] = ref
        docs.append(doc)
    long_doc = make({"use.description": LONG})
    long_doc["reference"] = "R-LONG"
    docs.append(long_doc)
    second = make({"use.decision_effects": ["housing"]})
    second["reference"] = "R-SECOND"
    docs.append(second)
    f = cli.tmp / "pdf.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in docs), encoding="utf-8")
    ok(cli, "import", str(f), user=ADMIN)
    ok(cli, "users", "add", "rev2", "--role", "reviewer", user=ADMIN)
    ok(cli, "settings", "set", "organisation_name", "Contoso Responsible AI Office", user=ADMIN)
    for ref in [*NAMES, "R-LONG"]:
        ok(cli, "claim", ref, user=ADMIN)
        outcome = "approve" if ref == "R-LONG" else "approve_with_conditions"
        ok(cli, "decide", ref, "--outcome", outcome, "--justification", JUST, user=ADMIN)
    ok(cli, "claim", "R-SECOND", user=ADMIN)
    ok(
        cli,
        "decide",
        "R-SECOND",
        "--outcome",
        "refuse",
        "--justification",
        "Refused: housing decisions by face recognition are out of our risk appetite.",
        user=ADMIN,
    )


@pytest.fixture
def decided(db_cli, tmp_path, snapshots):
    """Requests with awkward names, decided: R-SECOND needs a checker; the others one reviewer."""
    db_cli.tmp = tmp_path
    snapshots.prepared("decided", db_cli, _decided)
    return db_cli
