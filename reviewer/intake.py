"""Readers for request files: `.json`, `.jsonl`, `.csv`.

Each reader streams `Record`s (one parsed request or the problems that kept it from being
parsed), so an import never holds a whole file as dicts. Locations follow `cli.md`:
RECORD is the physical line for JSONL and CSV, `#N` for the N-th element of a JSON array,
and empty for a file holding one object.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from reviewer import request as rq
from reviewer.errors import MAX_ERROR_LINES

BOM = "\ufeff"


@dataclass
class Record:
    file: str
    label: str  # "14", "#3" or "" (whole file is one object)
    raw: Any = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    text: str | None = None  # a JSON line not parsed yet (see `parse_text`)
    more: int = 0  # problems beyond `problems`, counted but not listed (cli.md prints 100)

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


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words (from its `st_mode`)."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return kind
    return "not a plain file"  # pragma: no cover - Linux has no other kind


class FileProblem(Exception):
    """A problem with a whole file (unreadable, empty, not JSON at all)."""

    def __init__(self, file: str, message: str, label: str = "") -> None:
        super().__init__(format_problem(file, label, "", message))
        self.file, self.message, self.label = file, message, label

    def record(self) -> Record:
        return Record(self.file, self.label, problems=[("", self.message)])


def read_all(paths: Iterable[str], parse: bool = True, limit_mb: int | None = None) -> Iterator[Record]:
    """The records of every file in order; a file-level problem comes as a record too."""
    for path in paths:
        try:
            yield from read_records(path, parse, limit_mb)
        except FileProblem as exc:
            yield exc.record()


MB = 1024 * 1024


def _megabytes(size: int) -> str:
    """A size in MB (MiB), rounded up to a tenth: `300`, `4.9`."""
    tenths = -(-size * 10 // MB)
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths / 10:.1f}"


def over_limit(size: int, limit_mb: int) -> str:
    return f"{_megabytes(size)} MB is over the import limit of {limit_mb} MB (setting max_import_mb)"


def open_regular(path: str, check: Callable[[os.stat_result], None] | None = None) -> int:
    """A file descriptor for reading `path`, once it is known to be a regular file (a FIFO,
    a device or a folder is refused before anything is read from it, and opening never waits
    for a writer) that passes `check` (given its fstat; it raises what refuses the file). A
    file that cannot be read or is not regular is a FileProblem; on any refusal it is closed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(path, f"not a regular file ({file_kind(info.st_mode)})")
        if check is not None:
            check(info)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_checked(path: str, limit_mb: int | None = None) -> Any:
    """The file opened for reading (`open_regular`), of at most `limit_mb` megabytes, as a
    request file; raises FileProblem otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".jsonl", ".csv"):
        raise FileProblem(path, f"unsupported file type {suffix!r}: expected .json, .jsonl or .csv")

    def within(info: os.stat_result) -> None:
        if limit_mb is not None and info.st_size > limit_mb * MB:
            raise FileProblem(path, over_limit(info.st_size, limit_mb))

    return os.fdopen(open_regular(path, within), "rb")


def check_files(paths: Iterable[str], limit_mb: int | None = None) -> list[str]:
    """Every file opened and checked as `open_checked` does, and closed: the problems, in
    the form of `cli.md` (for `reviewer import`, before its writing transaction begins)."""
    problems = []
    first: dict[tuple[int, int], tuple[int, str]] = {}
    for number, path in enumerate(paths):
        try:
            fh = open_checked(path, limit_mb)
        except FileProblem as exc:
            problems.append(str(exc))
            continue
        with fh:
            st = os.fstat(fh.fileno())
        if not st.st_ino:
            continue  # a file system that numbers no files (FAT on Windows): nothing to compare
        at, earlier = first.setdefault((st.st_dev, st.st_ino), (number, path))
        if at != number:
            problems.append(str(FileProblem(path, f"the same file as {earlier}, given twice: each "
                                            "file is read once")))  # fmt: skip
    return problems


class _Source:
    """The bytes of one open file, read whole or line by line, at most `limit_mb` megabytes
    however the file grows while it is read."""

    def __init__(self, path: str, fh: Any, limit_mb: int | None) -> None:
        self.path, self.fh, self.limit_mb = path, fh, limit_mb
        self.left = None if limit_mb is None else limit_mb * MB

    def _grew(self) -> FileProblem:
        assert self.limit_mb is not None
        return FileProblem(
            self.path,
            f"grew while it was read: over the import limit of {self.limit_mb} MB (setting max_import_mb)",
        )

    def read(self) -> bytes:
        if self.left is None:
            return self.fh.read()  # type: ignore[no-any-return]
        data: bytes = self.fh.read(self.left + 1)
        if len(data) > self.left:
            raise self._grew()
        return data

    def lines(self) -> Iterator[bytes]:
        fh = self.fh
        while True:
            raw: bytes = fh.readline() if self.left is None else fh.readline(self.left + 1)
            if not raw:
                return
            if self.left is not None:
                self.left -= len(raw)
                if self.left < 0:
                    raise self._grew()
            yield raw

    def chunks(self, size: int) -> Iterator[bytes]:
        """The bytes from the start, `size` at a time."""
        self.fh.seek(0)
        left = self.left
        while True:
            data: bytes = self.fh.read(size)
            if not data:
                return
            if left is not None:
                left -= len(data)
                if left < 0:
                    raise self._grew()
            yield data


CHUNK_BYTES = 256 * 1024  # a JSON file is read and decoded this much at a time


class _BadUtf8(Exception):
    def __init__(self, line: int, byte: int) -> None:
        self.line, self.byte = line, byte


def _incomplete_tail(data: bytes) -> int:
    """Where a UTF-8 sequence cut off at the end of `data` starts (len(data) if none is)."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b & 0xC0 != 0x80:  # a lead byte (or ASCII): how long is its sequence?
            need = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 1
            return len(data) - back if need > back else len(data)
    return len(data)


def _utf8_pieces(src: _Source, size: int) -> Iterator[str]:
    """The text of a file, decoded a chunk at a time (strict UTF-8; _BadUtf8 names the line
    and the byte of the first error)."""
    carry, lines = b"", 0
    for data in src.chunks(size):
        data = carry + data
        cut = _incomplete_tail(data)
        piece, carry = data[:cut], data[cut:]
        try:
            yield piece.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadUtf8(lines + piece.count(b"\n", 0, exc.start) + 1, piece[exc.start]) from exc
        lines += piece.count(b"\n")
    if carry:
        try:
            yield carry.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadUtf8(lines + carry.count(b"\n", 0, exc.start) + 1, carry[exc.start]) from exc


class _Window:
    """The text of a JSON file from `pos` on, decoded as it is needed (what is consumed is
    dropped when more is read), with the line and column where `text` starts, so that
    errors name places in the whole file however little of it is held."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces = pieces
        self.text = ""
        self.pos = 0
        self.eof = False
        self.lines = 0  # new lines before text[0]
        self.col = 0  # characters before text[0] on its line
        self.first = True

    def more(self, want: int) -> bool:
        """Drop what is consumed and read on until `want` characters are held or the file
        ends; False when nothing more was read."""
        text, pos = self.text, self.pos
        newlines = text.count("\n", 0, pos)
        if newlines:
            self.lines += newlines
            self.col = pos - text.rfind("\n", 0, pos) - 1
        else:
            self.col += pos
        parts, n, got = [text[pos:]], len(text) - pos, False
        while n < want and not self.eof:
            piece = next(self.pieces, None)
            if piece is None:
                self.eof = True
                break
            if self.first and piece:
                self.first = False
                if piece.startswith(BOM):
                    piece = piece[1:]
            parts.append(piece)
            n += len(piece)
            got = got or bool(piece)
        self.text, self.pos = "".join(parts), 0
        return got

    def held(self) -> int:
        return len(self.text) - self.pos

    def skip_ws(self) -> None:
        while True:
            self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.held() or not self.more(CHUNK_BYTES):
                return

    def peek(self) -> str:
        if not self.held():
            self.more(1)
        return self.text[self.pos : self.pos + 1]

    def only_ws_left(self) -> bool:
        self.skip_ws()
        return not self.held()

    def decode(self) -> tuple[Any, int]:
        """The JSON value at `pos`, and where it ends: read on while it may be cut off by the
        end of what is held (a value or an error within 8 characters of it, an unterminated
        string), so the value and any error are those of the whole file."""
        while True:
            try:
                obj, end = _decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - 8 or exc.msg.startswith("Unterminated string")
                if not cut or self.eof:
                    raise
                self.more(2 * self.held() + CHUNK_BYTES)  # and decode again, in what is held
                continue
            if end >= len(self.text) - 8 and not self.eof:  # `31e` may be `31e5` in full
                self.more(2 * self.held() + CHUNK_BYTES)
                continue
            return obj, end

    def line(self) -> int:
        return self.lines + self.text.count("\n", 0, self.pos) + 1

    def message(self, exc: json.JSONDecodeError) -> str:
        """`_json_message` with the line and column in the whole file."""
        col = exc.colno + (self.col if exc.lineno == 1 else 0)
        return f"not valid JSON: {exc.msg} (line {self.lines + exc.lineno} column {col})"


def read_records(path: str, parse: bool = True, limit_mb: int | None = None) -> Iterator[Record]:
    """Yield the records of one file; raise FileProblem for a file-level problem. With
    `parse=False`, JSON Lines records keep their text for `Record.parse_text`. With
    `limit_mb`, a larger file is refused (see `open_checked`)."""
    suffix = Path(path).suffix.lower()
    reader = {".json": _read_json if parse else _read_json_text,
              ".jsonl": _read_jsonl if parse else _read_jsonl_text,
              ".csv": _read_csv}.get(suffix)  # fmt: skip
    fh = open_checked(path, limit_mb)
    try:
        try:
            head = fh.peek(8192)[:8192]
        except OSError as exc:
            raise FileProblem(path, f"cannot read: {exc.strerror or exc}") from exc
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise FileProblem(path, "encoded as UTF-16: save it as UTF-8 and import it again")
        if b"\x00" in head:
            raise FileProblem(path, "not a text file (it contains NUL bytes)")
        count = 0
        assert reader is not None  # open_checked refused any other suffix
        for record in reader(path, _Source(path, fh, limit_mb)):
            count += 1
            yield record
        if count == 0:
            raise FileProblem(path, "no request in the file")
    finally:
        fh.close()


def _value_error(exc: ValueError) -> str:
    """The decoder's other complaint: an integer longer than Python converts."""
    text = str(exc)
    return "a number with too many digits" if "digits" in text else text


def _json_message(exc: json.JSONDecodeError) -> str:
    return f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"


# --------------------------------------------------------------------------- JSON


_WS = re.compile(r"[ \t\n\r]*")


def _read_json_text(path: str, src: _Source) -> Iterator[Record]:
    """The elements of a JSON array as their text, like JSON Lines (for worker processes: a
    few chunks of text in flight, not of decoded objects)."""
    return _read_json(path, src, keep_text=True)


def _read_json(path: str, src: _Source, keep_text: bool = False) -> Iterator[Record]:
    """A JSON file: one request object, or an array of them decoded one element at a time as
    the file is read (a chunk of text and the element at hand are held, never the whole
    file). The file is checked to be UTF-8 first, so a bad byte is a problem of the whole
    file, as it was when files were decoded at once."""
    try:
        for _piece in _utf8_pieces(src, CHUNK_BYTES):
            pass
    except _BadUtf8 as exc:
        raise FileProblem(path, f"not valid UTF-8 (byte 0x{exc.byte:02x})", label=str(exc.line)) from None
    w = _Window(_utf8_pieces(src, CHUNK_BYTES))
    try:
        yield from _json_records(path, w, keep_text)
    except _BadUtf8 as exc:  # the file changed since it was checked
        raise FileProblem(path, f"not valid UTF-8 (byte 0x{exc.byte:02x})", label=str(exc.line)) from None


def _json_records(path: str, w: _Window, keep_text: bool) -> Iterator[Record]:
    w.skip_ws()
    if not w.held():
        raise FileProblem(path, "empty file: no request in it")
    if w.peek() != "[":
        try:
            obj, end = w.decode()
        except json.JSONDecodeError as exc:
            raise FileProblem(path, w.message(exc)) from exc
        except RecursionError as exc:
            raise FileProblem(path, "not valid JSON: nested too deeply") from exc
        except ValueError as exc:
            raise FileProblem(path, f"not valid JSON: {_value_error(exc)}") from exc
        w.pos = end
        if not w.only_ws_left():
            raise FileProblem(path, "not valid JSON: extra data after the request")
        yield Record(path, "", obj)
        return
    # An array: decode one element at a time so no list of dicts is ever built.
    w.pos += 1
    index = 0
    while True:
        w.skip_ws()
        if index == 0 and w.peek() == "]":
            w.pos += 1
            break
        index += 1
        label = f"#{index}"
        try:
            obj, end = w.decode()
        except json.JSONDecodeError as exc:
            yield Record(path, label, problems=[("", w.message(exc))])
            return
        except RecursionError:
            yield Record(path, label, problems=[("", "not valid JSON: nested too deeply")])
            return
        except ValueError as exc:
            yield Record(path, label, problems=[("", f"not valid JSON: {_value_error(exc)}")])
            return
        if keep_text:
            del obj
            yield Record(path, label, text=w.text[w.pos : end])
        else:
            yield Record(path, label, obj)
        w.pos = end
        w.skip_ws()
        after = w.peek()
        if after == ",":
            w.pos += 1
            continue
        if after == "]":
            w.pos += 1
            break
        yield Record(
            path,
            f"#{index + 1}",
            problems=[("", f"not valid JSON: expected ',' or ']' (line {w.line()})")],
        )
        return
    if not w.only_ws_left():
        yield Record(path, f"#{index + 1}", problems=[("", "not valid JSON: data after the array")])


def _decode(text: str, pos: int) -> tuple[Any, int]:
    return rq.DECODER.raw_decode(text, pos)


# --------------------------------------------------------------------------- JSON Lines


def _read_jsonl(path: str, src: _Source) -> Iterator[Record]:
    for rec in _read_jsonl_text(path, src):
        rec.parse_text()
        yield rec


def _read_jsonl_text(path: str, src: _Source) -> Iterator[Record]:
    for lineno, raw in enumerate(src.lines(), 1):
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
# ASCII digits only, as in JSON: `\d` would read a fullwidth ５ or an Arabic-Indic ٣ as a digit.
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # exponents only where a fraction may be
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class _BadBytes(Exception):
    def __init__(self, line: int, byte: int) -> None:
        self.line = line
        self.byte = byte


def _decoded_lines(lines: Iterable[bytes]) -> Iterator[str]:
    for lineno, raw in enumerate(lines, 1):
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


def _header_problems(header: list[str]) -> Iterator[tuple[str, str]]:
    """(column, what is wrong) for each problem of a CSV header, in column order."""
    seen: set[str] = set()
    for col in header:
        if col not in rq.LEAF_FIELDS:
            yield col, "unknown field"
        elif col in seen:
            yield col, "named twice in the header"
        seen.add(col)
    if "reference" not in seen:
        yield "reference", "required"


def _header_problem(col: str, what: str) -> str:
    if what == "unknown field":
        return f"column {rq.terminal_safe(json.dumps(col, ensure_ascii=False))}: {what}"
    return f'column "{col}": {what}'


def _read_csv(path: str, src: _Source) -> Iterator[Record]:
    lines = _decoded_lines(src.lines())
    reader = csv.reader(lines, strict=True)
    try:
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileProblem(path, f"not valid CSV: {exc}", label="1") from exc
        problems = _header_problems(header)
        listed = list(islice(problems, MAX_ERROR_LINES))
        if listed:  # one line a problem; the rest (a million columns...) only counted
            more = sum(1 for _ in problems)
            yield Record(path, "1", problems=[("", _header_problem(*p)) for p in listed], more=more)
            return
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
