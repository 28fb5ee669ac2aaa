"""Parsed rule sets kept on disk between processes (issue 18): a command that loads a rule-set
text it loaded before does not parse its TOML again.

Only data is kept, and it is read as data: the TOML of the exact text as `tomllib.loads`
gives it, in JSON with the types JSON lacks (dates, times) tagged, beside the rule set's hash.
Nothing kept is ever executed. The rule set is built from that data exactly as from freshly
parsed TOML: checked, its conditions compiled, its examples run, its hash computed, and its
evaluating function generated from its nodes (`codegen`) when it first evaluates. The
generated code is not kept: executing a file that any process of this user could have
written would be running that process's code, and no check of it would be cheaper than
compiling it again.

An entry is named by the SHA-256 of the text with this format, the Python version (tomllib's)
and Reviewer's, and is used only if all of these hold; anything else is ignored (logged at
debug level) and written again:

- the folder and the file are this user's (owner), neither group- nor world-writable, the file
  a regular file (no symbolic link followed), of a sane size (POSIX; elsewhere the user's own
  cache folder is trusted as it is);
- the file is whole: JSON with exactly the expected fields, its format, Python and Reviewer
  versions and text digest those expected, its data matching its own SHA-256;
- the data decodes strictly, and the rule set built from it has the hash the entry names
  (`rules.load_text` checks that, and loads afresh otherwise). A stored rule set must also
  have its stored hash (`rules.compiled`), so no entry can change which rule set is evaluated
  for it.

Writing is atomic (a new file in the folder, then a rename over the old name) and never fails
a command: a folder that cannot be made or written is passed over (logged at debug level).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any

from reviewer import __version__, settings

log = logging.getLogger(__name__)

FORMAT = "reviewer rule-set cache 1"
FOLDER = "rulesets"
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a rule-set file is at most 4 MB; its data a few times that
KEEP = 64  # entries kept; the oldest beyond are removed when one is written
_FIELDS = {"format", "python", "reviewer", "text_sha256", "sha256", "data_sha256", "data"}
_TAG = "\u0000"  # {TAG: [kind, value]}: a value JSON has no type for (or a table holding TAG)
_KINDS = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat, "time": dt.time.fromisoformat}


class _Unusable(Exception):
    """Why an entry is not used."""


def folder() -> Path:
    return settings.cache_dir() / FOLDER


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _name(text_sha256: str) -> str:
    return _digest(f"{FORMAT}\0{sys.version}\0{__version__}\0{text_sha256}") + ".json"


def read(text: str) -> tuple[dict[str, Any], str] | None:
    """The parsed TOML of `text` and the rule set's hash, if a usable entry holds them."""
    text_sha256 = _digest(text)
    path = folder() / _name(text_sha256)
    try:
        raw = _read_checked(path)
        entry = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        if not isinstance(entry, dict) or set(entry) != _FIELDS:
            raise _Unusable("not an entry")
        expected = {"format": FORMAT, "python": sys.version, "reviewer": __version__,
                    "text_sha256": text_sha256}  # fmt: skip
        for key, value in expected.items():
            if entry[key] != value:
                raise _Unusable(f"{key} differs")
        data_text, sha256, data_sha256 = entry["data"], entry["sha256"], entry["data_sha256"]
        if not (isinstance(data_text, str) and _is_digest(sha256) and _is_digest(data_sha256)):
            raise _Unusable("malformed fields")
        if _digest(data_text) != data_sha256:
            raise _Unusable("its data does not match its digest")
        data = _decode(json.loads(data_text, parse_constant=_no_constant))
        if not isinstance(data, dict):
            raise _Unusable("its data is not a table")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, RecursionError, _Unusable) as exc:
        log.debug("rule-set cache %s not used: %s", path, exc)
        return None
    return data, sha256


def write(text: str, data: dict[str, Any], sha256: str) -> None:
    """Keep the parsed TOML of `text` (a rule set that loaded, with hash `sha256`)."""
    text_sha256 = _digest(text)
    where = folder()
    tmp: Path | None = None
    try:
        data_text = json.dumps(_encode(data), ensure_ascii=False, allow_nan=False)
        entry = {"format": FORMAT, "python": sys.version, "reviewer": __version__,
                 "text_sha256": text_sha256, "sha256": sha256, "data_sha256": _digest(data_text),
                 "data": data_text}  # fmt: skip
        body = json.dumps(entry, ensure_ascii=False).encode("utf-8", "surrogatepass")
        if len(body) > MAX_ENTRY_BYTES:
            return
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_folder(os.stat(where, follow_symlinks=False))
        tmp = where / f".{os.getpid()}-{os.urandom(6).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, where / _name(text_sha256))
        tmp = None
        _prune(where)
    except (OSError, ValueError, TypeError, RecursionError, _Unusable) as exc:
        log.debug("rule-set cache not written in %s: %s", where, exc)
    finally:
        if tmp is not None:
            try:
                tmp.unlink()
            except OSError:
                pass


# --------------------------------------------------------------------------- checks


def _owned(st: os.stat_result) -> bool:
    """This user's, and writable by nobody else (POSIX)."""
    if not hasattr(os, "geteuid"):
        return True  # Windows: the user's own cache folder, by its access list
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _check_folder(st: os.stat_result) -> None:
    if not stat.S_ISDIR(st.st_mode):
        raise _Unusable("the cache folder is not a folder")
    if not _owned(st):
        raise _Unusable("the cache folder is another user's, or others may write to it")


def _read_checked(path: Path) -> bytes:
    """The file's bytes, opened through its folder's descriptor where the platform allows
    (so neither can be swapped between the checks and the read)."""
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY"):
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | nofollow)
        try:
            _check_folder(os.fstat(dfd))
            fd = os.open(path.name, os.O_RDONLY | nofollow, dir_fd=dfd)
        finally:
            os.close(dfd)
    else:  # pragma: no cover - Windows
        _check_folder(os.stat(path.parent, follow_symlinks=False))
        fd = os.open(path, os.O_RDONLY | nofollow)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _Unusable("not a regular file")
        if not _owned(st):
            raise _Unusable("another user's file, or others may write to it")
        if st.st_size > MAX_ENTRY_BYTES:
            raise _Unusable("too large")
        return fh.read(MAX_ENTRY_BYTES + 1)


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} in the data")


def _prune(where: Path) -> None:
    """Remove the oldest entries beyond KEEP (and leftovers of writes that never finished)."""
    entries = [p for p in where.iterdir() if p.suffix in (".json", ".tmp")]
    if len(entries) <= KEEP:
        return

    def age(p: Path) -> float:
        try:
            return p.stat(follow_symlinks=False).st_mtime
        except OSError:
            return 0.0

    entries.sort(key=age)
    for old in entries[: len(entries) - KEEP]:
        old.unlink(missing_ok=True)


# --------------------------------------------------------------------------- data


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        if _TAG in value:
            return {_TAG: ["table", [[k, _encode(v)] for k, v in value.items()]]}
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    for kind, cls in (("datetime", dt.datetime), ("date", dt.date), ("time", dt.time)):
        if isinstance(value, cls):
            return {_TAG: [kind, value.isoformat()]}
    if isinstance(value, (str, int, float)):  # bool is an int
        return value
    raise TypeError(f"not TOML data: {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if _TAG not in value:
            return {k: _decode(v) for k, v in value.items()}
        tagged = value[_TAG]
        if len(value) != 1 or not isinstance(tagged, list) or len(tagged) != 2:
            raise _Unusable("a malformed tagged value")
        kind, inner = tagged
        if kind == "table" and isinstance(inner, list):
            if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in inner):
                raise _Unusable("a malformed table")
            table = {k: _decode(v) for k, v in inner}
            if len(table) != len(inner) or _TAG not in table:
                raise _Unusable("a malformed table")
            return table
        if kind in _KINDS and isinstance(inner, str):
            return _KINDS[kind](inner)
        raise _Unusable("a malformed tagged value")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, (str, int, float)):
        return value
    raise _Unusable(f"not TOML data: {value!r}")
