"""Looking into a SQLite database file directly, as the tests compare two of them, and copying
one consistently (SQLite's backup API: what `reviewer db backup` does, without a process)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def hashes(db_path) -> dict[str, str]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("select reference, document_sha256 from requests"))
    finally:
        conn.close()


def copy_database(source: Path, target: Path) -> Path:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target
