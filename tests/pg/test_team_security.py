"""Team mode enforces roles in the database (migration 0004): a reviewer's login has a
reviewer's rights even in psql. Each attack runs with the real `psql` binary as a login and
must be refused by the server, writing nothing; the app's own flows keep working, and taking
a role or an account away takes the login's database rights away too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from reviewer import request as rq
from reviewer.models.db import alembic_config
from reviewer.services.audit import event_hash
from tests.helpers.cli import PG_APP_ROLE, PG_LOGIN_URL, PgCli, _require_pg
from tests.helpers.workflow import ADMIN, JUST, ok, refused, scenario_docs

LOGINS = ("admin1", "rev1", "rev2", "sen1", "sen2", "adm", "stranger", "tester")
TAIL = "integer, text, text, text, text, text, text, text"


def _revoke_memberships(pg: PgCli) -> None:
    """Memberships of the group role are cluster-wide: a fresh schema starts without any, so
    every login has exactly the rights Reviewer gives it in this test."""
    engine = create_engine(pg.owner_url())
    try:
        with engine.begin() as conn:
            for login in LOGINS:
                member = conn.execute(text(
                    "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = :g AND u.rolname = :u"
                ), {"g": PG_APP_ROLE, "u": login}).first()  # fmt: skip
                if member:
                    conn.execute(text(f'REVOKE {PG_APP_ROLE} FROM "{login}"'))
    finally:
        engine.dispose()


def _team(pg: PgCli) -> None:
    """The scenario requests and an account of each kind, on a schema made afresh (`reset`
    also takes every login out of the group role)."""
    pg.reset()
    pg.initialise()
    f = pg.tmp / "scenarios.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    ok(pg, "import", str(f), user=ADMIN)
    for name, roles in (("rev1", ["reviewer"]), ("rev2", ["reviewer"]),
                        ("sen1", ["senior", "reviewer"]), ("adm", ["admin"])):  # fmt: skip
        ok(pg, "users", "add", name, *[a for r in roles for a in ("--role", r)], user=ADMIN)


@pytest.fixture
def team(capsys, tmp_path, snapshots):
    _require_pg()
    if shutil.which("psql") is None:
        pytest.fail("the team-mode security tests need the psql client (postgresql-client)")
    pg = PgCli(capsys)
    pg.tmp = tmp_path
    snapshots.prepared("team", pg, _team)  # built once, restored (memberships too) after
    return pg


def psql(login: str, *statements: str) -> tuple[int, str, str]:
    """Run statements with the real psql client as LOGIN (one session, stop at the first error)."""
    url = make_url(PG_LOGIN_URL)
    argv = [
        "psql",
        "-X",
        "-q",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        url.host or "localhost",
        "-p",
        str(url.port or 5432),
        "-U",
        login,
        "-d",
        url.database or "",
    ]
    for s in statements:
        argv += ["-c", s]
    env = dict(os.environ, PGPASSWORD=url.password or "", PGCONNECT_TIMEOUT="10")
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def denied(pg: PgCli, login: str, statement: str, words: str) -> None:
    """The server refuses the statement with WORDS, and nothing changed."""
    before = pg.dump()
    code, out, err = psql(login, statement)
    assert code != 0, f"{login} was allowed: {statement}\n{out}"
    assert words in err, err
    assert pg.dump() == before


def allowed(login: str, *statements: str) -> str:
    code, out, err = psql(login, *statements)
    assert code == 0, err
    return out


def head(pg: PgCli) -> tuple[int, str]:
    seq, hash_ = pg.sql("SELECT seq, hash FROM chain_head WHERE id = 1")[0]
    return int(seq), str(hash_)


def event_call(pg: PgCli, function: str, actor: str, action: str, payload: dict, *,
               extra: str = "", seq_delta: int = 1, prev: str | None = None) -> str:  # fmt: skip
    """SQL calling FUNCTION with a well-formed next event by ACTOR (the hash as the app
    computes it), unless seq_delta or prev say otherwise."""
    seq, prev_hash = head(pg)
    seq += seq_delta
    prev_hash = prev if prev is not None else prev_hash
    time = "2026-12-01T10:00:00.000000Z"
    body = {"seq": seq, "time": time, "actor": actor, "os_login": "x", "action": action,
            "reference": None, "payload": payload}  # fmt: skip
    digest = event_hash(prev_hash, body)
    text_payload = rq.canonical_json(payload).replace("'", "''")
    return (
        f"SELECT public.{function}({extra}{seq}, '{time}', 'x', '{action}', NULL, "
        f"'{text_payload}', '{prev_hash}', '{digest}')"
    )


# --------------------------------------------------------------------------- the attacks


def test_a_reviewer_cannot_touch_authority_tables(team):
    """The issue's attack: INSERT admin/senior into account_roles, remove a colleague's senior
    role, disable the admin; and rule sets, settings, alembic_version."""
    grab = "INSERT INTO account_roles SELECT id, '{}' FROM accounts WHERE name = 'rev1'"
    denied(team, "rev1", grab.format("admin"), "permission denied for table account_roles")
    denied(team, "rev1", grab.format("senior"), "permission denied for table account_roles")
    denied(
        team,
        "rev1",
        "DELETE FROM account_roles WHERE role = 'senior'",
        "permission denied for table account_roles",
    )
    denied(
        team,
        "rev1",
        "UPDATE accounts SET active = false WHERE name = 'admin1'",
        "permission denied for table accounts",
    )
    denied(
        team,
        "rev1",
        "INSERT INTO accounts (name, active, created_at) VALUES ('x', true, 'x')",
        "permission denied for table accounts",
    )
    # HR-01 `override = "never"` -> "committee" in the active rule set's stored text.
    assert team.sql("SELECT count(*) FROM rule_sets WHERE state = 'active' AND "
                    "content LIKE '%override = \"never\"%'")[0][0] == 1  # fmt: skip
    denied(
        team,
        "rev1",
        "UPDATE rule_sets SET content = replace(content, 'override = \"never\"', "
        "'override = \"committee\"') WHERE state = 'active'",
        "permission denied for table rule_sets",
    )
    denied(
        team,
        "rev1",
        "INSERT INTO rule_sets (rule_set_id, version, title, sha256, content, "
        "state) SELECT rule_set_id, 99, title, sha256, content, 'active' FROM rule_sets",
        "permission denied for table rule_sets",
    )
    denied(
        team,
        "rev1",
        "INSERT INTO settings (key, value) VALUES ('organisation_name', 'x') "
        "ON CONFLICT (key) DO UPDATE SET value = 'x'",
        "permission denied for table settings",
    )
    denied(
        team,
        "rev1",
        "UPDATE alembic_version SET version_num = '9999'",
        "permission denied for table alembic_version",
    )
    # Admins cannot bypass their functions either.
    denied(
        team,
        "admin1",
        grab.format("senior").replace("rev1", "rev2"),
        "permission denied for table account_roles",
    )
    # So the app refuses the escalate_senior approval the stolen role was for.
    ok(team, "claim", "R-SENIOR", user="rev1")
    refused(
        team,
        "decide",
        "R-SENIOR",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="rev1",
        code=5,
        words="is not a senior",
    )


def test_a_reviewer_cannot_rewrite_or_forge_the_audit_trail(team):
    for statement in ("UPDATE audit_events SET actor = 'rev1'", "DELETE FROM audit_events",
                      "TRUNCATE audit_events"):  # fmt: skip
        denied(team, "rev1", statement, "permission denied for table audit_events")
    seq, prev_hash = head(team)
    denied(
        team,
        "rev1",
        "INSERT INTO audit_events (seq, time, actor, action, payload, prev_hash, "
        f"hash) VALUES ({seq + 1}, 'x', 'admin1', 'claim', '{{}}', '{prev_hash}', 'x')",
        "permission denied for table audit_events",
    )
    denied(team, "rev1", "UPDATE chain_head SET seq = 0", "permission denied for table chain_head")
    denied(team, "rev1", "DELETE FROM chain_head", "permission denied for table chain_head")


def test_the_append_function_checks_every_event(team):
    claim = {"status": "in_review", "version": 3}
    # A well-formed event is accepted (as rev1, from the session's login) ...
    good = event_call(team, "append_event", "rev1", "claim", claim)
    # ... but not with a wrong seq, a wrong prev_hash, another actor or a reserved action.
    denied(
        team,
        "rev1",
        event_call(team, "append_event", "rev1", "claim", claim, seq_delta=2),
        "does not follow it",
    )
    denied(
        team,
        "rev1",
        event_call(team, "append_event", "rev1", "claim", claim, seq_delta=0),
        "does not follow it",
    )
    denied(
        team,
        "rev1",
        event_call(team, "append_event", "rev1", "claim", claim, prev="0" * 64),
        "does not follow it",
    )
    denied(
        team,
        "rev1",
        event_call(team, "append_event", "admin1", "claim", claim),
        "its hash does not match its content with actor rev1",
    )
    for action in ("users_role", "users_add", "settings", "rules_activate", "bootstrap"):
        denied(
            team,
            "rev1",
            event_call(team, "append_event", "rev1", action, {"account": "rev1", "add": "admin"}),
            f"{action} events are written only by the admin functions",
        )
    # The internal functions run for nobody but the owner.
    for internal in ("_reviewer_append", "_reviewer_bootstrap"):
        denied(
            team,
            "rev1",
            event_call(team, internal, "rev1", "users_role", {}),
            f"permission denied for function {internal}",
        )
    denied(
        team,
        "rev1",
        "SELECT public._reviewer_admit('rev1')",
        "permission denied for function _reviewer_admit",
    )
    # Side effects never hide in a multi-row query: one call, one event, seq = head + 1.
    before = head(team)[0]
    assert allowed("rev1", good).strip() == str(before + 1)
    last = team.sql("SELECT actor, action FROM audit_events ORDER BY seq DESC LIMIT 1")[0]
    assert last == ("rev1", "claim")
    report = json.loads(ok(team, "verify", "--format", "json", user=ADMIN))
    assert report["events"] == before + 1


def test_admin_functions_refuse_non_admins(team):
    attempts = {
        "admin_add_account": ("users_add", {"account": "stranger", "roles": ["admin"]}, ""),
        "admin_change_roles": ("users_role", {"account": "rev1", "add": "admin",
                                              "roles": ["admin", "reviewer"]}, ""),
        "admin_disable_account": ("users_disable", {"account": "admin1"}, ""),
        "admin_set_setting": ("settings", {"key": "organisation_name", "value": "x"}, ""),
        "admin_import_rule_set": ("rules_import", {"rule_set": "x@1", "sha256": "0" * 64},
                                  "'x', 1, 'x', NULL, 'x', "),
        "admin_propose_rule_set": ("rules_propose", {"rule_set": "x@1", "sha256": "0" * 64},
                                   "'{}', "),
        "admin_activate_rule_set": ("rules_activate", {"rule_set": "human-rights@2"}, ""),
    }  # fmt: skip
    for login in ("rev1", "sen1"):
        for function, (action, payload, extra) in attempts.items():
            denied(
                team,
                login,
                event_call(team, function, login, action, payload, extra=extra),
                f"permission denied: {login} is not an active admin account",
            )
    # An admin's function still checks the event it writes.
    denied(
        team,
        "adm",
        event_call(
            team,
            "admin_change_roles",
            "adm",
            "users_role",
            {"account": "rev1", "add": "senior", "roles": ["reviewer", "senior"]},
            seq_delta=2,
        ),
        "does not follow it",
    )
    denied(
        team,
        "adm",
        event_call(
            team,
            "admin_change_roles",
            "adm",
            "users_role",
            {"account": "rev1", "add": "senior", "roles": ["admin"]},
        ),
        "the payload says roles",
    )
    denied(
        team,
        "adm",
        event_call(
            team, "admin_add_account", "adm", "users_add", {"account": "postgres", "roles": ["admin"]}
        ),
        "postgres is not an ordinary login",
    )


def test_no_identity_change_no_temp_tables_no_new_objects(team):
    for statement, words in (
        ("SET ROLE admin1", "permission denied to set role"),
        ("SET ROLE reviewer_owner", "permission denied to set role"),
        ("SET SESSION AUTHORIZATION admin1", "permission denied to set session authorization"),
        ("CREATE TEMP TABLE accounts (name text)", "permission denied to create temporary"),
        ("CREATE TABLE public.accounts2 (name text)", "permission denied for schema public"),
        ("CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
         "permission denied for schema public"),
    ):  # fmt: skip
        denied(team, "rev1", statement, words)


def test_workflow_tables_only_as_the_app_writes_them(team):
    denied(team, "rev1", "DELETE FROM requests", "permission denied for table requests")
    denied(
        team,
        "rev1",
        "UPDATE requests SET reference = 'X' WHERE reference = 'R-APPROVE'",
        "permission denied for table requests",
    )
    ok(team, "claim", "R-APPROVE", user="rev1")
    ok(team, "decide", "R-APPROVE", "--outcome", "approve", "--justification", JUST, user="rev1")
    denied(team, "rev1", "UPDATE decisions SET justification = 'x'", "permission denied for table decisions")
    denied(team, "rev1", "DELETE FROM decisions", "permission denied for table decisions")
    denied(team, "rev1", "DELETE FROM conditions", "permission denied for table conditions")
    # A decision only in one's own name, and only by a reviewer or senior.
    forged = ("INSERT INTO decisions (request_id, number, outcome, final, rejected, "
              "request_version, snapshot, snapshot_sha256, rule_set_key, rule_set_sha256, "
              "evaluation, justification, decider_id, decider_roles, decided_at) "
              "SELECT r.id, 9, 'approve', true, false, 1, '{}', 'x', 'x', 'x', '{}', 'x', "
              "(SELECT id FROM accounts WHERE name = '%s'), 'senior', 'x' FROM requests r "
              "WHERE r.reference = 'R-SENIOR'")  # fmt: skip
    denied(team, "rev1", forged % "sen1", "row-level security policy")
    denied(team, "adm", forged % "adm", "row-level security policy")  # an admin only
    denied(
        team,
        "rev1",
        "UPDATE decisions SET checker_id = (SELECT id FROM accounts WHERE name = 'sen1')",
        "row-level security policy",
    )
    assert ok(team, "verify", user=ADMIN).startswith("OK")


# --------------------------------------------------------------------------- legitimate flows


def test_reviewers_work_and_admins_administer_through_the_app(team):
    ok(team, "claim", "R-SECOND", user="rev1")
    ok(team, "decide", "R-SECOND", "--outcome", "approve", "--justification", JUST, user="rev1")
    ok(team, "check", "R-SECOND", "--confirm", user="sen1")
    ok(team, "settings", "set", "organisation_name", "Contoso", user="adm")
    assert ok(team, "settings", "get", "organisation_name", user="rev1").strip() == "Contoso"
    assert team.sql("SELECT updated_by FROM settings")[0][0] == "adm"
    ok(team, "users", "role", "rev2", "--add", "senior", user="adm")
    roles = team.sql("SELECT r.role FROM account_roles r JOIN accounts a ON a.id = r.account_id "
                     "WHERE a.name = 'rev2' ORDER BY r.role")  # fmt: skip
    assert roles == [("reviewer",), ("senior",)]
    refused(
        team,
        "users",
        "add",
        "tester",
        "--role",
        "reviewer",
        user="rev1",
        code=5,
        words="rev1 is not an admin",
    )
    actors = dict(team.sql("SELECT action, actor FROM audit_events WHERE action IN "
                           "('settings', 'users_role', 'check')"))  # fmt: skip
    assert actors == {"settings": "adm", "users_role": "adm", "check": "sen1"}
    assert ok(team, "verify", user=ADMIN).startswith("OK")


def test_membership_comes_with_the_account_and_goes_with_it(team):
    # A login nobody added has no rights at all, not even to connect.
    code, _out, err = psql("tester", "SELECT 1")
    assert code != 0 and "CONNECT privilege" in err
    refused(team, "show", "R-APPROVE", user="tester", code=5, words="no active account named 'tester'")
    ok(team, "users", "add", "tester", "--role", "reviewer", user=ADMIN)
    assert allowed("tester", "SELECT count(*) FROM requests").strip() == "7"
    ok(team, "claim", "R-COND", user="tester")
    # Losing the last role takes the group role away; so does disabling.
    ok(team, "users", "role", "tester", "--remove", "reviewer", user=ADMIN)
    code, _out, err = psql("tester", "SELECT 1")
    assert code != 0 and "CONNECT privilege" in err
    # An admin who loses the admin role cannot run the admin functions any more; with no
    # role left, the login cannot connect.
    ok(team, "users", "role", "sen1", "--add", "admin", user=ADMIN)
    setting = {"key": "organisation_name", "value": "x"}
    allowed("sen1", event_call(team, "admin_set_setting", "sen1", "settings", setting))
    ok(team, "users", "role", "sen1", "--remove", "admin", user=ADMIN)
    denied(
        team,
        "sen1",
        event_call(team, "admin_set_setting", "sen1", "settings", setting),
        "sen1 is not an active admin account",
    )
    ok(team, "users", "role", "adm", "--remove", "admin", user=ADMIN)
    code, _out, err = psql("adm", "SELECT 1")
    assert code != 0 and "CONNECT privilege" in err
    # Disabling takes effect at the login's next statement, even in an open session.
    url = make_url(PG_LOGIN_URL).set(username="rev2")
    conn = psycopg.connect(
        host=url.host, port=url.port, user="rev2", password=url.password, dbname=url.database, autocommit=True
    )
    try:
        assert conn.execute("SELECT count(*) FROM requests").fetchone() == (7,)
        ok(team, "users", "disable", "rev2", user=ADMIN)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(event_call(team, "append_event", "rev2", "claim", {"version": 9}))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM requests")
    finally:
        conn.close()
    code, _out, err = psql("rev2", "SELECT 1")
    assert code != 0 and "CONNECT privilege" in err
    members = {
        n
        for (n,) in team.sql(
            "SELECT u.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = :g",
            {"g": PG_APP_ROLE},
        )
    }
    assert members - {"reviewer_owner"} == {"admin1", "rev1", "sen1"}
    assert ok(team, "verify", user=ADMIN).startswith("OK")


def test_the_grants_of_each_kind_of_login(team):
    def can(login: str, table: str, privilege: str) -> bool:
        return bool(
            team.sql(
                "SELECT has_table_privilege(:l, :t, :p)", {"l": login, "t": f"public.{table}", "p": privilege}
            )[0][0]
        )

    authority = ("accounts", "account_roles", "rule_sets", "settings", "alembic_version",
                 "audit_events", "chain_head")  # fmt: skip
    for login in ("rev1", "sen1", "adm", "admin1"):
        for table in authority:
            assert can(login, table, "SELECT")
            for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
                assert not can(login, table, privilege), (login, table, privilege)
        for table in ("requests", "request_versions", "decisions", "conditions"):
            assert can(login, table, "INSERT") and not can(login, table, "DELETE")
    public = team.sql(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
        "AND has_function_privilege('rev1', p.oid, 'EXECUTE') ORDER BY 1"
    )
    assert [n for (n,) in public] == sorted([
        "admin_activate_rule_set", "admin_add_account", "admin_change_roles",
        "admin_disable_account", "admin_import_rule_set", "admin_propose_rule_set",
        "admin_set_setting", "append_event", "lock_chain_head", "reviewer_account_id",
        "reviewer_has_role"])  # fmt: skip
    for login in ("tester", "stranger"):
        assert not team.sql("SELECT has_database_privilege(:l, current_database(), 'CONNECT')",
                            {"l": login})[0][0]  # fmt: skip
    assert not team.sql(f"SELECT has_database_privilege('{PG_APP_ROLE}', current_database(), "
                        "'TEMP')")[0][0]  # fmt: skip


def test_the_migration_takes_away_the_old_readme_grants(capsys):
    """A database made with the grants the README gave before 0004 (everything, by default
    privileges, to every login IN ROLE reviewer_app) ends with the same rights as a new one."""
    _require_pg()
    pg = PgCli(capsys)
    pg.reset()
    _revoke_memberships(pg)
    engine = create_engine(pg.owner_url())
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON "
                    f"TABLES TO {PG_APP_ROLE}"
                )
            )
            conn.execute(text(f"ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO {PG_APP_ROLE}"))
        command.upgrade(alembic_config(engine), "0003")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (name, active, created_at) VALUES "
                    "('admin1', true, 'x'), ('rev1', true, 'x'), ('rev2', false, 'x')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO account_roles SELECT id, CASE name WHEN 'admin1' "
                    "THEN 'admin' ELSE 'reviewer' END FROM accounts"
                )
            )
            conn.execute(text(f"GRANT {PG_APP_ROLE} TO rev1, rev2, stranger"))
        assert (
            allowed("rev1", "INSERT INTO settings (key, value) VALUES ('a', 'b')", "DELETE FROM settings")
            == ""
        )
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
    denied(
        pg,
        "rev1",
        "INSERT INTO account_roles SELECT id, 'admin' FROM accounts WHERE name = 'rev1'",
        "permission denied for table account_roles",
    )
    denied(pg, "rev1", "DELETE FROM requests", "permission denied for table requests")
    code, _out, err = psql("rev2", "SELECT 1")  # a disabled account's login left the group
    assert code != 0 and "CONNECT privilege" in err, err
    # A member the DBA made without an account keeps its membership (the group role may serve
    # other databases), but writes nothing.
    denied(pg, "stranger", "INSERT INTO requests (reference) VALUES ('X')", "row-level security policy")
    denied(
        pg,
        "stranger",
        event_call(pg, "append_event", "stranger", "claim", {}),
        "stranger has no active account",
    )
    defaults = pg.sql("SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a "
                      "WHERE a.grantee = CAST(:g AS regrole) AND a.privilege_type <> 'SELECT'",
                      {"g": PG_APP_ROLE})  # fmt: skip
    assert defaults == [(0,)]
    # The same function signatures the app calls exist.
    assert pg.sql(f"SELECT 'public.append_event({TAIL})'::regprocedure::text")[0][0]
