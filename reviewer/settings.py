"""Per-user settings: where the database lives. Declared once, read by the core.

Order of precedence for the database: `--database URL`, then `REVIEWER_DATABASE_URL`, then
`database_url` in the TOML settings file of the platformdirs config folder, then a SQLite
file in the user's data folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "reviewer"
ENV_DATABASE = "REVIEWER_DATABASE_URL"
ENV_USER = "REVIEWER_USER"


def data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    """What may be made again at any time (the parsed rule sets of `rules.diskcache`)."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "settings.toml"


ENV_KEY_PASSPHRASE = "REVIEWER_KEY_PASSPHRASE"


def signing_key_file() -> Path:
    """The organisation's signing key on this workstation (PKCS#12, owner-only)."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / "signing-key.p12"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'reviewer.db'}"


@dataclass(frozen=True)
class UserSettings:
    """What the settings file may hold."""

    database_url: str | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> UserSettings:
        path = path or config_file()
        try:
            with path.open("rb") as fh:
                import tomllib  # only when there is a settings file (most starts have none)

                raw = tomllib.load(fh)
        except FileNotFoundError:
            return cls()
        value = raw.get("database_url")
        return cls(database_url=str(value) if value else None)


def resolve_database_url(cli_value: str | None = None) -> str:
    if cli_value:
        return cli_value
    env = os.environ.get(ENV_DATABASE)
    if env:
        return env
    settings = UserSettings.load()
    if settings.database_url:
        return settings.database_url
    return default_database_url()


def plain_sqlite_path(url: str) -> Path | None:
    """The file a plain `sqlite:///PATH` URL names (no query, nothing percent-encoded), as
    SQLAlchemy reads it, told without loading SQLAlchemy; None for any other URL, and for one
    without a path or of `:memory:` (SQLAlchemy reads those, and says what is wrong)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "%" in url:
        return None
    name = url[len(prefix) :]
    return Path(name) if name and name != ":memory:" else None


def missing_sqlite_file(cli_value: str | None = None) -> bool:
    """Whether the database in use (`resolve_database_url`) is a plain SQLite URL whose file
    does not exist: a reading command then has no database, and knows it without the
    database layer (which would create the file's folder). False when it cannot tell."""
    path = plain_sqlite_path(resolve_database_url(cli_value))
    return path is not None and not path.exists()


def log_file() -> Path:
    return data_dir() / "reviewer.log"


def save_database_url(url: str, path: Path | None = None) -> Path:
    """Write `database_url` to the per-user settings file (other keys are kept)."""
    path = path or config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    if path.exists():
        lines = [
            ln
            for ln in path.read_text(encoding="utf-8").splitlines()
            if not ln.strip().startswith("database_url")
        ]
    # A JSON string is a valid TOML basic string.
    lines.append(f"database_url = {json.dumps(url, ensure_ascii=False)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
