"""Readers for request files: `.json`, `.jsonl`, `.csv`.

Each reader streams `Record`s (one parsed request or the problems that kept it from being
parsed), so an import never holds a whole file as dicts. Locations follow `cli.md`:
RECORD is the physical line for JSONL and CSV, `#N` for the N-th element of a JSON array,
and empty for a file holding one object.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer import request as rq

BOM = "\ufeff"


@dataclass
class Record:
    file: str
    label: str  # "14", "#3" or "" (whole file is one object)
    raw: Any = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    text: str | None = None  # a JSON line not parsed yet (see `parse_text`)

    def parse_text(self) -> None:
        """Parse `text` into `raw` (or a problem): JSON Lines records can be parsed by the
        process that validates them."""
        if self.text is None:
            return
        text, self.text = self.text, None
        try:
            self.raw = rq.loads(text)
        except json.JSONDecodeError as exc:
            self.problems = [("", f"not valid JSON: {exc.msg} (column {exc.colno})")]
        except RecursionError:
            self.problems = [("", "not valid JSON: nested too deeply")]
        except ValueError as exc:
            self.problems = [("", f"not valid JSON: {_value_error(exc)}")]

    def where(self) -> str:
        return f"{self.file}:{self.label}" if self.label else self.file


def format_problem(file: str, label: str, path: str, message: str) -> str:
    """`FILE:RECORD: FIELD: message`, leaving out what does not apply."""
    where = f"{file}:{label}" if label else file
    return f"{where}: {path}: {message}" if path else f"{where}: {message}"


class FileProblem(Exception):
    """A problem with a whole file (unreadable, empty, not JSON at all)."""

    def __init__(self, file: str, message: str, label: str = "") -> None:
        super().__init__(format_problem(file, label, "", message))
        self.file, self.message, self.label = file, message, label

    def record(self) -> Record:
        return Record(self.file, self.label, problems=[("", self.message)])


def read_all(paths: Iterable[str], parse: bool = True) -> Iterator[Record]:
    """The records of every file in order; a file-level problem comes as a record too."""
    for path in paths:
        try:
            yield from read_records(path, parse)
        except FileProblem as exc:
            yield exc.record()


def read_records(path: str, parse: bool = True) -> Iterator[Record]:
    """Yield the records of one file; raise FileProblem for a file-level problem. With
    `parse=False`, JSON Lines records keep their text for `Record.parse_text`."""
    suffix = Path(path).suffix.lower()
    reader = {".json": _read_json, ".jsonl": _read_jsonl if parse else _read_jsonl_text,
              ".csv": _read_csv}.get(suffix)  # fmt: skip
    if reader is None:
        raise FileProblem(path, f"unsupported file type {suffix!r}: expected .json, .jsonl or .csv")
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        head = fh.peek(8192)[:8192] if hasattr(fh, "peek") else b""
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise FileProblem(path, "encoded as UTF-16: save it as UTF-8 and import it again")
        if b"\x00" in head:
            raise FileProblem(path, "not a text file (it contains NUL bytes)")
        count = 0
        for record in reader(path, fh):
            count += 1
            yield record
        if count == 0:
            raise FileProblem(path, "no request in the file")
    finally:
        fh.close()


def _utf8_error_line(data: bytes, exc: UnicodeDecodeError) -> int:
    return data.count(b"\n", 0, exc.start) + 1


def _value_error(exc: ValueError) -> str:
    """The decoder's other complaint: an integer longer than Python converts."""
    text = str(exc)
    return "a number with too many digits" if "digits" in text else text


def _json_message(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"


# --------------------------------------------------------------------------- JSON


_WS = re.compile(r"[ \t\n\r]*")


def _read_json(path: str, fh: Any) -> Iterator[Record]:
    data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(
            path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            label=str(_utf8_error_line(data, exc)),
        ) from exc
    del data
    if text.startswith(BOM):
        text = text[1:]
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if pos == len(text):
        raise FileProblem(path, "empty file: no request in it")
    if text[pos] != "[":
        try:
            obj, end = _decode(text, pos)
        except json.JSONDecodeError as exc:
            raise FileProblem(path, _json_message(exc)) from exc
        except RecursionError as exc:
            raise FileProblem(path, "not valid JSON: nested too deeply") from exc
        except ValueError as exc:
            raise FileProblem(path, f"not valid JSON: {_value_error(exc)}") from exc
        if _WS.match(text, end).end() != len(text):  # type: ignore[union-attr]
            raise FileProblem(path, "not valid JSON: extra data after the request")
        yield Record(path, "", obj)
        return
    # An array: decode one element at a time so no list of dicts is ever built.
    pos += 1
    index = 0
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] == "]" and index == 0:
            pos += 1
            break
        index += 1
        label = f"#{index}"
        try:
            obj, pos = _decode(text, pos)
        except json.JSONDecodeError as exc:
            yield Record(path, label, problems=[("", _json_message(exc))])
            return
        except RecursionError:
            yield Record(path, label, problems=[("", "not valid JSON: nested too deeply")])
            return
        except ValueError as exc:
            yield Record(path, label, problems=[("", f"not valid JSON: {_value_error(exc)}")])
            return
        yield Record(path, label, obj)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        if pos < len(text) and text[pos] == "]":
            pos += 1
            break
        line = text.count("\n", 0, pos) + 1
        yield Record(
            path, f"#{index + 1}",
            problems=[("", f"not valid JSON: expected ',' or ']' (line {line})")],
        )
        return
    if _WS.match(text, pos).end() != len(text):  # type: ignore[union-attr]
        yield Record(path, f"#{index + 1}", problems=[("", "not valid JSON: data after the array")])


def _decode(text: str, pos: int) -> tuple[Any, int]:
    return rq.DECODER.raw_decode(text, pos)


# --------------------------------------------------------------------------- JSON Lines


def _read_jsonl(path: str, fh: Any) -> Iterator[Record]:
    for rec in _read_jsonl_text(path, fh):
        rec.parse_text()
        yield rec


def _read_jsonl_text(path: str, fh: Any) -> Iterator[Record]:
    for lineno, raw in enumerate(fh, 1):
        label = str(lineno)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Record(path, label, problems=[("", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")])
            continue
        if lineno == 1 and line.startswith(BOM):
            line = line[1:]
        if not line.strip():
            continue
        yield Record(path, label, text=line)


# --------------------------------------------------------------------------- CSV

OBJECT_LIST_COLUMNS = {p for p, t in rq.LEAF_FIELDS.items() if t.kind == "objlist"}
_WHOLE = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")  # exponents only where a fraction may be
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class _BadBytes(Exception):
    def __init__(self, line: int, byte: int) -> None:
        self.line = line
        self.byte = byte


def _decoded_lines(fh: Any) -> Iterator[str]:
    for lineno, raw in enumerate(fh, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadBytes(lineno, raw[exc.start]) from exc
        if lineno == 1 and line.startswith(BOM):
            line = line[1:]
        yield line


def cell_value(column: str, cell: str) -> tuple[Any, str | None]:
    """Convert one CSV cell to its JSON value; (None, None) is unknown; the second item is
    a problem message."""
    t = rq.LEAF_FIELDS[column]
    if t.kind == "str" or t.kind == "email":
        return (cell if cell != "" else None), None
    text = cell.strip()
    if text == "":
        return None, None
    kind = t.kind
    if kind == "int":
        if not _WHOLE.fullmatch(text):
            return None, f"expected a whole number >= 0, got {json.dumps(text, ensure_ascii=False)}"
        if len(text) > 19:
            return None, f"number too large (at most 10^15), got {text[:30]}"
        return int(text), None
    if kind == "number":
        if not _DECIMAL.fullmatch(text):
            return None, f"expected a number >= 0, got {json.dumps(text, ensure_ascii=False)}"
        if len(text) > 40:
            return None, f"number too large (at most 10^15), got {text[:30]}"
        return (int(text) if text.isdigit() else float(text)), None
    if kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True, None
        if low in _FALSE:
            return False, None
        return None, f"expected true/false/yes/no/1/0, got {json.dumps(text, ensure_ascii=False)}"
    if kind == "set":
        if text == "[]":
            return [], None
        items = [i.strip() for i in text.split(";")]
        if any(i == "" for i in items):
            return None, "empty item in a ';' list"
        return items, None
    if kind == "objlist":
        if text == "[]":
            return [], None
        try:
            return rq.loads(text), None
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON in the cell: {exc.msg} (column {exc.colno})"
        except RecursionError:
            return None, "not valid JSON in the cell: nested too deeply"
        except ValueError as exc:
            return None, f"not valid JSON in the cell: {_value_error(exc)}"
    return text, None


def _read_csv(path: str, fh: Any) -> Iterator[Record]:
    lines = _decoded_lines(fh)
    reader = csv.reader(lines, strict=True)
    try:
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileProblem(path, f"not valid CSV: {exc}", label="1") from exc
        problems = []
        seen: set[str] = set()
        for col in header:
            if col not in rq.LEAF_FIELDS:
                problems.append(f"column {json.dumps(col, ensure_ascii=False)}: unknown field")
            elif col in seen:
                problems.append(f'column "{col}": named twice in the header')
            seen.add(col)
        if "reference" not in seen:
            problems.append('column "reference": required')
        if problems:
            raise FileProblem(path, "; ".join(problems), label="1")
        width = len(header)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Record(path, str(start), problems=[("", f"not valid CSV: {exc}")])
                return
            if not row or (len(row) == 1 and row[0].strip() == ""):
                continue
            label = str(start)
            if len(row) != width:
                yield Record(path, label, problems=[("", f"expected {width} cells, got {len(row)}")])
                continue
            yield _csv_record(path, label, header, row)
    except _BadBytes as exc:
        yield Record(path, str(exc.line), problems=[("", f"not valid UTF-8 (byte 0x{exc.byte:02x})")])


def cells_to_raw(cells: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A request from (dotted column, cell text) pairs, as a CSV row gives them (and the
    intake form, which is one row in disguise), with the problems converting the cells."""
    raw: dict[str, Any] = {"customer": {}}
    problems: list[tuple[str, str]] = []
    for col, cell in cells:
        value, problem = cell_value(col, cell)
        if problem:
            problems.append((col, problem))
            continue
        if value is None:
            continue
        if "." in col:
            section, key = col.split(".", 1)
            raw.setdefault(section, {})[key] = value
        else:
            raw[col] = value
    return raw, problems


def _csv_record(path: str, label: str, header: list[str], row: list[str]) -> Record:
    raw, problems = cells_to_raw(zip(header, row, strict=True))
    return Record(path, label, raw, problems)
