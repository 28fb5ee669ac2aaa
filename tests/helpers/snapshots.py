"""Database states built once per test session and restored for each test that wants them.

A fixture that makes the same database for every test it serves (say: the scenario requests,
five accounts and three decisions, made by twenty `reviewer` commands) asks for it with
`snapshots.prepared(name, cli, build)`. The first time, `build(cli)` runs and the result is
kept; after that each test gets an exact copy:

* SQLite: the database file, copied with SQLite's backup API;
* PostgreSQL: every table's rows as `COPY` text (byte for byte, whatever the column type), the
  sequences, and which logins are members of the application's group role. Restoring empties
  every table and copies the rows back in foreign-key order. The schema itself (tables,
  columns, constraints, functions, policies, grants) is not copied: a fingerprint of it is kept
  with the state, and when a test has changed it (a tamper test may drop a policy or replace a
  function) the next restore notices, starts from an empty schema and builds again.

The first restore of each state compares the whole database with the one that was built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from tests.helpers.cli import MEMBERS, PG_APP_ROLE, Cli, PgCli
from tests.helpers.database import copy_database

FINGERPRINT = """
SELECT md5(string_agg(x, E'\\n' ORDER BY x)) FROM (
  SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' '
         || p.prosecdef || ' ' || coalesce(array_to_string(p.proacl, ','), '')
         || ' ' || coalesce(array_to_string(p.proconfig, ','), '') AS x
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || c.relrowsecurity || ' '
         || c.relforcerowsecurity || ' ' || coalesce(array_to_string(c.relacl, ','), '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'column ' || a.attrelid::regclass::text || '.' || a.attname || ' '
         || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' '
         || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
         || ' ' || coalesce(array_to_string(a.attacl, ','), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || r.conrelid::regclass::text || ' ' || r.conname || ' '
         || pg_get_constraintdef(r.oid)
    FROM pg_constraint r JOIN pg_namespace n ON n.oid = r.connamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'policy ' || pol.polrelid::regclass::text || ' ' || pol.polname || ' ' || pol.polcmd::text
         || ' ' || pol.polpermissive || ' ' || array_to_string(pol.polroles::regrole[], ',')
         || ' ' || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '')
         || ' ' || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '')
    FROM pg_policy pol
  UNION ALL
  SELECT 'trigger ' || t.tgrelid::regclass::text || ' ' || t.tgname || ' ' || t.tgenabled::text
    FROM pg_trigger t WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'schema ' || coalesce(array_to_string(nspacl, ','), '') || ' '
         || nspowner::regrole::text FROM pg_namespace WHERE nspname = 'public'
  UNION ALL
  SELECT 'database ' || coalesce(array_to_string(datacl, ','), '')
    FROM pg_database WHERE datname = current_database()
  UNION ALL
  SELECT 'default acl ' || defaclobjtype::text || ' ' || array_to_string(defaclacl, ',')
    FROM pg_default_acl
) parts
"""

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname
"""

FOREIGN_KEYS = """
SELECT r.conrelid::regclass::text, r.confrelid::regclass::text
  FROM pg_constraint r JOIN pg_namespace n ON n.oid = r.connamespace
 WHERE n.nspname = 'public' AND r.contype = 'f' AND r.conrelid <> r.confrelid
"""


@dataclass
class PgState:
    fingerprint: str
    tables: list[tuple[str, bytes]]  # in foreign-key order, referenced tables first
    sequences: list[tuple[str, int | None]]
    members: list[str]
    dump: list[str]
    checked: bool = False


class Snapshots:
    """One per test session (the `snapshots` fixture): named database states."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pg: dict[str, PgState] = {}

    def prepared(self, name: str, cli: Cli, build: Callable[[Cli], None]) -> None:
        if isinstance(cli, PgCli):
            self._prepared_pg(name, cli, build)
        else:
            self._prepared_sqlite(name, cli, build)

    # ------------------------------------------------------------------ SQLite

    def _prepared_sqlite(self, name: str, cli: Cli, build: Callable[[Cli], None]) -> None:
        template = self.folder / f"{name}.db"
        if template.exists():
            copy_database(template, cli.db_path)
            return
        build(cli)
        part = template.with_name(template.name + ".part")
        copy_database(cli.db_path, part)
        part.rename(template)

    # ------------------------------------------------------------------ PostgreSQL

    def _prepared_pg(self, name: str, cli: PgCli, build: Callable[[Cli], None]) -> None:
        state = self.pg.get(name)
        if state is not None:
            with cli.owner_connection() as conn:
                restored = _fingerprint(conn) == state.fingerprint
                if restored:
                    _restore(conn, state)
            if restored:
                if not state.checked:
                    assert cli.dump() == state.dump, f"the restored {name!r} differs from the built one"
                    state.checked = True
                return
            cli.reset()  # a test changed the schema: start again from nothing
            cli.initialise()
        build(cli)
        with cli.owner_connection() as conn:
            self.pg[name] = _capture(conn, cli.dump())


def _fingerprint(conn: Connection) -> str:
    return conn.execute(text(FINGERPRINT)).scalar_one()


def _in_key_order(conn: Connection) -> list[str]:
    tables = list(conn.execute(text(TABLES)).scalars())
    needs: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(text(FOREIGN_KEYS)):
        needs[child.strip('"')].add(parent.strip('"'))
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if parents <= set(ordered))
        assert ready, f"a cycle of foreign keys among {sorted(needs)}"
        ordered += ready
        for t in ready:
            del needs[t]
    return ordered


def _capture(conn: Connection, dump: list[str]) -> PgState:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    tables = []
    for table in _in_key_order(conn):
        with cursor.copy(f'COPY public."{table}" TO STDOUT') as copy:
            tables.append((table, b"".join(bytes(block) for block in copy)))
    sequences = [
        (f"public.{name}", last)
        for name, last in conn.execute(
            text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        )
    ]
    members = list(conn.execute(text(MEMBERS), {"group": PG_APP_ROLE}).scalars())
    return PgState(_fingerprint(conn), tables, sequences, members, dump)


def _restore(conn: Connection, state: PgState) -> None:
    # DELETE, children first: on tables of a few rows it takes a tenth of the time of a
    # TRUNCATE, which makes new files for every table and index (no triggers stop it, and
    # row-level security binds the owner only if forced, which the fingerprint would show).
    for table, _rows in reversed(state.tables):
        conn.execute(text(f'DELETE FROM public."{table}"'))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    for table, rows in state.tables:
        if rows:
            with cursor.copy(f'COPY public."{table}" FROM STDIN') as copy:
                copy.write(rows)
    for sequence, last in state.sequences:
        if last is None:
            conn.execute(text("SELECT setval(:s, 1, false)"), {"s": sequence})
        else:
            conn.execute(text("SELECT setval(:s, :v, true)"), {"s": sequence, "v": last})
    now = set(conn.execute(text(MEMBERS), {"group": PG_APP_ROLE}).scalars())
    for login in sorted(now - set(state.members)):
        conn.execute(text(f'REVOKE {PG_APP_ROLE} FROM "{login}"'))
    for login in sorted(set(state.members) - now):
        conn.execute(text(f'GRANT {PG_APP_ROLE} TO "{login}"'))
