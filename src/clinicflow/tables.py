"""Reading the text files people hand to clinicflow (schedules, requests, case lists, scenarios):
UTF-8 with a byte-order mark from Excel tolerated, every CSV cell as text, and each problem — a
missing or non-UTF-8 file, an empty file, a repeated column, a row with more cells than the header —
turned into one ``InputError`` line naming the file and the row rather than a pandas traceback or a
misleading message about shifted columns."""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError

if TYPE_CHECKING:
    import pandas as pd


def read_text(path: str | Path) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark is dropped)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(p, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(p, None, "expected a file, but it is a folder") from None
    except OSError as e:
        raise InputError(p, None, f"cannot read the file ({e.strerror or e.__class__.__name__})") from None
    if raw.startswith(b"PK\x03\x04"):  # what an .xlsx workbook (a zip archive) begins with
        hint = " (save it as CSV UTF-8)" if p.suffix.lower() == ".csv" else ""
        raise InputError(p, None, f"expected a text file, got a zip archive such as an Excel workbook{hint}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(
            p,
            None,
            f"expected UTF-8 text, got byte 0x{raw[e.start]:02x} (save the file as UTF-8)",
            line=line,
        ) from None
    nul = text.find("\x00")
    if nul >= 0:  # valid UTF-8, but no text file has it: quoting its "columns" would print control bytes
        raise InputError(
            p, None, "expected a text file, got binary data (a NUL byte)", line=text[:nul].count("\n") + 1
        )
    return text


def csv_shape_problem(text: str) -> tuple[int | None, str | None, str] | None:
    """The first structural problem of a CSV text as (line, column, message), or None.

    pandas reads a row with more cells than the header by silently turning the first cells into
    an index, so every later column shifts and the error names the wrong column; these problems
    are found here first, with their line.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            return None, None, "empty file (expected a header row naming the columns)"
        names = [h.strip() for h in header]
        separator = wrong_separator(names)
        if separator is not None:
            return None, None, separator
        for name in names:
            if name and names.count(name) > 1:
                return None, f"column {name}", "the column appears twice in the header"
        for row in reader:
            if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
                return reader.line_num, None, f"expected {len(header)} cells as in the header, got {len(row)}"
    except csv.Error as e:
        return reader.line_num, None, f"not a readable CSV file ({e})"
    return None


def wrong_separator(header: list[str]) -> str | None:
    """The problem of a header read as one cell that holds ';', tabs or '|', or None.

    Excel in many locales saves "CSV" with semicolons; read with commas, the whole header is one
    column, and the error would otherwise be a missing column that is plainly there.
    """
    other = next((d for d in (";", "\t", "|") if len(header) == 1 and d in header[0]), None)
    if other is None:
        return None
    shown = "tabs" if other == "\t" else f"'{other}'"
    return f"expected columns separated by commas, but the header row is separated by {shown}"


def read_text_csv(path: str | Path) -> pd.DataFrame:
    """The CSV at ``path`` with every cell a string (empty cells as "")."""
    p = Path(path)
    text = read_text(p)
    problem = csv_shape_problem(text)
    if problem is not None:
        line, column, message = problem
        where = ", ".join(x for x in (f"row {line}" if line else None, column) if x) or None
        raise InputError(p, where, message)
    return parse_csv_text(text, p)


def parse_csv_text(text: str, file: str | Path) -> pd.DataFrame:
    """pandas' reading of a CSV text already checked by :func:`csv_shape_problem`, cells as text."""
    import pandas as pd  # here, not at the top: ``import clinicflow`` reads scenarios with read_text only

    try:
        with warnings.catch_warnings():  # trailing empty cells beyond the header: dropped, on purpose
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        detail = str(e).strip().splitlines()[-1] if str(e).strip() else e.__class__.__name__
        unclosed = re.search(r"EOF inside string starting at row (\d+)", detail)
        if unclosed:  # pandas counts rows from 0 at the header: file line = row + 1
            row = int(unclosed[1]) + 1
            raise InputError(file, f"row {row}", "a quoted cell starts here and is never closed") from None
        raise InputError(file, None, f"not a readable CSV file ({detail.split('C error: ')[-1]})") from None
