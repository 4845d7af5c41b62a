"""Formula-safe cells for every CSV and spreadsheet clinicflow writes.

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is run as a formula
by Excel and LibreOffice when the file is opened (CSV/formula injection, OWASP). Names, references and
reasons can come from files people edit, so every exported text cell goes through ``safe_cell``.
"""

from __future__ import annotations

import re

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Prefix a formula-looking text cell with a quote; numbers (negative ones too) pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell made safe."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    return out


#: A number written as text (``-12.5``, ``+3``, ``1e-4``): Excel reads it as that number, not a formula.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def safe_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``safe_frame`` for a table read from a CSV as text and written back (``history pseudonymize``):
    a cell that is a plain number (``-12.5``) is kept as it was; every other formula-looking cell is
    prefixed like ``safe_cell`` does."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: v if isinstance(v, str) and _NUMBER.fullmatch(v) else safe_cell(v)
            )
    return out
