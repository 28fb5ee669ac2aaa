"""The schema's migrations (Alembic scripts in versions/). The revisions they define are named
in `reviewer.schema`, so that a command can compare a database with the program without
loading Alembic; tests/unit/test_migrations.py checks that the two lists agree."""

from reviewer.schema import HEAD, REVISIONS

__all__ = ["HEAD", "REVISIONS"]
