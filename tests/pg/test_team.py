"""Team mode on PostgreSQL only: who acts is the database login, and only the owner migrates
(the tests of several writers on one database are tests/system/test_team_processes.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.helpers.cli import PG_APP_ROLE, ROOT, PgCli, _require_pg
from tests.helpers.workflow import ADMIN, refused


@pytest.fixture
def pg(capsys):
    _require_pg()
    cli = PgCli(capsys)
    cli.reset()
    cli.initialise()
    return cli


def test_user_option_is_refused_and_logins_need_accounts(pg, tmp_path):
    code, _out, err = pg("claim", "T-0", "--user", "sen1")
    assert code == 5 and "--user and REVIEWER_USER are refused on PostgreSQL" in err
    refused(pg, "claim", "T-0", user="stranger", code=5, words="no active account named 'stranger'")
    refused(
        pg,
        "users",
        "add",
        "nobody-has-this-login",
        "--role",
        "reviewer",
        user=ADMIN,
        code=6,
        words="no database login named 'nobody-has-this-login'",
    )


def test_only_the_owner_migrates(pg):
    assert isinstance(pg, PgCli)
    pg.reset()  # an empty schema, as before the first `db upgrade`
    pg.sql(f"GRANT {PG_APP_ROLE} TO rev1")  # a member of the group, yet not the owner
    code, _out, err = pg("db", "upgrade", user="rev1")
    assert code == 7 and "only the database owner" in err
    code, _out, err = pg("import", str(ROOT / "pyproject.toml"), user="rev1")
    assert code == 7 and "only the database owner" in err
    pg.initialise()
    code, _out, err = pg("db", "init", "--admin", "rev1", user=None)
    assert code != 0


def test_plain_events_go_pipelined_and_each_is_still_checked(pg):
    """An import's events reach append_event as one pipelined executemany: each is still a
    statement of its own, checked by the function: a reserved action among them is refused
    (NotPermitted), nothing of the batch is kept, and the chain goes on unbroken after it."""
    from reviewer.errors import NotPermitted
    from reviewer.models.db import Database
    from reviewer.services.audit import Actor, Chain

    with Database(pg.url_for(ADMIN)) as db:
        with pytest.raises(NotPermitted, match="written only by the admin functions"):
            with db.write() as session, Chain(session, Actor(ADMIN, None)) as chain:
                for i in range(5):
                    chain.append("note", f"T-{i}", {"text": "plain"})
                chain.append("users_add", None, {"name": "forged"})  # reserved: the admin functions'
        with db.read() as session:
            before = session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        with db.write() as session, Chain(session, Actor(ADMIN, None)) as chain:
            for i in range(1500):  # more than one buffer of 1,000
                chain.append("note", f"T-{i}", {"text": "plain"})
        with db.read() as session:
            after = session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert after == before + 1500
    assert pg("verify", user=ADMIN)[0] == 0
