"""The schema's revisions (the Alembic scripts in reviewer/models/migrations/versions), named
where a command can compare a database with the program without loading SQLAlchemy or Alembic
(`reviewer.models.migrations` names them too, but importing it loads the models);
tests/unit/test_migrations.py checks that they are the scripts' revisions."""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
HEAD = REVISIONS[-1]
