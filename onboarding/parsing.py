"""Spreadsheets to rows of text, and the text of a cell to a value: what every import kind shares.

tablib (with openpyxl for XLSX) reads the file; this module only decides what
the cells mean: headers, blank rows, numbers with a decimal comma, dates, yes/no.
"""

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass

import tablib
from django.core.exceptions import ValidationError

from core.numbers import parse_number

from .models import FileFormat

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# An XLSX is a zip; a small one can unpack to gigabytes (a "zip bomb"). openpyxl reads what it unpacks.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
DELIMITERS = (",", ";", "\t")


@dataclass
class Row:
    line: int  # the row number a spreadsheet shows: the header is row 1
    cells: dict  # column name -> text, stripped; "" when blank


@dataclass
class Table:
    columns: list
    rows: list


def format_of(filename):
    name = (filename or "").lower()
    if name.endswith(".csv") or name.endswith(".txt"):
        return FileFormat.CSV
    if name.endswith(".xlsx"):
        return FileFormat.XLSX
    raise ValidationError("Upload a .csv or .xlsx file. (An old .xls workbook: save it as .xlsx first.)",
                          code="format")


def load(content, file_format, *, columns, required):
    """The file as a Table of text cells, or a ValidationError that says what is wrong with the file as a whole."""
    if len(content) > MAX_BYTES:
        raise ValidationError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files.",
                              code="too_large")
    dataset = _xlsx(content) if file_format == FileFormat.XLSX else _csv(content)
    headers = [_header(name) for name in dataset.headers or []]
    raw_rows = list(dataset)
    # Columns without a header are tolerated only while empty: spreadsheets often carry formatted blank columns.
    keep = []
    for index, name in enumerate(headers):
        if name:
            keep.append(index)
        elif any(_text(row[index]) for row in raw_rows if index < len(row)):
            raise ValidationError(f"Column {index + 1} has values but no header. Name it, or delete the column.",
                                  code="header")
    names = [headers[index] for index in keep]
    if not names:
        raise ValidationError("The file is empty: the first row must hold the column names.", code="empty")
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise ValidationError(
            f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. The columns are: "
            f"{', '.join(columns)}.", code="header")
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ValidationError(f"The column {', '.join(doubled)} appears twice.", code="header")
    missing = [name for name in required if name not in names]
    if missing:
        raise ValidationError(f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
                              code="header")
    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        cells = {name: _text(raw[index]) if index < len(raw) else "" for name, index in zip(names, keep, strict=True)}
        if any(cells.values()):
            rows.append(Row(line=number, cells=cells))
    if not rows:
        raise ValidationError("The file has column names but no rows.", code="empty")
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"The file has {len(rows)} rows; at most {MAX_ROWS} go in one import. Split it.",
                              code="too_large")
    return Table(columns=names, rows=rows)


def _csv(content):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text. In Excel choose Save As, \"CSV UTF-8\".",
                              code="encoding") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    try:
        return tablib.Dataset().load(text, format="csv", delimiter=delimiter)
    except tablib.InvalidDimensions:
        raise ValidationError(
            "A row has more cells than the header row. A decimal comma in a comma-separated file splits the "
            "number in two: put such numbers in quotes (\"12,50\"), or separate the columns with semicolons.",
            code="csv") from None
    except ValueError as exc:
        raise ValidationError(f"The CSV could not be read: {exc}.", code="csv") from None


def _xlsx(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ValidationError("The workbook unpacks to more than 100 MB. Split it.", code="too_large")
        return tablib.Dataset().load(content, format="xlsx")
    except ValidationError:
        raise
    except tablib.InvalidDimensions:
        raise ValidationError("A row of the first sheet has more cells than its header row.", code="xlsx") from None
    except Exception:  # openpyxl raises many kinds (zip, XML, key errors) for a file that is not a workbook
        raise ValidationError("The file could not be read as an Excel workbook (.xlsx).", code="xlsx") from None


def _header(value):
    return re.sub(r"[\s-]+", "_", _text(value).lower())


def _text(value):
    """A cell as text: Excel's numbers, dates and booleans as a person would type them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # Excel stores 12 as 12.0 and 12.5 as 12.5; repr keeps the shortest exact form.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


# --- cells to values -------------------------------------------------------------------------

def decimal(text):
    """A number as people type it, read by core.numbers in the company's locale: "12,50", "1 234,5", "5000.5".

    Ambiguous separators ("5.000,5" where the company groups with spaces) are refused, not guessed:
    "5000,5" is 5000.5, never 50005.
    """
    try:
        value = parse_number(text)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None
    if value is None:
        raise ValueError("A number is needed here.")
    return value


def integer(text):
    value = decimal(text)
    if value != value.to_integral_value():
        raise ValueError(f"“{text}” is not a whole number.")
    return int(value)


def date(text):
    try:
        return dt.date.fromisoformat(text[:10] if re.match(r"^\d{4}-\d\d-\d\dT", text) else text)
    except ValueError:
        raise ValueError(f"“{text}” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-01.") from None


YES = {"yes", "y", "true", "1", "ja"}
NO = {"no", "n", "false", "0", "nee"}


def boolean(text):
    lowered = text.lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise ValueError(f"“{text}” is not yes or no.")


def choice(text, choices):
    """A value of a TextChoices from its value or its label, any case: "stone_fruit" or "Stone fruit"."""
    wanted = re.sub(r"[\s_-]+", " ", text.lower()).strip()
    for value, label in choices.choices:
        if wanted in (re.sub(r"[\s_-]+", " ", value.lower()), label.lower()):
            return value
    raise ValueError(f"“{text}” is not one of {', '.join(choices.values)}.")
