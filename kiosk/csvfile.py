"""Read a CSV file the way Excel writes it: bytes in, rows with line numbers (or every problem) out.

School offices make these files in Excel, in an MIS export, or by hand in Notepad, so
this reader is strict about what would store something other than what the office
typed, and relaxed about the rest:

- Encoding, decided for the whole file: UTF-8 with or without a byte-order mark (Excel's
  "CSV UTF-8"), UTF-16 with a byte-order mark (Excel's "Unicode text", tab-separated),
  else Windows-1252 (Excel's plain "CSV") only when nothing in the file reads as UTF-8.
  A file that is UTF-8 except for a line pasted from elsewhere is refused, naming the
  lines, rather than turning "Siân" into "SiÃ¢n".
- Separator: the ``sep=;`` first line Excel writes and reads, else whichever of comma,
  semicolon or tab makes the first line name the expected columns (checked across the
  whole file when that leaves a choice).
- Quoting as Excel does it: a cell is quoted when it starts with ``"``; ``""`` inside it is
  one quote; a quote in the middle of an unquoted cell is text. A quote that is never
  closed, or a single quote inside a quoted cell, is refused with where it opened.
- Control characters (line breaks, NUL, tabs...) are refused in one-line columns with
  their line and column (``kiosk.records.unsafe_character``); multi-line columns
  (``notes``) may hold quoted line breaks.
- Excel's habits are fine: CRLF, CR or LF line ends, blank rows, trailing empty columns,
  rows that stop short after their last filled cell, quoted numbers.

No database here: ``read_table`` raises ``ImportFileError`` with one line per problem.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from kiosk.errors import ImportFileError
from kiosk.records import unsafe_character

#: Separators tried when the file does not say (``sep=``), in order of preference.
DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}

UTF8 = "UTF-8"
UTF8_BOM = "UTF-8 with BOM"
UTF16 = "UTF-16 (Excel Unicode text)"
CP1252 = "Windows-1252 (Excel)"

_SAVE_AS = "In Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'."
_LINE_END = re.compile(r"\r\n|\r|\n")
_NEXT_LINE_END = re.compile(r"[\r\n]")
_QUOTE_START = re.compile(r' *"')
_QUOTED_BODY = re.compile(r'([^"]*(?:""[^"]*)*)("?)')
_SPACES = re.compile(r" *")
_SEP_LINE = re.compile(r"sep=(.)\1*(?:\r\n|\r|\n|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Row:
    """One record: the line it starts on and its cells keyed by column (known columns only)."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Table:
    encoding: str  # in words, for the report: "UTF-8 with BOM"
    delimiter: str
    header_line: int
    columns: tuple[str, ...]  # the known columns the file has, in its order
    ignored: tuple[str, ...]  # header names that are not known columns, as written
    rows: tuple[Row, ...]

    @property
    def delimiter_name(self) -> str:
        return delimiter_name(self.delimiter)


def delimiter_name(delimiter: str) -> str:
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


def header_key(name: str) -> str:
    """``"Staff ID"`` -> ``staff_id``: column names in any case, with spaces or hyphens
    (and without the byte-order mark a second file joined on would bring)."""
    return name.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")


# --- encoding ---------------------------------------------------------------------------


class _Lines:
    """Line and column of an offset into a text (CRLF, CR and LF all end a line)."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in _LINE_END.finditer(text))]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos)

    def where(self, pos: int) -> tuple[int, int]:
        line = self.line(pos)
        return line, pos - self.starts[line - 1] + 1


def _undecodable(text: str, what: str) -> list[str]:
    """One problem per line holding bytes kept as surrogates by ``surrogateescape``."""
    lines = _Lines(text)
    problems: dict[int, str] = {}
    for match in re.finditer("[\udc80-\udcff]", text):
        line, column = lines.where(match.start())
        if line in problems:
            continue
        end = lines.starts[line] if line < len(lines.starts) else len(text)
        shown = re.sub("[\udc80-\udcff]", "\ufffd", text[lines.starts[line - 1] : end]).rstrip()
        if len(shown) > 60:
            shown = shown[:57] + "..."
        byte = ord(match.group()) - 0xDC00
        problems[line] = f"line {line}, column {column}: byte 0x{byte:02X} is not {what} ({shown})"
    return list(problems.values())


def _bomless_utf16(data: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" for UTF-16 text that lost its byte-order mark, else None."""
    head = data[:200] if len(data) % 2 == 0 else b""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if not any(odd) and all(even):
        return "utf-16-le"
    if not any(even) and all(odd):
        return "utf-16-be"
    return None


def _utf16(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        start = exc.start - exc.start % 2
        line = _Lines(data[:start].decode(codec, "replace")).line(start)
        raise ImportFileError(
            f"the file says it is UTF-16 (Excel's Unicode text) but is damaged: {exc.reason}. "
            f"{_SAVE_AS}",
            [f"line {line}: cannot be read as UTF-16"],
        ) from None


def decode(data: bytes) -> tuple[str, str]:
    """Bytes of a CSV file -> (text, the encoding in words), decided for the whole file."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise ImportFileError(f"the file is UTF-32, which the kiosk does not read. {_SAVE_AS}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _utf16(data, "utf-16"), UTF16
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    if not bom:
        codec = _bomless_utf16(data)
        if codec is not None:
            return _utf16(data, codec), "UTF-16 without a byte-order mark"
    try:
        return body.decode("utf-8"), UTF8_BOM if bom else UTF8
    except UnicodeDecodeError:
        pass  # not UTF-8 throughout: decide below whether it is Excel's Windows-1252
    escaped = body.decode("utf-8", "surrogateescape")
    utf8_letters = any(ord(c) > 0x7F and not 0xDC80 <= ord(c) <= 0xDCFF for c in escaped)
    if bom or utf8_letters:
        raise ImportFileError(
            "the file is UTF-8 except on these lines, which were written in another encoding "
            "(pasted from another program?). Retype the text on these lines, then save again "
            "as 'CSV UTF-8'.",
            _undecodable(escaped, "UTF-8"),
        )
    if b"\n" not in body and b"\r" in body:
        raise ImportFileError(
            "the file looks like Excel's 'CSV (Macintosh)', whose letters such as é and "
            f"ô cannot be told apart from Windows ones. {_SAVE_AS}"
        )
    try:
        return body.decode("cp1252"), CP1252
    except UnicodeDecodeError:
        pass  # bytes that are letters in neither encoding: listed below
    cp1252 = body.decode("cp1252", "surrogateescape")
    raise ImportFileError(
        f"the file is neither UTF-8 nor Excel's Windows-1252: these lines hold bytes that are "
        f"letters in neither. {_SAVE_AS}",
        _undecodable(cp1252, "a letter in UTF-8 or Windows-1252"),
    )


# --- records ----------------------------------------------------------------------------


@dataclass
class _Cell:
    value: str
    raw: int  # offset in the text of the value's first character (after an opening quote)
    quoted: bool


@dataclass
class _Record:
    start: int
    cells: list[_Cell]


@dataclass
class _Broken:
    """A record that cannot be read; ``fatal`` when nothing after it can be trusted."""

    message: str
    fatal: bool = False


class _Parser:
    def __init__(self, text: str, delimiter: str) -> None:
        self.text = text
        self.delimiter = delimiter
        self.plain = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
        self.lines = _Lines(text)

    def records(self, pos: int = 0) -> Iterator[_Record | _Broken]:
        text, end = self.text, len(self.text)
        while pos < end:
            found = _NEXT_LINE_END.search(text, pos)
            line_end = found.start() if found else end
            segment = text[pos:line_end]
            if '"' not in segment:
                cells, offset = [], pos
                for value in segment.split(self.delimiter):
                    cells.append(_Cell(value, offset, False))
                    offset += len(value) + 1
                yield _Record(pos, cells)
                pos = self._after_line_end(line_end)
                continue
            result, pos = self._quoted_record(pos)
            yield result
            if isinstance(result, _Broken) and result.fatal:
                return

    def _after_line_end(self, pos: int) -> int:
        if self.text.startswith("\r\n", pos):
            return pos + 2
        return pos + 1

    def _skip_line(self, pos: int) -> int:
        found = _NEXT_LINE_END.search(self.text, pos)
        return self._after_line_end(found.start()) if found else len(self.text)

    def _quoted_record(self, pos: int) -> tuple[_Record | _Broken, int]:
        """A record with quotes in it, which may run over several lines."""
        text, end = self.text, len(self.text)
        start, cells = pos, []
        while True:
            quote = _QUOTE_START.match(text, pos)
            if quote is None:
                plain = self.plain.match(text, pos)
                assert plain is not None  # the pattern matches the empty string
                cells.append(_Cell(plain.group(), pos, False))
                pos = plain.end()
            else:
                opened = quote.end() - 1
                body = _QUOTED_BODY.match(text, quote.end())
                assert body is not None
                if not body.group(2):
                    line, column = self.lines.where(opened)
                    return _Broken(
                        f'line {line}, column {column}: this quote (") is never closed, so '
                        "everything after it would be one cell. Close it, or write a quote "
                        'that is part of the text twice ("").',
                        fatal=True,
                    ), end
                cells.append(_Cell(body.group(1).replace('""', '"'), quote.end(), True))
                after = _SPACES.match(text, body.end())
                assert after is not None
                pos = after.end()
                if pos < end and text[pos] not in (self.delimiter, "\r", "\n"):
                    return self._stray_quote(opened, body.end() - 1, pos)
            if pos >= end or text[pos] in "\r\n":
                return _Record(start, cells), (pos if pos >= end else self._after_line_end(pos))
            pos += 1  # the delimiter

    def _stray_quote(self, opened: int, closing: int, after: int) -> tuple[_Broken, int]:
        opened_line, opened_column = self.lines.where(opened)
        line, column = self.lines.where(closing)
        if line != opened_line:
            message = (
                f'line {opened_line}, column {opened_column}: this quote (") seems never to be '
                f"closed: the cell runs on to line {line}. Close it on line {opened_line}."
            )
        else:
            message = (
                f"line {line}, column {column}: a quote inside a quoted cell must be written "
                'twice ("") as Excel does, or the cell must not start with a quote.'
            )
        return _Broken(message), self._skip_line(after)


# --- the table --------------------------------------------------------------------------


def _first_record(parser: _Parser, pos: int) -> _Record | _Broken | None:
    for record in parser.records(pos):
        if isinstance(record, _Broken) or any(c.value.strip() for c in record.cells):
            return record
    return None


def _choose_delimiter(text: str, pos: int, known: Collection[str]) -> str:
    """The separator that makes the first line name the most known columns; ties are
    settled by how many records of the whole file then read without a problem."""
    scores: list[tuple[int, int, int, str]] = []
    for rank, delimiter in enumerate(DELIMITERS):
        parser = _Parser(text, delimiter)
        header = _first_record(parser, pos)
        if not isinstance(header, _Record):
            continue
        names = sum(1 for c in header.cells if header_key(c.value) in known)
        scores.append((names, 0, -rank, delimiter))
    if not scores:
        return DELIMITERS[0]
    best = max(s[0] for s in scores)
    tied = [s for s in scores if s[0] == best]
    if len(tied) > 1:
        tied = [(n, -_problem_count(text, pos, d), r, d) for n, _, r, d in tied]
    return max(tied)[3]


def _problem_count(text: str, pos: int, delimiter: str) -> int:
    records = list(_Parser(text, delimiter).records(pos))
    widths = [len(r.cells) for r in records if isinstance(r, _Record)]
    width = widths[0] if widths else 0
    return sum(1 for r in records if isinstance(r, _Broken) or len(r.cells) != width)


def read_table(
    data: bytes,
    known: Mapping[str, str] | Collection[str],
    required: Collection[str],
    multiline: Collection[str] = (),
) -> Table:
    """Read a whole CSV file; raises ImportFileError naming every bad line.

    ``known``: the column names the caller understands (others are ignored and reported),
    ``required``: those the first line must name, ``multiline``: those that may hold a
    quoted line break.
    """
    text, encoding = decode(data)
    if not text.strip():
        raise ImportFileError("the file is empty.")
    pos, forced = 0, None
    sep = _SEP_LINE.match(text)
    if sep is not None:
        forced, pos = sep.group(1), sep.end()
    delimiter = forced or _choose_delimiter(text, pos, known)
    parser = _Parser(text, delimiter)
    records = parser.records(pos)
    header: _Record | None = None
    for record in records:
        if isinstance(record, _Broken):
            raise ImportFileError(
                "the first line (the column names) cannot be read:", [record.message]
            )
        if any(c.value.strip() for c in record.cells):
            header = record
            break
    if header is None:
        raise ImportFileError("the file is empty.")
    header_line = parser.lines.line(header.start)
    names = [c.value.strip() for c in header.cells]
    keys = [header_key(n) for n in names]
    missing = [c for c in required if c not in keys]
    if missing:
        raise ImportFileError(
            f"line {header_line} must name the columns; missing: {', '.join(missing)} "
            f"(read as {delimiter_name(delimiter)}-separated). Columns: {', '.join(known)}."
        )
    dupes = sorted({k for k in keys if k and keys.count(k) > 1})
    if dupes:
        raise ImportFileError(
            f"column {', '.join(dupes)} appears twice in line {header_line} (the column names)."
        )
    ignored = tuple(n for n, k in zip(names, keys, strict=True) if k not in known and n)
    reader = _RowReader(parser, keys, known, frozenset(multiline), header_line)
    rows: list[Row] = []
    problems: list[str] = []
    for record in records:
        if isinstance(record, _Broken):
            problems.append(record.message)
            continue
        row = reader.row(record, problems)
        if row is not None:
            rows.append(row)
    if problems:
        raise ImportFileError("nothing was imported. Fix these lines:", by_line(problems))
    if not rows:
        raise ImportFileError("the file has column names but no rows.")
    return Table(
        encoding,
        delimiter,
        header_line,
        tuple(k for k in keys if k in known),
        ignored,
        tuple(rows),
    )


class _RowReader:
    """Turns parsed records into rows, checking their width and their characters."""

    def __init__(
        self,
        parser: _Parser,
        keys: list[str],
        known: Collection[str],
        multiline: frozenset[str],
        header_line: int,
    ) -> None:
        self.parser = parser
        self.keys = keys
        self.known = known
        self.multiline = multiline
        self.header_line = header_line
        self.named = sum(1 for k in keys if k)

    def row(self, record: _Record, problems: list[str]) -> Row | None:
        cells = record.cells
        if not any(c.value.strip() for c in cells):
            return None  # a blank line, or Excel's ",,,," for an empty row
        line = self.parser.lines.line(record.start)
        found = len(problems)
        if self._repeats_header(cells):
            problems.append(
                f"line {line} repeats the column names of line {self.header_line} (two files "
                "joined into one?)"
            )
            return None
        self._check_width(line, cells, problems)
        values: dict[str, str] = {}
        for key, cell in zip(self.keys, cells, strict=False):
            if key in self.known:
                value = cell.value
                if not value.isprintable():  # printable text holds no unsafe character
                    self._check_text(key, cell, problems)
                    value = value.replace("\r\n", "\n").replace("\r", "\n")
                values[key] = value
        for key in self.keys[len(cells) :]:
            if key in self.known:
                values[key] = ""  # the row stops short: Excel leaves out trailing empty cells
        return Row(line, values) if len(problems) == found else None

    def _repeats_header(self, cells: list[_Cell]) -> bool:
        if header_key(cells[0].value) != self.keys[0]:
            return False  # the cheap test first: this runs for every row
        named = [(k, header_key(c.value)) for k, c in zip(self.keys, cells, strict=False) if k]
        return bool(named) and all(k == v for k, v in named)

    def _check_width(self, line: int, cells: list[_Cell], problems: list[str]) -> None:
        delimiter, width = self.parser.delimiter, len(self.keys)
        filled = [i for i, c in enumerate(cells) if c.value.strip()]
        if any(i >= width for i in filled):
            problems.append(
                f"line {line}: {len(cells)} cells but line {self.header_line} names "
                f"{width} columns (a {delimiter_name(delimiter)} inside a cell needs "
                "quotes around the cell)"
            )
            return
        unnamed = [i for i in filled if not self.keys[i]]
        if unnamed:
            first = unnamed[0]
            problems.append(
                f"line {line}: {cells[first].value.strip()!r} is in column {first + 1}, "
                f"which has no name on line {self.header_line}"
            )
            return
        if len(cells) == 1 and self.named > 1:
            for other in DELIMITERS:
                if other != delimiter and cells[0].value.count(other) >= self.named - 1:
                    problems.append(
                        f"line {line}: one cell, but line {self.header_line} names "
                        f"{self.named} columns separated by {delimiter_name(delimiter)}s; "
                        f"this line seems to be separated by {delimiter_name(other)}s"
                    )
                    return

    def _where(self, cell: _Cell, index: int) -> tuple[int, int]:
        """Line and column in the file of character ``index`` of a cell's value."""
        if cell.quoted:
            index += cell.value.count('"', 0, index)  # each quote was written twice
        return self.parser.lines.where(cell.raw + index)

    def _check_text(self, key: str, cell: _Cell, problems: list[str]) -> None:
        multiline = key in self.multiline
        bad = unsafe_character(cell.value, multiline=multiline)
        if bad is not None:
            line, column = self._where(cell, bad[0])
            message = f"line {line}, column {column}: {bad[1]} in {key}"
            if bad[1] == "a line break":
                opened = self.parser.lines.where(cell.raw - 1)
                message = (
                    f"line {line}, column {column}: a line break inside the quoted {key} cell "
                    f"that opens at line {opened[0]}, column {opened[1]}; {key} must be on "
                    "one line (is its closing quote missing?)"
                )
            problems.append(message)
        elif multiline and cell.quoted:
            problems.extend(self._swallowed(key, cell))

    def _swallowed(self, key: str, cell: _Cell) -> list[str]:
        """A multi-line cell with a whole row inside it: its closing quote is missing.

        "A whole row" is a line with exactly as many separators as the first line, in a
        file of three columns or more: a note with that many commas on one of its lines
        is refused too, which is the price of never swallowing rows into a note.
        """
        width = len(self.keys)
        if width < 3:
            return []
        offset = 0
        for part in _LINE_END.split(cell.value)[1:]:
            offset = cell.value.index(part, offset)
            if part.count(self.parser.delimiter) == width - 1:
                opened = self.parser.lines.where(cell.raw - 1)
                inside = self._where(cell, offset)[0]
                return [
                    f"line {opened[0]}, column {opened[1]}: the quoted {key} cell that opens "
                    f"here seems never to be closed: line {inside} inside it looks like a row "
                    "of its own"
                ]
        return []


def by_line(problems: list[str]) -> list[str]:
    def line_of(problem: str) -> int:
        match = re.match(r"line (\d+)", problem)
        return int(match.group(1)) if match else 0

    return sorted(problems, key=line_of)
