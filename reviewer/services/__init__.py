"""Everything that takes a session and an actor. Services never commit: the caller owns the
transaction, so a refused or failed action leaves the database as it was."""
