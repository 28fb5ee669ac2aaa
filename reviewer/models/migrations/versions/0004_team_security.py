"""team mode enforces roles in the database: least privilege for the app's group role,
one append function for the audit chain, admin functions for accounts, roles, rule sets and
settings (PostgreSQL only; nothing changes on SQLite)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00

What a login can do, even in psql (the README, Team mode):

* every Reviewer login is a member of the group role `reviewer_app`, given by
  `reviewer users add` (and by `db init --admin`) and taken away by `users disable` (and
  when an account loses its last role); the database owner holds ADMIN OPTION on the group
  and nothing more (no CREATEROLE);
* the group may connect and read every table; it writes only the workflow tables
  (requests, request_versions, decisions, conditions: INSERT and UPDATE of the columns the
  app changes, never DELETE), and there row-level security lets only an active account with
  the reviewer or senior role write decisions and conditions, as itself;
* accounts, account_roles, rule_sets, settings, alembic_version, audit_events and chain_head
  are written only by the owner and by its SECURITY DEFINER functions: `append_event` (any
  active account, reserved actions refused) and the `admin_*` functions (an active admin);
  each checks seq = head + 1, prev_hash = the head's hash and the event hash over the
  payload text as stored, with actor = session_user, before it inserts the event and moves
  the head (locked FOR UPDATE) in the caller's transaction;
* every function pins search_path; TEMP, CONNECT and default EXECUTE are revoked from
  PUBLIC.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APP_ROLE = "reviewer_app"
PIN = "SET search_path = pg_catalog, public, pg_temp"
GENESIS = "0" * 64
# Actions only the admin functions (or the database owner) may write.
RESERVED = ("users_add", "users_role", "users_disable", "settings", "rules_import",
            "rules_propose", "rules_activate", "bootstrap", "baseline", "restore")  # fmt: skip
ROLES = ("reviewer", "senior", "admin")

# (table, INSERT?, columns the app updates): everything the workflow writes as a reviewer.
WORKFLOW_TABLES = (
    ("requests", True, ("received_on", "title", "customer_name", "country", "org_type",
                        "status", "recommendation", "assignee_id", "updated_at", "search_key",
                        "version", "document_version", "document", "document_sha256",
                        "evaluation", "rule_set_pk")),
    ("request_versions", True, ()),
    ("decisions", True, ("final", "rejected", "reject_reason", "checker_id", "checker_roles",
                         "checked_at", "record_hash", "event_seq")),
    ("conditions", True, ("status", "changed_by", "changed_at", "note")),
)  # fmt: skip
READ_ONLY_TABLES = ("accounts", "account_roles", "rule_sets", "settings", "alembic_version",
                    "audit_events", "chain_head")  # fmt: skip

# The event tail every appending function takes: the row the app computed (the actor is
# always session_user, so there is no parameter for it).
TAIL = ("p_seq integer, p_time text, p_os_login text, p_action text, p_reference text, "
        "p_payload text, p_prev_hash text, p_hash text")  # fmt: skip
TAIL_ARGS = "p_seq, p_time, p_os_login, p_action, p_reference, p_payload, p_prev_hash, p_hash"
TAIL_TYPES = "integer, text, text, text, text, text, text, text"

# name -> (extra parameters, extra parameter types): the functions the group may execute.
PUBLIC_FUNCTIONS = {
    "append_event": ("", ""),
    "admin_add_account": ("", ""),
    "admin_change_roles": ("", ""),
    "admin_disable_account": ("", ""),
    "admin_set_setting": ("", ""),
    "admin_import_rule_set": ("p_rule_set_id text, p_version integer, p_title text, "
                              "p_effective_on date, p_content text, ",
                              "text, integer, text, date, text, "),
    "admin_propose_rule_set": ("p_backtest text, ", "text, "),
    "admin_activate_rule_set": ("", ""),
}  # fmt: skip


def _quoted(items: tuple[str, ...]) -> str:
    return ", ".join(f"'{i}'" for i in items)


HELPERS = f"""
-- The hash the app computes: sha256_hex(prev_hash + "\\n" + canonical_json(body)), with the
-- payload text spliced in exactly as stored; keys in sorted order, nulls dropped.
CREATE OR REPLACE FUNCTION public.reviewer_event_hash(
    p_prev text, p_seq integer, p_time text, p_actor text, p_os_login text, p_action text,
    p_reference text, p_payload text) RETURNS text
LANGUAGE sql STABLE {PIN} AS $$
  SELECT encode(sha256(convert_to(p_prev || E'\\n' || '{{'
    || '"action":' || to_json(p_action)::text
    || ',"actor":' || to_json(p_actor)::text
    || coalesce(',"os_login":' || to_json(p_os_login)::text, '')
    || ',"payload":' || p_payload
    || coalesce(',"reference":' || to_json(p_reference)::text, '')
    || ',"seq":' || p_seq::text
    || ',"time":' || to_json(p_time)::text || '}}', 'UTF8')), 'hex') $$;

CREATE OR REPLACE FUNCTION public.reviewer_is_owner() RETURNS boolean
LANGUAGE sql STABLE {PIN} AS $$
  SELECT d.datdba = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = session_user)
  FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database() $$;

-- The caller's active account id, or null.
CREATE OR REPLACE FUNCTION public.reviewer_account_id() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER {PIN} AS $$
  SELECT a.id FROM public.accounts a WHERE a.name = session_user AND a.active $$;

CREATE OR REPLACE FUNCTION public.reviewer_has_role(p_roles text[]) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER {PIN} AS $$
  SELECT EXISTS (SELECT 1 FROM public.accounts a JOIN public.account_roles r
                 ON r.account_id = a.id
                 WHERE a.name = session_user AND a.active AND r.role = ANY (p_roles)) $$;

-- The only writer of audit_events and chain_head. Granted to nobody: the public functions
-- below call it after their own checks.
CREATE OR REPLACE FUNCTION public._reviewer_append({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE h_seq integer; h_hash text;
BEGIN
  SELECT h.seq, h.hash INTO h_seq, h_hash FROM public.chain_head h WHERE h.id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the audit chain has no head row' USING ERRCODE = 'P0002';
  END IF;
  IF p_seq IS DISTINCT FROM h_seq + 1 OR p_prev_hash IS DISTINCT FROM h_hash THEN
    RAISE EXCEPTION 'the audit chain is at event % (hash %...): event % with prev_hash %... '
      'does not follow it; reload and try again', h_seq, left(h_hash, 12), p_seq,
      left(coalesce(p_prev_hash, 'null'), 12) USING ERRCODE = '40001';
  END IF;
  IF p_action IS NULL OR p_action !~ '^[a-z][a-z_]{{0,31}}$' THEN
    RAISE EXCEPTION 'invalid audit action %', p_action USING ERRCODE = '22023';
  END IF;
  IF p_time IS NULL
     OR p_time !~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}[.][0-9]{{6}}Z$'
  THEN
    RAISE EXCEPTION 'invalid event time %', p_time USING ERRCODE = '22023';
  END IF;
  IF p_payload IS NULL OR pg_catalog.jsonb_typeof(p_payload::jsonb) <> 'object' THEN
    RAISE EXCEPTION 'an event payload is a JSON object' USING ERRCODE = '22023';
  END IF;
  IF p_hash IS DISTINCT FROM public.reviewer_event_hash(p_prev_hash, p_seq, p_time,
      session_user::text, p_os_login, p_action, p_reference, p_payload) THEN
    RAISE EXCEPTION 'event %: its hash does not match its content with actor %', p_seq,
      session_user USING ERRCODE = '22023';
  END IF;
  INSERT INTO public.audit_events (seq, time, actor, os_login, action, reference, payload,
                                   prev_hash, hash)
  VALUES (p_seq, p_time, session_user, p_os_login, p_action, p_reference, p_payload,
          p_prev_hash, p_hash);
  UPDATE public.chain_head SET seq = p_seq, hash = p_hash WHERE id = 1;
  RETURN p_seq;
END $$;

CREATE OR REPLACE FUNCTION public._reviewer_require_admin(p_action text, p_expected text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
BEGIN
  PERFORM 1 FROM public.chain_head WHERE id = 1 FOR UPDATE;  -- admin changes run one at a time
  IF NOT public.reviewer_has_role(ARRAY['admin']) THEN
    RAISE EXCEPTION 'permission denied: % is not an active admin account', session_user
      USING ERRCODE = '42501';
  END IF;
  IF p_action IS DISTINCT FROM p_expected THEN
    RAISE EXCEPTION 'this function writes % events, not %', p_expected, p_action
      USING ERRCODE = '22023';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION public._reviewer_active_admins() RETURNS bigint
LANGUAGE sql STABLE {PIN} AS $$
  SELECT count(*) FROM public.accounts a JOIN public.account_roles r ON r.account_id = a.id
  WHERE a.active AND r.role = 'admin' $$;

CREATE OR REPLACE FUNCTION public._reviewer_roles_of(p_payload jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE {PIN} AS $$
DECLARE roles text[];
BEGIN
  IF p_payload IS NULL OR pg_catalog.jsonb_typeof(p_payload->'roles') <> 'array' THEN
    RAISE EXCEPTION 'the payload names no roles' USING ERRCODE = '22023';
  END IF;
  roles := ARRAY(SELECT pg_catalog.jsonb_array_elements_text(p_payload->'roles'));
  IF roles <> ARRAY(SELECT DISTINCT x COLLATE "C" FROM unnest(roles) x ORDER BY 1)
     OR NOT roles <@ ARRAY[{_quoted(ROLES)}] THEN
    RAISE EXCEPTION 'roles are a sorted set of {", ".join(ROLES)}, not %', roles
      USING ERRCODE = '22023';
  END IF;
  RETURN roles;
END $$;
"""

APPEND = f"""
CREATE OR REPLACE FUNCTION public.lock_chain_head(OUT seq integer, OUT hash text)
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
BEGIN
  IF public.reviewer_account_id() IS NULL AND NOT public.reviewer_is_owner() THEN
    RAISE EXCEPTION 'permission denied: % has no active account in this database',
      session_user USING ERRCODE = '42501';
  END IF;
  SELECT h.seq, h.hash INTO seq, hash FROM public.chain_head h WHERE h.id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the audit chain has no head row' USING ERRCODE = 'P0002';
  END IF;
END $$;

-- Workflow events by any active account (the database owner too: it owns every table
-- anyway, and writes the bootstrap event of `db init` before any account can act).
CREATE OR REPLACE FUNCTION public.append_event({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
BEGIN
  IF public.reviewer_is_owner() THEN
    RETURN public._reviewer_append({TAIL_ARGS});
  END IF;
  IF public.reviewer_account_id() IS NULL THEN
    RAISE EXCEPTION 'permission denied: % has no active account in this database',
      session_user USING ERRCODE = '42501';
  END IF;
  IF p_action IN ({_quoted(RESERVED)}) THEN
    RAISE EXCEPTION 'permission denied: % events are written only by the admin functions',
      p_action USING ERRCODE = '42501';
  END IF;
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;
"""

ADMIN = f"""
-- Makes an existing ordinary login a member of the group role. Granted to nobody.
CREATE OR REPLACE FUNCTION public._reviewer_admit(p_login text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE r pg_catalog.pg_roles;
BEGIN
  SELECT * INTO r FROM pg_catalog.pg_roles WHERE rolname = p_login;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no database login named %', p_login USING ERRCODE = 'P0002';
  END IF;
  IF NOT r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
     OR r.rolbypassrls OR p_login = '{APP_ROLE}' OR r.oid = (SELECT d.datdba FROM
     pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()) THEN
    RAISE EXCEPTION 'permission denied: % is not an ordinary login (a superuser, a role '
      'with CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS, or the database owner cannot '
      'be an account)', p_login USING ERRCODE = '42501';
  END IF;
  EXECUTE format('GRANT %I TO %I', '{APP_ROLE}', p_login);
END $$;

-- bootstrap {{"account", "roles", "rule_set", "rule_set_sha256"}}, by the database owner
-- (`db init --admin LOGIN`), who has just inserted the first account: its login joins the
-- group role. Granted to nobody (the owner may run its own functions).
CREATE OR REPLACE FUNCTION public._reviewer_bootstrap({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE login text := p_payload::jsonb->>'account';
BEGIN
  IF NOT public.reviewer_is_owner() THEN
    RAISE EXCEPTION 'permission denied: only the database owner initialises it'
      USING ERRCODE = '42501';
  END IF;
  IF p_action IS DISTINCT FROM 'bootstrap' OR (SELECT count(*) FROM public.accounts) <> 1
     OR NOT EXISTS (SELECT 1 FROM public.accounts WHERE name = login) THEN
    RAISE EXCEPTION 'a bootstrap event names the first and only account'
      USING ERRCODE = '22023';
  END IF;
  PERFORM public._reviewer_admit(login);
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

-- users_add {{"account", "roles"}}: an existing ordinary login becomes an account and a member
-- of the group role.
CREATE OR REPLACE FUNCTION public.admin_add_account({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE v jsonb := p_payload::jsonb; login text; roles text[]; acc integer;
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'users_add');
  login := v->>'account';
  roles := public._reviewer_roles_of(v);
  IF cardinality(roles) = 0 THEN
    RAISE EXCEPTION 'an account needs at least one role' USING ERRCODE = '22023';
  END IF;
  IF EXISTS (SELECT 1 FROM public.accounts WHERE name = login) THEN
    RAISE EXCEPTION 'an account named % already exists', login USING ERRCODE = '22023';
  END IF;
  INSERT INTO public.accounts (name, active, created_at) VALUES (login, true, p_time)
    RETURNING id INTO acc;
  INSERT INTO public.account_roles (account_id, role) SELECT acc, x FROM unnest(roles) x;
  PERFORM public._reviewer_admit(login);
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

-- users_role {{"account", "add" | "remove", "roles"}}: one role added or removed; roles is the
-- result. An account left without roles leaves the group role.
CREATE OR REPLACE FUNCTION public.admin_change_roles({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE v jsonb := p_payload::jsonb; login text := v->>'account'; a_add text := v->>'add';
        a_remove text := v->>'remove'; roles text[]; acc integer; now_roles text[];
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'users_role');
  roles := public._reviewer_roles_of(v);
  SELECT id INTO acc FROM public.accounts WHERE name = login;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no account named %', login USING ERRCODE = 'P0002';
  END IF;
  IF (a_add IS NULL) = (a_remove IS NULL) OR NOT coalesce(a_add, a_remove) =
     ANY (ARRAY[{_quoted(ROLES)}]) THEN
    RAISE EXCEPTION 'give one role to add or to remove' USING ERRCODE = '22023';
  END IF;
  IF a_add IS NOT NULL THEN
    INSERT INTO public.account_roles (account_id, role) VALUES (acc, a_add)
      ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION '% already has the role %', login, a_add USING ERRCODE = '22023';
    END IF;
  ELSE
    DELETE FROM public.account_roles WHERE account_id = acc AND role = a_remove;
    IF NOT FOUND THEN
      RAISE EXCEPTION '% does not have the role %', login, a_remove USING ERRCODE = '22023';
    END IF;
    IF public._reviewer_active_admins() = 0 THEN
      RAISE EXCEPTION 'permission denied: the last active admin cannot lose the admin role'
        USING ERRCODE = '42501';
    END IF;
  END IF;
  now_roles := ARRAY(SELECT role::text FROM public.account_roles WHERE account_id = acc
                     ORDER BY role COLLATE "C");
  IF now_roles <> roles THEN
    RAISE EXCEPTION 'the payload says roles %, the account has %', roles, now_roles
      USING ERRCODE = '22023';
  END IF;
  IF cardinality(now_roles) = 0 AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles
                                            WHERE rolname = login) THEN
    EXECUTE format('REVOKE %I FROM %I', '{APP_ROLE}', login);
  ELSIF a_add IS NOT NULL AND EXISTS (SELECT 1 FROM public.accounts WHERE id = acc AND active)
  THEN
    PERFORM public._reviewer_admit(login);
  END IF;
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

-- users_disable {{"account"}}: the account is inactive and its login leaves the group role
-- (effective at its next statement, even in an open session).
CREATE OR REPLACE FUNCTION public.admin_disable_account({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE login text := p_payload::jsonb->>'account';
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'users_disable');
  UPDATE public.accounts SET active = false WHERE name = login AND active;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no active account named %', login USING ERRCODE = 'P0002';
  END IF;
  IF public._reviewer_active_admins() = 0 THEN
    RAISE EXCEPTION 'permission denied: the last active admin cannot be disabled'
      USING ERRCODE = '42501';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = login) THEN
    EXECUTE format('REVOKE %I FROM %I', '{APP_ROLE}', login);
  END IF;
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

-- settings {{"key", "value"}}
CREATE OR REPLACE FUNCTION public.admin_set_setting({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE v jsonb := p_payload::jsonb;
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'settings');
  IF v->>'key' IS NULL OR v->>'value' IS NULL THEN
    RAISE EXCEPTION 'a setting needs a key and a value' USING ERRCODE = '22023';
  END IF;
  INSERT INTO public.settings (key, value, updated_by, updated_at)
  VALUES (v->>'key', v->>'value', session_user, p_time)
  ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by,
                                  updated_at = EXCLUDED.updated_at;
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

-- rules_import {{"rule_set": "ID@VERSION", "sha256"}}: a draft.
CREATE OR REPLACE FUNCTION public.admin_import_rule_set(
    p_rule_set_id text, p_version integer, p_title text, p_effective_on date, p_content text,
    {TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE v jsonb := p_payload::jsonb;
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'rules_import');
  IF v->>'rule_set' IS DISTINCT FROM p_rule_set_id || '@' || p_version
     OR v->>'sha256' IS NULL OR p_content IS NULL THEN
    RAISE EXCEPTION 'the payload does not describe rule set %@%', p_rule_set_id, p_version
      USING ERRCODE = '22023';
  END IF;
  INSERT INTO public.rule_sets (rule_set_id, version, title, effective_on, sha256, content,
                                state, imported_by, imported_at)
  VALUES (p_rule_set_id, p_version, p_title, p_effective_on, v->>'sha256', p_content,
          'draft', session_user, p_time);
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

CREATE OR REPLACE FUNCTION public._reviewer_rule_set(p_key text) RETURNS public.rule_sets
LANGUAGE plpgsql {PIN} AS $$
DECLARE row public.rule_sets;
BEGIN
  SELECT * INTO row FROM public.rule_sets
  WHERE rule_set_id = substring(p_key FROM '^(.*)@[0-9]+$')
    AND version = substring(p_key FROM '@([0-9]+)$')::integer
  FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no rule set %', p_key USING ERRCODE = 'P0002';
  END IF;
  RETURN row;
END $$;

-- rules_propose {{"rule_set", "sha256", "changed"}}: a draft becomes proposed, with its backtest.
CREATE OR REPLACE FUNCTION public.admin_propose_rule_set(p_backtest text, {TAIL})
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE v jsonb := p_payload::jsonb; row public.rule_sets;
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'rules_propose');
  row := public._reviewer_rule_set(v->>'rule_set');
  IF row.state <> 'draft' OR row.sha256 IS DISTINCT FROM v->>'sha256' THEN
    RAISE EXCEPTION 'permission denied: % is %, with sha256 %...: only that draft can be '
      'proposed', v->>'rule_set', row.state, left(row.sha256, 16) USING ERRCODE = '42501';
  END IF;
  UPDATE public.rule_sets SET state = 'proposed', proposed_by = session_user,
         proposed_at = p_time, backtest = p_backtest WHERE id = row.id;
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;

-- rules_activate {{"rule_set", "sha256", "previous", ...}}: a different admin activates a
-- proposed version (four eyes); the active one retires. The app refreshes the stored
-- evaluations of the requests in the same transaction (an UPDATE the group may do).
CREATE OR REPLACE FUNCTION public.admin_activate_rule_set({TAIL}) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER {PIN} AS $$
DECLARE v jsonb := p_payload::jsonb; row public.rule_sets; prev text;
BEGIN
  PERFORM public._reviewer_require_admin(p_action, 'rules_activate');
  row := public._reviewer_rule_set(v->>'rule_set');
  IF row.state <> 'proposed' OR row.sha256 IS DISTINCT FROM v->>'sha256' THEN
    RAISE EXCEPTION 'permission denied: % is %: only a proposed version can be approved',
      v->>'rule_set', row.state USING ERRCODE = '42501';
  END IF;
  IF row.proposed_by = session_user THEN
    RAISE EXCEPTION 'permission denied: % was proposed by %: a different admin must approve '
      'it (four eyes)', v->>'rule_set', session_user USING ERRCODE = '42501';
  END IF;
  SELECT string_agg(rule_set_id || '@' || version, ',') INTO prev FROM public.rule_sets
  WHERE state = 'active';
  IF prev IS DISTINCT FROM v->>'previous' THEN
    RAISE EXCEPTION 'the active rule set is %, the payload says %', prev, v->>'previous'
      USING ERRCODE = '40001';
  END IF;
  UPDATE public.rule_sets SET state = 'retired' WHERE state = 'active';
  UPDATE public.rule_sets SET state = 'active', approved_by = session_user,
         approved_at = p_time WHERE id = row.id;
  RETURN public._reviewer_append({TAIL_ARGS});
END $$;
"""

# Row-level security on the workflow tables: reading is open to the group; only an active
# account writes (a member of the group without one writes nothing), a new request version in
# its own name; a decision is inserted only by an active reviewer or senior in its own name
# and checked only in the checker's own name; conditions are written only by an active
# reviewer or senior, as itself. (A failing check raises an error; USING (true) never hides
# rows from an UPDATE.)
RLS_TABLES = ("requests", "request_versions", "decisions", "conditions")
POLICIES = "".join(
    f"ALTER TABLE public.{t} ENABLE ROW LEVEL SECURITY;\n"
    + "".join(f"DROP POLICY IF EXISTS reviewer_{p} ON public.{t};\n"
              for p in ("read", "insert", "update"))
    for t in RLS_TABLES
) + """
CREATE POLICY reviewer_read ON public.requests FOR SELECT USING (true);
CREATE POLICY reviewer_insert ON public.requests FOR INSERT
  WITH CHECK (public.reviewer_account_id() IS NOT NULL);
CREATE POLICY reviewer_update ON public.requests FOR UPDATE USING (true)
  WITH CHECK (public.reviewer_account_id() IS NOT NULL);
CREATE POLICY reviewer_read ON public.request_versions FOR SELECT USING (true);
CREATE POLICY reviewer_insert ON public.request_versions FOR INSERT
  WITH CHECK (public.reviewer_account_id() IS NOT NULL AND created_by = session_user);
CREATE POLICY reviewer_read ON public.decisions FOR SELECT USING (true);
CREATE POLICY reviewer_insert ON public.decisions FOR INSERT
  WITH CHECK (public.reviewer_has_role(ARRAY['reviewer', 'senior'])
              AND decider_id = public.reviewer_account_id());
CREATE POLICY reviewer_update ON public.decisions FOR UPDATE USING (true)
  WITH CHECK (checker_id IS NULL OR checker_id = public.reviewer_account_id());
CREATE POLICY reviewer_read ON public.conditions FOR SELECT USING (true);
CREATE POLICY reviewer_insert ON public.conditions FOR INSERT
  WITH CHECK (public.reviewer_has_role(ARRAY['reviewer', 'senior']));
CREATE POLICY reviewer_update ON public.conditions FOR UPDATE USING (true)
  WITH CHECK (public.reviewer_has_role(ARRAY['reviewer', 'senior'])
              AND changed_by = session_user);
"""


def _grants() -> str:
    """Every privilege of the group role and of PUBLIC, from nothing (idempotent)."""
    tables = [t for t, _i, _c in WORKFLOW_TABLES] + list(READ_ONLY_TABLES)
    lines = [
        "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', "
        "current_database()); EXECUTE format('GRANT CONNECT ON DATABASE %I TO "
        f"{APP_ROLE}', current_database()); EXECUTE format('REVOKE TEMPORARY, CREATE ON "
        f"DATABASE %I FROM {APP_ROLE}', current_database()); END $$",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"REVOKE ALL ON SCHEMA public FROM {APP_ROLE}",
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
        # What the README of 0003 told owners to run, and the defaults for what comes next:
        # new tables are readable, nothing more; new functions run for nobody.
        f"ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM {APP_ROLE}",
        f"ALTER DEFAULT PRIVILEGES REVOKE ALL ON FUNCTIONS FROM {APP_ROLE}",
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
        f"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {APP_ROLE}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {APP_ROLE}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, {APP_ROLE}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC, {APP_ROLE}",
        f"GRANT SELECT ON {', '.join(f'public.{t}' for t in tables)} TO {APP_ROLE}",
    ]
    for table, can_insert, columns in WORKFLOW_TABLES:
        if can_insert:
            lines.append(f"GRANT INSERT ON public.{table} TO {APP_ROLE}")
            lines.append(
                f"DO $$ BEGIN EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}', "
                f"pg_get_serial_sequence('public.{table}', 'id')); END $$"
            )
        if columns:
            lines.append(f"GRANT UPDATE ({', '.join(columns)}) ON public.{table} TO {APP_ROLE}")
    for name, (_params, types) in PUBLIC_FUNCTIONS.items():
        lines.append(f"GRANT EXECUTE ON FUNCTION public.{name}({types}{TAIL_TYPES}) TO {APP_ROLE}")
    for signature in ("lock_chain_head()", "reviewer_account_id()", "reviewer_has_role(text[])"):
        lines.append(f"GRANT EXECUTE ON FUNCTION public.{signature} TO {APP_ROLE}")
    return ";\n".join(lines) + ";\n"


PRECONDITION = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{APP_ROLE}') THEN
    RAISE EXCEPTION 'team mode needs the group role {APP_ROLE}: as a superuser, run '
      'CREATE ROLE {APP_ROLE} NOLOGIN ADMIN %I (see the README, Team mode)', session_user;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                 JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                 JOIN pg_catalog.pg_roles o ON o.oid = m.member
                 WHERE g.rolname = '{APP_ROLE}' AND o.rolname = session_user AND m.admin_option)
     AND NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user) THEN
    RAISE EXCEPTION 'the database owner % needs ADMIN OPTION on {APP_ROLE} to give and take '
      'away database rights: as a superuser, run GRANT {APP_ROLE} TO % WITH ADMIN OPTION '
      '(see the README, Team mode)', session_user, session_user;
  END IF;
END $$;
"""

# Logins of accounts made before this revision: members exactly while their account is active.
MEMBERSHIP = f"""
DO $$ DECLARE n text; BEGIN
  FOR n IN SELECT a.name FROM public.accounts a JOIN pg_catalog.pg_roles r ON r.rolname = a.name
           WHERE a.active AND EXISTS (SELECT 1 FROM public.account_roles x
                                      WHERE x.account_id = a.id)
           AND r.rolcanlogin AND NOT r.rolsuper LOOP
    EXECUTE format('GRANT %I TO %I', '{APP_ROLE}', n);
  END LOOP;
  FOR n IN SELECT a.name FROM public.accounts a JOIN pg_catalog.pg_roles r ON r.rolname = a.name
           WHERE NOT a.active OR NOT EXISTS (SELECT 1 FROM public.account_roles x
                                             WHERE x.account_id = a.id) LOOP
    EXECUTE format('REVOKE %I FROM %I', '{APP_ROLE}', n);
  END LOOP;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PRECONDITION)
    op.execute(f"INSERT INTO public.chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS}') "
               "ON CONFLICT (id) DO NOTHING")  # fmt: skip
    op.execute(HELPERS)
    op.execute(APPEND)
    op.execute(ADMIN)
    op.execute(POLICIES)
    op.execute(_grants())
    op.execute(MEMBERSHIP)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in RLS_TABLES:
        for policy in ("reviewer_read", "reviewer_insert", "reviewer_update"):
            op.execute(f"DROP POLICY IF EXISTS {policy} ON public.{table}")
        op.execute(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY")
    for name, (_params, types) in PUBLIC_FUNCTIONS.items():
        op.execute(f"DROP FUNCTION IF EXISTS public.{name}({types}{TAIL_TYPES})")
    for signature in ("lock_chain_head()", "_reviewer_rule_set(text)", "_reviewer_admit(text)",
                      f"_reviewer_bootstrap({TAIL_TYPES})",
                      f"_reviewer_append({TAIL_TYPES})", "_reviewer_require_admin(text, text)",
                      "_reviewer_active_admins()", "_reviewer_roles_of(jsonb)",
                      "reviewer_has_role(text[])", "reviewer_account_id()",
                      "reviewer_is_owner()",
                      "reviewer_event_hash(text, integer, text, text, text, text, text, text)"):
        op.execute(f"DROP FUNCTION IF EXISTS public.{signature}")
    # Back to the grants of revision 0003's README.
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
