"""Shared fixtures. Qt runs offscreen; every test gets its own data and config folders."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from reviewer.cli import main as cli_main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("REVIEWER_DATABASE_URL", raising=False)
    monkeypatch.delenv("REVIEWER_USER", raising=False)
    return home


class Cli:
    """Runs `reviewer` in-process against one database and captures its output."""

    def __init__(self, db_path: Path, capsys) -> None:
        self.db_path = db_path
        self.url = f"sqlite:///{db_path}"
        self.capsys = capsys

    def __call__(self, *args: str, user: str | None = None):
        argv = [*args, "--database", self.url]
        if user:
            argv += ["--user", user]
        self.capsys.readouterr()
        code = cli_main(argv)
        out, err = self.capsys.readouterr()
        return code, out, err

    def dump(self) -> list[str]:
        """The logical dump of the database: its whole content as SQL text."""
        conn = sqlite3.connect(self.db_path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()


@pytest.fixture
def cli(tmp_path, capsys) -> Cli:
    return Cli(tmp_path / "reviewer.db", capsys)


@pytest.fixture
def examples() -> list[Path]:
    files = sorted(EXAMPLES.glob("p*.json"))
    assert files, f"no examples found in {EXAMPLES}"
    return files


@pytest.fixture
def expected() -> dict[str, dict]:
    return {e["file"]: e for e in json.loads((EXAMPLES / "expected.json").read_text())}
