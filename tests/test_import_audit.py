"""Messy real-world history exports: the defects an audit of the import found, one test each."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import FAMILY, one_line, run_main
from history_helpers import _key_in_tmp, generic_file  # noqa: F401


def test_pseudonymize_of_a_headerless_export_does_not_print_its_first_row(tmp_path):
    """Without a header row, pandas takes the first appointment as the column names; listing them
    in the "no such column" error printed that patient's raw id."""
    f, _ = generic_file(tmp_path / "h.csv", rows=50)
    lines = f.read_text().splitlines()
    headerless = tmp_path / "export.csv"
    headerless.write_text("\n".join(lines[1:]) + "\n")
    r = run_main("history", "pseudonymize", headerless, "--out", tmp_path / "out.csv")
    line = one_line(r)
    assert "no such column" in line
    first = pd.read_csv(f, dtype=str).iloc[0]
    assert first["patient_id"] not in line and first["appointment_id"] not in line
    # a real header is still listed, to catch a typo in --column
    r = run_main("history", "pseudonymize", f, "--column", "patient", "--out", tmp_path / "out.csv")
    assert "appointment_id, patient_id" in one_line(r)


def _refusal(tmp_path, f) -> str:
    """The one stderr line of an import that must be refused, and the store not created."""
    db = tmp_path / f"refused-{f.suffix[1:]}.duckdb"
    line = one_line(run_main("history", "import", f, "--db", db, "--key-file", tmp_path / "key"))
    assert not db.exists()
    return line


def test_bad_row_is_located_on_its_own_line_after_multiline_cells_and_blank_lines(tmp_path):
    """A quoted cell with line breaks (a free-text note) and a blank line both made every later row's
    reported line number too small: the analyst looked at the wrong appointment."""
    f, frame = generic_file(tmp_path / "h.csv", rows=60)
    frame = frame.astype(str).replace("nan", "")
    frame["note"] = ""
    frame.loc[5, "note"] = "called twice,\nleft a message\nno answer"
    frame.loc[40, "age"] = "-3"
    lines = frame.to_csv(index=False).splitlines()
    lines.insert(20, "")  # a blank line in the middle
    f.write_text("\n".join(lines) + "\n")
    physical = next(i for i, ln in enumerate(f.read_text().splitlines(), 1) if ",-3," in ln)
    assert physical == 40 + 2 + 2 + 1  # header, 2 extra lines of the note, the blank line
    assert _refusal(tmp_path, f).startswith(f"error: {f}:{physical}: negative age -3")


def test_empty_rows_and_repeated_header_rows_are_not_appointments(tmp_path):
    """Excel leaves rows of empty cells (",,,,") below a CSV's data and blank rows in a sheet, and
    paged reports repeat the header: each of these refused the whole import as a bad row."""
    f, frame = generic_file(tmp_path / "h.csv", rows=60)
    text = f.read_text().splitlines()
    header, empty = text[0], "," * (len(frame.columns) - 1)
    f.write_text("\n".join([*text[:31], header, *text[31:], empty, empty]) + "\n")
    db, key = tmp_path / "h.duckdb", tmp_path / "key"
    r = run_main("history", "import", f, "--db", db, "--key-file", key, "--json")
    assert r.code == 0, r.stderr
    assert '"rows_added": 60' in r.stdout

    xlsx = tmp_path / "h.xlsx"
    sheet = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False).iloc[:59]
    sheet = pd.concat(
        [sheet.iloc[:20], pd.DataFrame([[""] * sheet.shape[1]], columns=sheet.columns), sheet.iloc[20:]]
    )
    sheet.loc[sheet.index[45], "age"] = "-4"
    sheet.to_excel(xlsx, index=False)
    assert _refusal(tmp_path, xlsx).startswith(f"error: {xlsx}:47: negative age -4")


def _dated_file(path, starts: list[str], mapping_dayfirst: bool | None = None):
    """A small export whose start_at cells are ``starts`` (and, with a mapping, its file)."""
    n = len(starts)
    pd.DataFrame(
        {
            "appointment_id": [f"A{i}" for i in range(n)],
            "patient_id": [f"P{i % 7}" for i in range(n)],
            "start_at": starts,
            "status": ["attended"] * n,
        }
    ).to_csv(path, index=False)
    if mapping_dayfirst is None:
        return path, None
    m = path.with_suffix(".yaml")
    m.write_text(
        "columns: {appointment_id: appointment_id, patient_id: patient_id, start_at: start_at, status: status}\n"
        f"dayfirst: {str(mapping_dayfirst).lower()}\n"
    )
    return path, m


def _stored_starts(tmp_path, f, *extra) -> list[str]:
    import duckdb

    db = tmp_path / f"{f.stem}.duckdb"
    r = run_main("history", "import", f, "--db", db, "--key-file", tmp_path / "key", *extra)
    assert r.code == 0, r.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT strftime(start_at, '%Y-%m-%d %H:%M') FROM appointments ORDER BY source_line"
        )
        return [x[0] for x in rows.fetchall()]
    finally:
        con.close()


def test_a_day_first_export_is_read_day_first_throughout(tmp_path):
    """31/01/2026 cannot be month-first, yet the 01/02/2026 below it was read as 2 January: the
    vectorized parse read month-first, and only cells it could not read went to a day-first guess."""
    f, _ = _dated_file(tmp_path / "uk.csv", ["31/01/2026 14:30", "01/02/2026 09:00", "13.02.2026 2:30 PM"])
    assert _stored_starts(tmp_path, f) == ["2026-01-31 14:30", "2026-02-01 09:00", "2026-02-13 14:30"]


def test_month_first_dates_with_12_hour_times_and_year_first_dates_keep_their_order(tmp_path):
    f, _ = _dated_file(
        tmp_path / "us.csv",
        ["01/31/2026 2:30 PM", "02/01/2026 12:15 AM", "2026/02/03 9:05 AM", "2026-02-04 1:00 PM"],
    )
    assert _stored_starts(tmp_path, f) == [
        "2026-01-31 14:30",
        "2026-02-01 00:15",
        "2026-02-03 09:05",
        "2026-02-04 13:00",
    ]


def test_day_first_and_month_first_in_one_file_is_refused_not_swapped(tmp_path):
    """With a mapping's dayfirst: true, 01/13/2026 was silently read as 13 January."""
    starts = ["31/01/2026 08:00", "01/13/2026 08:00", "02/02/2026 08:00"]
    f, _ = _dated_file(tmp_path / "mixed.csv", starts)
    line = _refusal(tmp_path, f)
    assert "'31/01/2026 08:00'" in line and "'01/13/2026 08:00'" in line and "dayfirst" in line
    assert line.startswith(f"error: {f}:2: ")
    f, m = _dated_file(tmp_path / "mixed2.csv", starts, mapping_dayfirst=True)
    line = one_line(run_main("history", "import", f, "--mapping", m, "--db", tmp_path / "m.duckdb"))
    assert f"{f}:3: start_at: expected a day/month/year date, got '01/13/2026 08:00'" in line


def test_dates_that_could_be_either_order_are_refused_until_the_mapping_says(tmp_path):
    starts = ["03/04/2026 08:00", "05/04/2026 08:00", "12/11/2026 08:00"]
    f, m = _dated_file(tmp_path / "ambiguous.csv", starts)
    line = _refusal(tmp_path, f)
    assert "could be day/month or month/day" in line and "dayfirst" in line
    f, m = _dated_file(tmp_path / "ambiguous.csv", starts, mapping_dayfirst=True)
    assert _stored_starts(tmp_path, f, "--mapping", m)[0] == "2026-04-03 08:00"


def test_non_iso_dates_are_parsed_in_bulk(tmp_path):
    """Every month/day/year cell went through dateutil one by one: 0.55 ms a cell, so an export of
    1,000,000 appointments with 7 date columns took over an hour to check."""
    import time

    from clinicflow.data.normalize import parse_datetimes

    s = pd.Series(
        pd.date_range("2025-01-01 08:00", periods=50_000, freq="37min").strftime("%m/%d/%Y %I:%M %p")
    )
    t0 = time.perf_counter()
    values, bad = parse_datetimes(s, len(s), None, False)
    assert time.perf_counter() - t0 < 5  # 27 s before
    assert not bad.any() and values.iloc[-1] == pd.Timestamp(s.iloc[-1])


def _visits_store(tmp_path, minutes: list[float]):
    """A store of attended follow-ups whose provider face time is ``minutes``, one a visit."""
    import duckdb

    from clinicflow.data.store import import_history

    start = pd.Timestamp("2026-01-05 08:00") + pd.to_timedelta(range(len(minutes)), unit="h")
    end = start + pd.to_timedelta(minutes, unit="min")
    f = tmp_path / "visits.csv"
    pd.DataFrame(
        {
            "appointment_id": [f"A{i}" for i in range(len(minutes))],
            "patient_id": [f"P{i}" for i in range(len(minutes))],
            "provider": "dr_okafor",
            "appointment_type": "follow_up",
            "start_at": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "status": "attended",
            "provider_start_at": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "provider_end_at": end.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    ).to_csv(f, index=False)
    import_history(f, tmp_path / "v.duckdb", key_file=tmp_path / "key")
    return duckdb.connect(str(tmp_path / "v.duckdb"), read_only=True)


def test_clock_errors_do_not_poison_the_duration_fits(tmp_path):
    """Three visits closed a second after they opened and three left open for 7 hours, among 400
    (1.5%), took the follow-up's fitted sd from 6 to 13-15 minutes, and calibrate wrote that."""
    import numpy as np

    from clinicflow.data.durations import fit_durations

    rng = np.random.default_rng(7)
    sigma = np.sqrt(np.log(1 + 0.3**2))
    clean = np.round(rng.lognormal(np.log(20) - sigma**2 / 2, sigma, 400), 2)
    con = _visits_store(tmp_path, [*clean, 1 / 60, 1 / 60, 2 / 60, 420, 430, 450])
    try:
        fit = next(f for f in fit_durations(con) if f.provider is None)
    finally:
        con.close()
    assert fit.n == 400 and fit.excluded == 6
    assert fit.best.mean == pytest.approx(20, rel=0.05)
    assert fit.best.sd == pytest.approx(6, rel=0.15)
    assert fit.as_dict()["excluded"] == 6
    r = run_main("calibrate", FAMILY, "--db", tmp_path / "v.duckdb", "--out", tmp_path / "cal.yaml")
    assert r.code == 0, r.stderr
    assert "appointment_types[follow_up].duration: lognormal" in r.stdout
    assert "(n=400, 6 left out as clock errors)" in r.stdout


def test_utc_timestamps_are_read_in_the_clinics_zone_not_as_wall_clock(tmp_path):
    """'2026-01-12T14:00:00Z' is 09:00 in New York; the offset was dropped and the visit stored at
    14:00 (and a 20:00 visit, 01:00Z, on the next day), moving every hour, weekday and date."""
    starts = ["2026-01-12T14:00:00Z", "2026-07-13T13:00:00Z", "2026-01-13T01:00:00Z", "2026-03-08T07:30:00Z"]
    f, _ = _dated_file(tmp_path / "utc.csv", starts)
    line = _refusal(tmp_path, f)
    assert line.startswith(f"error: {f}:2: start_at: ") and "--timezone" in line
    assert _stored_starts(tmp_path, f, "--timezone", "America/New_York") == [
        "2026-01-12 09:00",
        "2026-07-13 09:00",
        "2026-01-12 20:00",
        "2026-03-08 03:30",  # the morning the clocks go forward
    ]
    # local offsets already say the clinic's wall-clock time, with or without a zone
    f, _ = _dated_file(tmp_path / "local.csv", ["2026-01-12T09:00:00-05:00", "2026-07-13T09:00:00-04:00"])
    assert _stored_starts(tmp_path, f) == ["2026-01-12 09:00", "2026-07-13 09:00"]


def test_real_short_and_long_visits_are_not_clock_errors():
    """The rule's ratio (10× the median) keeps the tails of real visit times: a gamma's log has a
    long left tail, and at 3× the synthetic wellness visits (25 ± 8 min) lost real 5-minute visits.
    200,000 draws of each of the scenario's shapes keep every visit; a click and a visit left open
    among them are still caught."""
    from clinicflow.data.durations import typical_visits

    rng = np.random.default_rng(7)
    k = (25 / 8) ** 2
    for x in (
        rng.gamma(k, 25 / k, 200_000),
        rng.lognormal(np.log(16) - 0.5 * np.log(1 + 0.4**2), np.sqrt(np.log(1 + 0.4**2)), 200_000),
    ):
        assert typical_visits(x).all()
        errors = np.concatenate([x, [1 / 60, 7 * 60]])
        assert (~typical_visits(errors)).sum() == 2
