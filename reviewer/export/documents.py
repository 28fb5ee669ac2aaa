"""Requests written in the request format (`request-format.md`): JSON, JSON Lines and CSV, which
`reviewer import` reads back unchanged."""

from __future__ import annotations

import csv
import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from reviewer import request as rq
from reviewer.errors import EnvironmentProblem

CSV_COLUMNS = list(rq.LEAF_FIELDS)


def csv_cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    kind = rq.LEAF_FIELDS[column].kind
    if kind == "set":
        return ";".join(value) if value else "[]"
    if kind == "objlist":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else "[]"
    if kind == "bool":
        return "true" if value else "false"
    return str(value) if not isinstance(value, float) else repr(value)


def write_export(docs: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Write documents in the request format; import reads them back unchanged."""
    n = 0
    if fmt == "jsonl":
        for doc in docs:
            out.write(rq.canonical_json(doc) + "\n")
            n += 1
    elif fmt == "json":
        out.write("[")
        for doc in docs:
            out.write(("," if n else "") + "\n" + json.dumps(doc, ensure_ascii=False, indent=2))
            n += 1
        out.write("\n]\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a lone \r gets quoted
        writer.writerow(CSV_COLUMNS)
        for doc in docs:
            writer.writerow([csv_cell(c, rq.get_path(doc, c)) for c in CSV_COLUMNS])
            n += 1
    else:  # pragma: no cover - argparse restricts choices
        raise ValueError(fmt)
    return n


def write_problem(path: str, exc: OSError) -> EnvironmentProblem:
    """A file that cannot be written (a read-only or missing folder, a full disk), as an
    environment problem (exit 7) that says nothing was left behind."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        reason += " (free some space and try again)"
    return EnvironmentProblem(f"cannot write {path}: {reason}; nothing was written")


def part_of(path: Path) -> Path:
    """Where a PDF is written before it is renamed into place: `.NAME.part` beside it."""
    return path.with_name(f".{path.name}.part")


@contextmanager
def written_part(path: Path, place: Callable[[Path, Path], None]) -> Iterator[BinaryIO]:
    """A new `.NAME.part` beside `path`, open for writing (a part left by a kill, or planted,
    is removed, never followed); when the block ends without an error it is closed and
    `place(part, path)` puts it in place (a rename, or a link that never replaces). No part
    stays, whatever happens; OSErrors are the caller's to word."""
    tmp = part_of(path)
    try:
        if os.path.lexists(tmp):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as fh:
            yield fh
        place(tmp, path)
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()


def link_new(tmp: Path, out: Path) -> None:
    """Put the finished part in place without ever replacing a file that appeared meanwhile
    (a hard link fails if `out` exists); where hard links are not supported, a rename."""
    try:
        os.link(tmp, out, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(out):
            raise
        os.replace(tmp, out)


def write_whole(path: Path, data: bytes, replace: bool = True) -> None:
    """Write `data` to `.NAME.part` beside the file and rename it: the file appears whole or
    not at all. A folder that cannot be written or a full disk is an EnvironmentProblem
    (exit 7), and no part stays. Without `replace`, a file of that name found when it is put
    in place (made meanwhile, or another name for it on a file system that does not tell upper
    from lower case) is never replaced: an EnvironmentProblem too."""
    if not path.name or path.name in (".", ".."):
        raise EnvironmentProblem(f"cannot write {str(path)!r}: not a file name; nothing was written")
    if os.path.lexists(path) and not path.is_symlink() and not path.is_file():
        raise EnvironmentProblem(f"cannot write {path}: it exists and is not a regular file; "
                                 "nothing was written")  # fmt: skip
    try:
        with written_part(path, os.replace if replace else link_new) as fh:
            fh.write(data)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise EnvironmentProblem(f"cannot write {path}: a file of that name exists (made meanwhile, "
                                     "or another record's on a file system that does not tell upper "
                                     "from lower case); it was left as it is") from exc  # fmt: skip
        raise write_problem(str(path), exc) from exc


def write_export_file(docs: Iterable[dict[str, Any]], fmt: str, path: str) -> int:
    """`write_export` into a file: written to `PATH.part` and renamed, so the file appears
    whole or not at all; on any failure (EnvironmentProblem for an OSError) the part is
    removed."""
    tmp = f"{path}.part"
    try:
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                n = write_export(docs, fmt, fh)
            os.replace(tmp, path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise write_problem(path, exc) from exc
    return n
