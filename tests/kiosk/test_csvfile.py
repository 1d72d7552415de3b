"""Reading CSV files as Excel and office staff write them (kiosk.csvfile).

One small data file per shape and per failure mode in tests/kiosk/data/csv/, made the way
Excel, an MIS export, Google Sheets or Notepad make them; then Hypothesis for "whatever
Excel writes, we read back exactly".
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kiosk.csvfile import CP1252, UTF8, UTF8_BOM, UTF16, Table, read_table
from kiosk.errors import ImportFileError
from kiosk.records import ITEM_COLUMNS, MULTILINE_COLUMNS, STAFF_COLUMNS

DATA = Path(__file__).parent / "data" / "csv"
STAFF_REQUIRED = ("staff_id", "name")
ITEM_REQUIRED = ("asset_tag", "name", "kind")


def list_of(name: str) -> str:
    """Which list a data file holds: "items" or "staff"."""
    data = (DATA / name).read_bytes()
    return "items" if b"asset_tag" in data or "asset_tag".encode("utf-16-le") in data else "staff"


def read(name: str) -> Table:
    data = (DATA / name).read_bytes()
    if list_of(name) == "items":
        return read_table(data, ITEM_COLUMNS, ITEM_REQUIRED, MULTILINE_COLUMNS)
    return read_table(data, STAFF_COLUMNS, STAFF_REQUIRED, MULTILINE_COLUMNS)


def refusal(name: str) -> list[str]:
    with pytest.raises(ImportFileError) as info:
        read(name)
    return str(info.value).splitlines()


def staff_problems(data: bytes) -> list[str]:
    """The ``line N`` lines of a staff file's refusal."""
    with pytest.raises(ImportFileError) as info:
        read_table(data, STAFF_COLUMNS, STAFF_REQUIRED)
    return str(info.value).splitlines()[1:]


# --- files as they come --------------------------------------------------------------------

ACCEPTED = {
    # Excel "CSV UTF-8": BOM, CRLF, a comma and doubled quotes inside quoted cells.
    "excel_csv_utf8_bom_crlf.csv": (
        UTF8_BOM,
        ",",
        [
            (2, "S001", "Siân Evans"),
            (3, "S002", "Khan, Amira"),
            (4, "S003", 'Bryony "Bee" Hughes'),
        ],
    ),
    # Excel "CSV" on a machine whose list separator is ";": Windows-1252, curly apostrophe (U+2019).
    "excel_csv_windows1252_semicolons.csv": (
        CP1252,
        ";",
        [(2, "S001", "Siân Evans"), (3, "S002", "Zoë Clarke"), (4, "S003", "Seán O\u2019Brien")],
    ),
    # The "sep=;" first line Excel writes and reads; a comma is then plain text.
    "excel_sep_line.csv": (UTF8, ";", [(3, "S001", "Jones, Tom"), (4, "S002", "Ana Dias")]),
    # Excel "Unicode text": UTF-16 with BOM, tab-separated.
    "excel_unicode_text.txt": (
        UTF16,
        "\t",
        [(2, "S001", "Siân Evans"), (3, "S002", "Łucja Nowak"), (4, "S003", 'Bryony "Bee" Hughes')],
    ),
    # Formatted empty columns to the right and empty rows (",,,,") between.
    "excel_trailing_empty_columns.csv": (
        UTF8,
        ",",
        [(2, "S001", "Amira Khan"), (4, "S002", "John Jones")],
    ),
    # Rows that stop after their last filled cell.
    "excel_short_rows.csv": (
        UTF8,
        ",",
        [(2, "S001", "Amira Khan"), (3, "S002", "John Jones"), (4, "S003", "Siân Evans")],
    ),
    # An MIS export that quotes every cell, numbers too (leading zeros kept).
    "mis_export_all_quoted.csv": (
        UTF8,
        ",",
        [(2, "0042", "Amira Khan"), (3, "0043", "John Jones")],
    ),
    "google_sheets_lf.csv": (UTF8, ",", [(2, "S001", "Amira Khan"), (3, "S002", "O'Neill, Pat")]),
    # Typed in Notepad: a quote inside unquoted text is text; spaces around a quoted cell.
    "notepad_quote_inside_text.csv": (
        UTF8,
        ",",
        [(2, "S001", 'Pat "PJ" Jones'), (3, "S002", "Khan, Amira")],
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_files_excel_and_offices_make_are_read_as_typed(name: str) -> None:
    encoding, delimiter, expected = ACCEPTED[name]
    table = read(name)
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    key = table.columns[0]
    assert [(r.line, r.cells[key], r.cells["name"]) for r in table.rows] == expected


def test_short_rows_leave_missing_cells_blank() -> None:
    table = read("excel_short_rows.csv")
    assert table.rows[1].cells == {
        "staff_id": "S002",
        "name": "John Jones",
        "known_as": "",
        "role": "",
        "classes": "",
        "email": "",
    }


def test_notes_keep_their_line_breaks_and_names_their_quotes() -> None:
    table = read("items_doubled_quotes_and_notes.csv")
    assert [(r.line, r.cells["name"], r.cells["notes"]) for r in table.rows] == [
        (2, 'Class camera "new"', "Charger in the office.\nLens cap missing."),
        (4, "Trolley, upstairs", ""),
        (5, '12" tape', "Line one\nLine two"),  # CRLF inside the cell read as one line break
    ]
    assert table.rows[1].cells["contents"] == "iPads:30;headphones:30"


REFUSED = {
    "unclosed_quote_at_end.csv": ['line 3, column 6: this quote (") is never closed'],
    "unclosed_quote_closed_later.csv": [
        'line 3, column 6: this quote (") seems never to be closed: the cell runs on to line 5'
    ],
    "quote_not_doubled.csv": [
        'line 3, column 21: a quote inside a quoted cell must be written twice ("")'
    ],
    "line_break_in_name.csv": [
        "line 2, column 12: a line break inside the quoted name cell that opens at line 2, "
        "column 6; name must be on one line"
    ],
    "notes_quote_never_closed.csv": [
        'line 2, column 29: this quote (") seems never to be closed: the cell runs on to line 4'
    ],
    "notes_swallow_rows.csv": [
        "line 2, column 29: the quoted notes cell that opens here seems never to be closed: "
        "line 3 inside it looks like a row of its own"
    ],
    "nul_byte.csv": ["line 2, column 11: a NUL character"],
    "tab_in_name.csv": ["line 2, column 11: a tab in name"],
    "hidden_direction_character.csv": [
        "line 2, column 16: a hidden text-direction character (U+202E) in name"
    ],
    "utf8_with_a_windows1252_line.csv": ["line 3, column 8: byte 0xE2 is not UTF-8"],
    "bom_then_windows1252.csv": ["line 2, column 8: byte 0xE2 is not UTF-8"],
    "undefined_windows1252_byte.csv": [
        "line 2, column 12: byte 0x81 is not a letter in UTF-8 or Windows-1252"
    ],
    "damaged_utf16.txt": ["line 3: cannot be read as UTF-16"],
    "semicolon_inside_unquoted_cell.csv": [
        "line 2: 5 cells but line 1 names 4 columns (a semicolon inside a cell needs quotes"
    ],
    "row_with_other_separator.csv": [
        "line 3: one cell, but line 1 names 6 columns separated by commas; this line seems "
        "to be separated by semicolons"
    ],
    "value_under_unnamed_column.csv": [
        "line 3: 'Payroll 12' is in column 4, which has no name on line 1"
    ],
    # Two "CSV UTF-8" exports joined (copy a.csv+b.csv): the second header is not a person.
    "two_exports_joined.csv": [
        "line 3 repeats the column names of line 1 (two files joined into one?)"
    ],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_faulty_files_are_refused_line_by_line(name: str) -> None:
    lines = refusal(name)
    assert len(lines) == 1 + len(REFUSED[name]), lines
    for got, wanted in zip(lines[1:], REFUSED[name], strict=True):
        assert got.startswith(wanted), got


def test_a_mac_csv_is_refused_not_guessed() -> None:
    (line,) = refusal("mac_roman_cr.csv")
    assert "'CSV (Macintosh)'" in line and "CSV UTF-8" in line


def test_every_data_file_is_covered() -> None:
    covered = {*ACCEPTED, *REFUSED, "items_doubled_quotes_and_notes.csv", "mac_roman_cr.csv"}
    assert {p.name for p in DATA.iterdir()} == covered


def test_every_mixed_encoding_line_is_named() -> None:
    good = "staff_id,name\r\nS1,Zoë\r\n".encode()
    bad = "S2,Siân\r\n".encode("cp1252")
    lines = staff_problems(good + bad + good[15:] + bad)
    assert [line.split(",")[0] for line in lines] == ["line 3", "line 5"]


def test_windows_1252_only_when_no_line_reads_as_utf8() -> None:
    data = "staff_id,name\r\nS1,Siân\r\nS2,Zoë\r\n".encode("cp1252")
    table = read_table(data, STAFF_COLUMNS, STAFF_REQUIRED)
    assert table.encoding == CP1252
    assert [r.cells["name"] for r in table.rows] == ["Siân", "Zoë"]


def test_utf16_without_its_byte_order_mark_is_still_read() -> None:
    data = "staff_id\tname\r\nS1\tSiân\r\n".encode("utf-16-le")
    table = read_table(data, STAFF_COLUMNS, STAFF_REQUIRED)
    assert table.rows[0].cells["name"] == "Siân"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty."),
        (b"\r\n\r\n", "the file is empty."),
        (b"staff_id,name\r\n,\r\n", "the file has column names but no rows."),
        (b"staff_id;nom\r\nS1;x\r\n", "line 1 must name the columns; missing: name"),
        (b"staff_id,name,Name\r\nS1,x,y\r\n", "column name appears twice in line 1"),
        ("\ufeff\ufeffstaff_id,name\r\n".encode(), "the file has column names but no rows."),
        (b"\xff\xfe\x00\x00s\x00\x00\x00", "the file is UTF-32"),
    ],
)
def test_files_that_are_not_a_list_say_so_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as info:
        read_table(data, STAFF_COLUMNS, STAFF_REQUIRED)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_columns_are_ignored_and_named() -> None:
    table = read_table(
        b"Staff ID,Name,Payroll number\r\nS1,A B,12\r\n", STAFF_COLUMNS, STAFF_REQUIRED
    )
    assert table.ignored == ("Payroll number",)
    assert table.rows[0].cells == {"staff_id": "S1", "name": "A B"}


def test_the_separator_is_the_one_that_names_the_columns() -> None:
    # The first cell holds a comma: a header-only sniff would guess commas.
    data = b'asset_tag;name;kind\r\nT1;"Trolley, upstairs";trolley_key\r\n'
    table = read_table(data, ITEM_COLUMNS, ITEM_REQUIRED)
    assert table.delimiter == ";" and table.rows[0].cells["name"] == "Trolley, upstairs"


def test_every_problem_is_listed_in_line_order() -> None:
    data = b'staff_id,name\r\nS1,A\x00\r\nS2,"B\r\nC",\r\nS3,x,y\r\nS4,"D "x"",\r\nS5,E\x07\r\n'
    numbers = [int(line.split(",")[0].split(":")[0].split()[1]) for line in staff_problems(data)]
    assert numbers == [2, 3, 5, 6, 7]


# --- whatever Excel writes, we read back exactly ---------------------------------------------

# What a person can type into a one-line cell: any character but control characters, line
# and paragraph separators, a byte-order mark or a hidden direction override.
_NOT_TYPED = "\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ONE_LINE = st.characters(
    blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters=_NOT_TYPED
)
MULTI_LINE = st.one_of(ONE_LINE, st.sampled_from("\n\t"))
COLUMNS = ["asset_tag", "name", "kind", "home_class", "notes"]

# (what Excel's Save As calls it, separator, codec)
SAVES = [
    ("CSV UTF-8 (Comma delimited)", ",", "utf-8-sig"),
    ("CSV UTF-8, semicolon list separator", ";", "utf-8-sig"),
    ("CSV (Comma delimited)", ",", "cp1252"),
    ("CSV, semicolon list separator", ";", "cp1252"),
    ("Text (Tab delimited)", "\t", "cp1252"),
    ("Unicode Text", "\t", "utf-16"),
    ("Google Sheets / LibreOffice", ",", "utf-8"),
]


def excel_bytes(
    rows: list[list[str]], delimiter: str, codec: str, *, quote_all: bool, sep_line: bool
) -> bytes:
    out = io.StringIO()
    if sep_line:
        out.write(f"sep={delimiter}\r\n")
    writer = csv.writer(
        out,
        delimiter=delimiter,
        lineterminator="\r\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode(codec)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[list[str]], tuple[str, str, str], bool, bool]:
    save = draw(st.sampled_from(SAVES))
    codec = save[2]

    def fits(text: str) -> bool:
        try:
            text.encode(codec)
        except UnicodeEncodeError:
            return False
        return True

    one_line = st.text(ONE_LINE, max_size=12).filter(fits)
    notes = st.text(MULTI_LINE, max_size=30).filter(fits)
    row = st.tuples(one_line, one_line, one_line, one_line, notes).map(list)
    rows = draw(st.lists(row, min_size=1, max_size=6))
    return rows, save, draw(st.booleans()), draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(tables())
def test_whatever_excel_writes_is_read_back_exactly(
    drawn: tuple[list[list[str]], tuple[str, str, str], bool, bool],
) -> None:
    rows, (_, delimiter, codec), quote_all, sep_line = drawn
    data = excel_bytes(rows, delimiter, codec, quote_all=quote_all, sep_line=sep_line)
    if codec == "cp1252":
        # A capital accented letter straight before a symbol ("Ã©", "Â£") is also a UTF-8
        # letter in these bytes: two readings, so such a file is refused by design.
        assume(not re.search(rb"[\xc2-\xf4][\x80-\xbf]", data))
    for row in rows:
        for line in row[4].split("\n")[1:]:
            # A note line with as many separators as a row is refused on purpose.
            assume(line.count(delimiter) != len(COLUMNS) - 1)
    expected = [dict(zip(COLUMNS, row, strict=True)) for row in rows if any(c.strip() for c in row)]
    assume(expected)  # a file of blank rows only is refused ("no rows")
    table = read_table(data, ITEM_COLUMNS, ("asset_tag", "name"), MULTILINE_COLUMNS)
    assert [r.cells for r in table.rows] == expected
    assert table.delimiter == delimiter


@settings(max_examples=200, deadline=None)
@given(st.text(ONE_LINE, min_size=1, max_size=20), st.sampled_from(",;\t"))
def test_line_numbers_count_every_line_end(name: str, delimiter: str) -> None:
    """Line N in a refusal is line N in the office's editor, whatever the line ends."""
    lines = [f"asset_tag{delimiter}name{delimiter}kind", f"A1{delimiter}x{delimiter}other"]
    body = "\r\n".join(lines) + "\n" + f"A2{delimiter}{name}\x00{delimiter}other" + "\r"
    with pytest.raises(ImportFileError) as info:
        read_table(body.encode(), ITEM_COLUMNS, ITEM_REQUIRED)
    assert re.match(r"line 3\b", str(info.value).splitlines()[1])
