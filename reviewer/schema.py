"""The schema's revisions (the Alembic scripts in reviewer/models/migrations/versions), named
where a command can compare a database with the program without loading SQLAlchemy or Alembic
(`reviewer.models.migrations` names them too, but importing it loads the models);
tests/unit/test_migrations.py checks that they are the scripts' revisions."""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
HEAD = REVISIONS[-1]

# The SHA-256 of a SQLite database's catalogue at HEAD (`services.direct.schema_digest`): the
# same for every database the migrations made, whichever revision it started at. A new
# revision changes it; tests/unit/test_direct.py says the new value.
SQLITE_SCHEMA = "923cb6b37c9e1bc7802744bfe05b18067064f1173882a50579cb7744fe86aae5"
