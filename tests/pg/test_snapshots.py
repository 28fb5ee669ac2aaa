"""The test helper that restores a built PostgreSQL state instead of building it again must
give back exactly what was built, and must notice when a test has changed the schema."""

from __future__ import annotations

import pytest

from tests.helpers.cli import PgCli, _require_pg
from tests.helpers.snapshots import Snapshots
from tests.helpers.workflow import ADMIN, ok

MEMBER = "SELECT count(*) FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'rev1'"


@pytest.fixture
def pg(capsys) -> PgCli:
    _require_pg()
    cli = PgCli(capsys)
    cli.reset()
    cli.initialise()
    return cli


def test_a_restored_state_is_the_built_one_and_a_changed_schema_is_rebuilt(pg, tmp_path):
    built = []

    def build(cli) -> None:
        built.append(1)
        ok(cli, "users", "add", "rev1", "--role", "reviewer", user=ADMIN)
        ok(cli, "seed-demo", "--count", "5", user=ADMIN)

    snaps = Snapshots(tmp_path)
    snaps.prepared("s", pg, build)
    state = pg.dump()
    members = pg.sql(MEMBER)
    assert members == [(1,)]
    ok(pg, "claim", "DEMO-000001", user="rev1")
    ok(pg, "users", "disable", "rev1", user=ADMIN)
    assert pg.dump() != state
    snaps.prepared("s", pg, build)
    assert len(built) == 1 and pg.dump() == state
    assert pg.sql(MEMBER) == members  # disabling took the login out of the group; it is back
    ok(pg, "claim", "DEMO-000001", user="rev1")  # the sequences go on where they were

    pg.sql("DROP POLICY reviewer_update ON requests")  # what a tamper test may do
    snaps.prepared("s", pg, build)
    assert len(built) == 2
    assert pg.sql("SELECT count(*) FROM requests") == [(5,)]
    assert pg.sql("SELECT count(*) FROM pg_policy WHERE polname = 'reviewer_update'") == [(6,)]
