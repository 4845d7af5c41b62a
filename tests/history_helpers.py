"""Shared helpers of the history tests: small synthetic files and a store scanner."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from clinicflow.data.synthetic import generate_history, to_generic, to_noshow_kaggle, write_history
from clinicflow.synthetic_flow import generate_flow_history


def kaggle_file(path: Path, rows: int = 3000, seed: int = 3, weeks: int = 12) -> tuple[Path, pd.DataFrame]:
    """A synthetic file in the public no-show layout, and the frame written."""
    frame = to_noshow_kaggle(generate_history(rows, seed=seed, weeks=weeks, cancellations=False))
    write_history(frame, path)
    return path, frame


def generic_file(
    path: Path, rows: int = 3000, seed: int = 4, weeks: int = 12, scenario=None
) -> tuple[Path, pd.DataFrame]:
    """A synthetic file in the generic layout; with a scenario its clinic times are simulated, as
    ``history synthesize --scenario`` makes them (``synthetic_flow``)."""
    frame = to_generic(generate_flow_history(rows, seed=seed, weeks=weeks, scenario=scenario)[0])
    write_history(frame, path)
    return path, frame


def snapshot(db: Path) -> dict[str, list]:
    """Every row of every table, sorted: two equal snapshots mean an unchanged store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
        ]
        return {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
    finally:
        con.close()


def all_text(db: Path) -> list[str]:
    """Every value of every column of every table, as text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: list[str] = []
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
        for table, column in cols:
            out.extend(
                str(v[0])
                for v in con.execute(
                    f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}" WHERE "{column}" IS NOT NULL'
                ).fetchall()
            )
        return out
    finally:
        con.close()


@pytest.fixture(autouse=True)
def _key_in_tmp(tmp_path, monkeypatch):
    """No test may create or read the real ~/.config/clinicflow/key."""
    monkeypatch.setenv("CLINICFLOW_KEY_FILE", str(tmp_path / "default-key"))
