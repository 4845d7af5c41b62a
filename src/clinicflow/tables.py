"""Reading the CSV files people hand to clinicflow (schedules, requests, id lists): every cell as text,
a byte-order mark from Excel tolerated, and a missing or unreadable file turned into one ``InputError``
line rather than a pandas traceback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InputError


def read_text_csv(path: str | Path) -> pd.DataFrame:
    """The CSV at ``path`` with every cell a string (empty cells as "")."""
    p = Path(path)
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(p, None, "file not found") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, IsADirectoryError) as e:
        raise InputError(p, None, f"not a readable CSV file ({e.__class__.__name__})") from None
