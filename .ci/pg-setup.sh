#!/usr/bin/env bash
# The team-mode database of the tests, made as the README's "Team mode" section says: a
# database owned by reviewer_owner, a group role reviewer_app with data privileges only, and
# one login per test user (member of reviewer_app).
set -euo pipefail
su postgres -c "psql -v ON_ERROR_STOP=1 -q" <<'SQL'
DROP DATABASE IF EXISTS reviewer_test;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reviewer_owner') THEN
    CREATE ROLE reviewer_owner LOGIN PASSWORD 'owner-secret';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reviewer_app') THEN
    CREATE ROLE reviewer_app NOLOGIN;
  END IF;
END $$;
CREATE DATABASE reviewer_test OWNER reviewer_owner;
DO $$ DECLARE n text; BEGIN
  FOREACH n IN ARRAY ARRAY['admin1','rev1','rev2','sen1','sen2','adm','stranger','tester']
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) THEN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE reviewer_app', n, 'team-secret');
    END IF;
  END LOOP;
END $$;
SQL
PGPASSWORD=owner-secret psql -v ON_ERROR_STOP=1 -q -h localhost -U reviewer_owner -d reviewer_test <<'SQL'
ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO reviewer_app;
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO reviewer_app;
GRANT USAGE ON SCHEMA public TO reviewer_app;
SQL
