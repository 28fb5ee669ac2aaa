"""Looking into a SQLite database file directly, as the tests compare two of them."""

from __future__ import annotations

import sqlite3


def hashes(db_path) -> dict[str, str]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("select reference, document_sha256 from requests"))
    finally:
        conn.close()
