"""A worker process for the concurrency tests: appends audited actions (claim, release) on
its own request through the services, one transaction per action.

Usage: python -m tests.helpers.chain_worker URL USER REFERENCE COUNT
USER is used on SQLite; on PostgreSQL the login of URL acts.
"""

from __future__ import annotations

import sys

from reviewer.models.db import Database
from reviewer.services.audit import Actor
from reviewer.services.workflow import claim, release


def main() -> None:
    url, user, reference, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    db = Database(url)
    name = user if db.is_sqlite else db.session_user()
    actor = Actor(name, "worker")
    for i in range(count):
        with db.write() as session:
            (claim if i % 2 == 0 else release)(session, actor, reference)
    db.dispose()


if __name__ == "__main__":
    main()
