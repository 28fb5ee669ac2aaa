#!/usr/bin/env bash
# The team-mode database of the tests, made as the README's "Team mode" section says: a
# database owned by reviewer_owner, the group role reviewer_app that the owner administers
# (ADMIN OPTION, no CREATEROLE), and one plain login per test user. Logins get database
# rights only through Reviewer (`db init --admin`, `users add`), which makes them members of
# reviewer_app; `db upgrade` sets up every privilege. Safe to run again: it also undoes the
# memberships and default privileges that earlier versions of this script set up.
set -euo pipefail
su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS reviewer_test;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reviewer_owner') THEN
    CREATE ROLE reviewer_owner LOGIN PASSWORD 'owner-secret';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reviewer_app') THEN
    CREATE ROLE reviewer_app NOLOGIN ADMIN reviewer_owner;
  END IF;
END $$;
GRANT reviewer_app TO reviewer_owner WITH ADMIN OPTION;
CREATE DATABASE reviewer_test OWNER reviewer_owner;
-- A database for tests: a commit does not wait for its WAL to reach the disk (a server crash
-- could lose the last few commits, never corrupt anything; no test crashes the server). The
-- PostgreSQL tests run 20% faster; a team's database keeps the default.
ALTER DATABASE reviewer_test SET synchronous_commit = off;
DO $$ DECLARE n text; BEGIN
  FOREACH n IN ARRAY ARRAY['admin1','rev1','rev2','sen1','sen2','adm','stranger','tester']
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) THEN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', n, 'team-secret');
    ELSIF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                  JOIN pg_roles u ON u.oid = m.member
                  WHERE g.rolname = 'reviewer_app' AND u.rolname = n) THEN
      EXECUTE format('REVOKE reviewer_app FROM %I', n);
    END IF;
  END LOOP;
END $$;
SQL
