"""The schema's migrations (Alembic scripts in versions/). The revisions they define are named
here too, so that a command can compare a database with the program without loading Alembic;
tests/unit/test_migrations.py checks that the two lists agree."""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
HEAD = REVISIONS[-1]
