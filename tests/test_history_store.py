"""The history store: atomic, idempotent loads; quarantine; no raw identifier anywhere."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pandas as pd
import pytest

from clinicflow.data import store as store_mod
from clinicflow.data.normalize import TIMESTAMP_FIELDS
from clinicflow.data.store import BadRowsError, import_history
from clinicflow.errors import InputError
from conftest import ROOT, run_main
from history_helpers import _key_in_tmp, all_text, generic_file, kaggle_file, snapshot  # noqa: F401


@pytest.fixture()
def key(tmp_path):
    return tmp_path / "key"


def _count(db, table="appointments"):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def test_noshow_kaggle_import_counts_and_outcomes(tmp_path, key):
    f, frame = kaggle_file(tmp_path / "ks.csv")
    db = tmp_path / "h.duckdb"
    r = import_history(f, db, key_file=key)
    assert r.format == "noshow-kaggle"
    assert (r.rows_read, r.rows_added, r.rows_quarantined) == (len(frame), len(frame), 0)
    con = duckdb.connect(str(db), read_only=True)
    got = dict(con.execute("SELECT status, count(*) FROM appointments GROUP BY 1").fetchall())
    # the public layout's dates carry no time of day: the hour is unknown, not midnight
    assert con.execute("SELECT count(*) FROM appointments WHERE start_at IS NOT NULL").fetchall()[0][0] == 0
    con.close()
    assert got == {
        "no_show": int((frame["No-show"] == "Yes").sum()),
        "attended": int((frame["No-show"] == "No").sum()),
    }


def test_reimport_adds_nothing_and_superset_adds_only_new_rows(tmp_path, key, monkeypatch):
    f, frame = generic_file(tmp_path / "g.csv", rows=2000)
    db = tmp_path / "h.duckdb"
    first = import_history(f, db, key_file=key)
    assert first.rows_added == 2000
    before = snapshot(db)
    import clinicflow.data.store as store_mod

    def unread(*_a, **_k):
        raise AssertionError("a file already imported is recognized by its bytes, not read again")

    with monkeypatch.context() as m:
        m.setattr(store_mod, "read_history", unread)
        again = import_history(f, db, key_file=key)
    assert again.already_imported and again.rows_added == 0
    assert (again.import_id, again.format, again.rows_read) == (1, "csv", 2000)
    assert snapshot(db) == before
    # a later export: same rows re-ordered (a different file digest) plus 100 new ones and one changed status
    later = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    extra, _ = generic_file(tmp_path / "extra.csv", rows=100, seed=99)
    extra_frame = pd.read_csv(extra, dtype=str, keep_default_na=False)
    extra_frame["appointment_id"] = "X" + extra_frame["appointment_id"]
    i = later.index[later["status"] == "no_show"][0]
    later.loc[i, "status"] = "attended"
    for c in ("checkin_at", "roomed_at", "provider_start_at", "provider_end_at", "checkout_at"):
        later.loc[i, c] = ""
    export = pd.concat([later, extra_frame], ignore_index=True)
    export.to_csv(tmp_path / "later.csv", index=False)
    r = import_history(tmp_path / "later.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_unchanged) == (100, 1, 1999)
    assert _count(db) == 2100
    r2 = import_history(tmp_path / "later.csv", db, key_file=key)
    assert r2.rows_added == 0 and _count(db) == 2100


def _stored(db, column: str, key: str = "source_line") -> dict:
    """``key`` → ``column`` of every stored appointment."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute(f"SELECT {key}, {column} FROM appointments").fetchall())
    finally:
        con.close()


def test_an_older_export_imported_later_does_not_roll_a_fuller_record_back(tmp_path, key):
    """Exports loaded out of order: the store keeps, per appointment, the record that got further
    (more of the visit's times); with as many times or more, the last import wins."""
    f, frame = generic_file(tmp_path / "now.csv", rows=400)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=key)
    attended = frame.index[(frame["status"] == "attended") & (frame["checkout_at"] != "")]
    a, b, c = (int(i) for i in attended[:3])
    # taken earlier: a was mid-visit (no provider end, no check-out yet), b still marked a no-show
    # with none of its times, c's check-out typed an hour late and since corrected
    older = frame.copy()
    older.loc[a, ["provider_end_at", "checkout_at"]] = ""
    older.loc[b, list(TIMESTAMP_FIELDS)] = ""
    older.loc[b, "status"] = "no_show"
    fixed = pd.to_datetime(frame.loc[c, "checkout_at"])
    older.loc[c, "checkout_at"] = (fixed + pd.Timedelta(hours=1)).isoformat()
    older.to_csv(tmp_path / "older.csv", index=False)
    stored_checkout = _stored(db, "checkout_at")
    r = import_history(tmp_path / "older.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (0, 1, 2, 397)
    line = {i: i + 2 for i in (a, b, c)}  # CSV line of a frame row
    status, checkout = _stored(db, "status"), _stored(db, "checkout_at")
    assert status[line[a]] == "attended" and checkout[line[a]] is not None
    assert status[line[b]] == "attended"  # not rolled back to a no-show
    # as many times (a correction, or an error): the last import wins, as documented
    assert checkout[line[c]] - stored_checkout[line[c]] == dt.timedelta(hours=1)
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("SELECT rows_kept_fuller FROM imports ORDER BY import_id").fetchall()
    con.close()
    assert kept == [(0,), (2,)]
    # the fuller export again, with one new appointment: a and b are as stored, c takes the
    # corrected time back
    again = frame.copy()
    again.loc[len(again)] = frame.loc[a]
    again.loc[len(again) - 1, "appointment_id"] = "X" + str(frame.loc[a, "appointment_id"])
    again.to_csv(tmp_path / "again.csv", index=False)
    r = import_history(tmp_path / "again.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (1, 1, 0, 399)
    assert _stored(db, "checkout_at")[line[c]] == stored_checkout[line[c]]
    # a store made before the count existed gets the column; the command line says what it kept
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE imports DROP COLUMN rows_kept_fuller")
    con.close()
    older.loc[len(older)] = again.loc[len(again) - 1]
    older.to_csv(tmp_path / "older2.csv", index=False)
    out = run_main("history", "import", tmp_path / "older2.csv", "--db", db, "--key-file", key)
    assert out.code == 0, out.stderr
    assert "0 added, 1 updated, 398 unchanged" in out.stdout
    assert "2 rows kept as stored: they change a stored appointment but record fewer of its visit" in (
        " ".join(out.stdout.split())
    )
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT rows_kept_fuller FROM imports ORDER BY import_id").fetchall() == [
        (None,),
        (None,),
        (None,),
        (2,),
    ]
    con.close()


def test_a_later_export_without_a_column_keeps_its_stored_values(tmp_path, key):
    """A later export without ``age`` (found by fuzzing): the rows it changes keep their stored ages
    (and age bands) instead of being emptied; what it does say — statuses, a blank sex cell — wins."""
    f, frame = generic_file(tmp_path / "full.csv", rows=400)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=key)
    ages, bands, sexes = (_stored(db, c, key="appointment_ref") for c in ("age", "age_band", "sex"))
    assert sum(a is None for a in ages.values()) == 0 and len(ages) == 400
    later = frame.copy()
    no_shows = later.index[later["status"] == "no_show"][:20]  # a patient who came after all
    cancels = later.index[later["status"] == "cancelled"][:10]  # cancelled too late after all
    later.loc[no_shows, "status"] = "attended"
    later.loc[cancels, "status"] = "late_cancel"
    blank = int(later.index[later["status"] == "attended"][-1])
    later.loc[blank, "sex"] = ""  # the file has the column: an empty cell is a real blank
    thin = later.drop(columns=["age"])
    thin.to_csv(tmp_path / "thin.csv", index=False)
    r = import_history(tmp_path / "thin.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (0, 31, 0, 369)
    assert (r.rows_merged, r.fields_kept) == (31, ["age", "age_band"])
    assert _stored(db, "age", key="appointment_ref") == ages  # not one emptied
    assert _stored(db, "age_band", key="appointment_ref") == bands
    status, sex, line = _stored(db, "status"), _stored(db, "sex"), {i: i + 2 for i in later.index}
    assert [status[line[i]] for i in no_shows] == ["attended"] * 20
    assert [status[line[i]] for i in cancels] == ["late_cancel"] * 10
    assert sex[line[blank]] is None
    assert sum(s != _stored(db, "sex", key="appointment_ref")[ref] for ref, s in sexes.items()) == 1
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT rows_merged FROM imports ORDER BY import_id").fetchall() == [(0,), (31,)]
    con.close()
    # the same thin export again (re-ordered, so not recognized by its bytes): the merged rows'
    # hashes are the rows' own, so nothing reads as changed
    before = snapshot(db)["appointments"]
    thin.iloc[::-1].to_csv(tmp_path / "thin-again.csv", index=False)
    r = import_history(tmp_path / "thin-again.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (0, 0, 0, 400)
    assert (r.rows_merged, r.fields_kept) == (0, [])
    assert snapshot(db)["appointments"] == before
    # the full export of the same content (with age): unchanged too — the hash of a merged row is
    # the one the full row gets
    later.to_csv(tmp_path / "full-later.csv", index=False)
    r = import_history(tmp_path / "full-later.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (0, 0, 0, 400)
    # and an age the file has but leaves empty still empties
    later["age"] = later["age"].astype(object)
    later.loc[blank, "age"] = ""
    later.to_csv(tmp_path / "age-blank.csv", index=False)
    r = import_history(tmp_path / "age-blank.csv", db, key_file=key)
    assert (r.rows_updated, r.rows_unchanged, r.rows_merged) == (1, 399, 0)
    assert _stored(db, "age")[line[blank]] is None and _stored(db, "age_band")[line[blank]] is None
    assert sum(a is None for a in _stored(db, "age", key="appointment_ref").values()) == 1


def test_visit_times_are_counted_over_the_time_columns_the_file_has(tmp_path, key):
    """A layout without a time column keeps its stored values and may still correct a row; fewer of
    the times it does have is still kept out; a stored time of the visit's day is not kept when the
    appointment moved to another day; a file with none of the time columns records none."""
    f, frame = generic_file(tmp_path / "full.csv", rows=400)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=key)
    roomed = _stored(db, "roomed_at")
    full = frame.index[(frame["status"] == "attended") & (frame["checkout_at"] != "")]
    x, y, z = (int(i) for i in full[:3])
    line = {i: i + 2 for i in (x, y, z)}
    later = frame.copy()
    # x: check-out corrected (as many times of the file's four); y: check-out emptied (fewer);
    # z: moved to the next day
    later.loc[x, "checkout_at"] = (
        pd.to_datetime(frame.loc[x, "checkout_at"]) + pd.Timedelta(minutes=5)
    ).isoformat()
    later.loc[y, "checkout_at"] = ""
    moved = ["start_at", "checkin_at", "provider_start_at", "provider_end_at", "checkout_at"]
    for c in moved:
        later.loc[z, c] = (pd.to_datetime(frame.loc[z, c]) + pd.Timedelta(days=1)).isoformat()
    later.drop(columns=["roomed_at"]).to_csv(tmp_path / "no-rooming.csv", index=False)
    r = import_history(tmp_path / "no-rooming.csv", db, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (0, 2, 1, 397)
    assert (r.rows_merged, r.fields_kept) == (1, ["roomed_at"])  # z's rooming was of another day
    now, checkout = _stored(db, "roomed_at"), _stored(db, "checkout_at")
    assert now[line[x]] == roomed[line[x]] is not None and now[line[y]] == roomed[line[y]]
    assert checkout[line[y]] is not None  # kept: the stored record is fuller
    assert now[line[z]] is None and _stored(db, "appt_date")[line[z]] == pd.Timestamp(
        frame.loc[z, "start_at"]
    ).date() + dt.timedelta(days=1)

    # a layout with no visit-time column at all (a scheduling export): it cannot show how far a visit
    # got, so a visit with stored times keeps its record; a stored no-show without times is corrected
    db2 = tmp_path / "h2.duckdb"
    import_history(f, db2, key_file=key)
    came = int(frame.index[frame["status"] == "no_show"][0])
    thin = frame.drop(columns=list(TIMESTAMP_FIELDS))
    thin.loc[x, "status"] = "no_show"
    thin.loc[came, "status"] = "attended"
    thin.to_csv(tmp_path / "no-times.csv", index=False)
    r = import_history(tmp_path / "no-times.csv", db2, key_file=key)
    assert (r.rows_added, r.rows_updated, r.rows_kept_fuller, r.rows_unchanged) == (0, 1, 1, 398)
    status = _stored(db2, "status")
    assert status[line[x]] == "attended" and status[came + 2] == "attended"
    assert _stored(db2, "checkout_at")[line[x]] is not None


def _with_bad_rows(tmp_path):
    f, frame = kaggle_file(tmp_path / "bad.csv", rows=400)
    frame = frame.astype(str)
    frame.loc[4, "Age"] = "-1"  # line 6
    frame.loc[9, "ScheduledDay"] = "2030-01-01T09:00:00Z"  # line 11: booked after the visit
    frame.loc[20, "No-show"] = "Maybe"  # line 22
    frame.loc[30, "AppointmentDay"] = "not a date"  # line 32
    frame.to_csv(f, index=False)
    return f, frame


def test_bad_file_is_rejected_whole_with_line_numbers_and_store_unchanged(tmp_path, key):
    good, _ = generic_file(tmp_path / "g.csv", rows=300)
    db = tmp_path / "h.duckdb"
    import_history(good, db, key_file=key)
    before = snapshot(db)
    bad, _ = _with_bad_rows(tmp_path)
    with pytest.raises(BadRowsError) as exc:
        import_history(bad, db, key_file=key)
    err = exc.value
    assert err.line == 6
    assert list(err.bad["line"]) == [6, 11, 22, 32]
    reasons = list(err.bad["reason"])
    assert reasons[0] == "negative age -1"
    assert reasons[1] == "appointment dated before it was booked"
    assert reasons[2].startswith("No-show: expected Yes or No, got 'Maybe'")
    assert reasons[3].startswith("start_at: not a date/time")
    assert "\n" not in str(err) and "and 3 more bad rows, at line 11, 22, 32" in str(err)
    assert snapshot(db) == before


def test_bad_file_does_not_even_create_the_store(tmp_path, key):
    bad, _ = _with_bad_rows(tmp_path)
    db = tmp_path / "new.duckdb"
    with pytest.raises(BadRowsError):
        import_history(bad, db, key_file=key)
    assert not db.exists()


def test_skip_bad_rows_loads_the_rest_and_quarantines_reasons(tmp_path, key):
    bad, frame = _with_bad_rows(tmp_path)
    db = tmp_path / "h.duckdb"
    r = import_history(bad, db, key_file=key, skip_bad_rows=True)
    assert (r.rows_added, r.rows_quarantined) == (len(frame) - 4, 4)
    con = duckdb.connect(str(db), read_only=True)
    q = con.execute("SELECT line, reason FROM quarantine ORDER BY line").fetchall()
    con.close()
    assert [line for line, _ in q] == [6, 11, 22, 32]
    assert q[0][1] == "negative age -1"
    again = import_history(bad, db, key_file=key, skip_bad_rows=True)
    assert again.already_imported and _count(db, "quarantine") == 4


def test_unknown_and_future_statuses_are_reported(tmp_path, key):
    f, frame = generic_file(tmp_path / "g.csv", rows=200)
    frame.loc[0, "status"] = "Rescheduled"
    frame.loc[1, "status"] = "booked"
    frame.to_csv(f, index=False)
    with pytest.raises(BadRowsError) as exc:
        import_history(f, tmp_path / "h.duckdb", key_file=key)
    reasons = list(exc.value.bad["reason"])
    assert reasons == [
        "unknown status 'Rescheduled' (map it under statuses: in a mapping file)",
        "status 'booked' is not an outcome (the appointment has not happened)",
    ]


def test_repeated_appointment_ids(tmp_path, key):
    f, frame = generic_file(tmp_path / "g.csv", rows=200)
    dup_same = frame.iloc[[5]]
    dup_diff = frame.iloc[[7]].copy()
    dup_diff["age"] = "99"
    pd.concat([frame, dup_same], ignore_index=True).to_csv(f, index=False)
    r = import_history(f, tmp_path / "a.duckdb", key_file=key)
    assert (r.rows_added, r.duplicates_in_file) == (200, 1)
    pd.concat([frame, dup_diff], ignore_index=True).to_csv(f, index=False)
    with pytest.raises(BadRowsError) as exc:
        import_history(f, tmp_path / "b.duckdb", key_file=key)
    assert list(exc.value.bad["line"]) == [9, 202]
    assert list(exc.value.bad["reason"]) == [
        "appointment id repeated with different data (also at line 202)",
        "appointment id repeated with different data (also at line 9)",
    ]


def test_no_raw_identifier_anywhere_in_the_store(tmp_path, key):
    kf, kframe = kaggle_file(tmp_path / "k.csv", rows=1500)
    gf, gframe = generic_file(tmp_path / "g.csv", rows=1500)
    bad, bframe = _with_bad_rows(tmp_path)
    db = tmp_path / "h.duckdb"
    import_history(kf, db, key_file=key)
    import_history(gf, db, key_file=key)
    import_history(bad, db, key_file=key, skip_bad_rows=True)
    raw_ids = (
        set(kframe["PatientId"].astype(str))
        | set(gframe["patient_id"].astype(str))
        | set(bframe["PatientId"].astype(str))
        | set(kframe["AppointmentID"].astype(str))
        | set(gframe["appointment_id"].astype(str))
    )
    assert all(len(i) >= 7 for i in raw_ids)
    assert _count(db) == len(kframe) + len(gframe) + len(bframe) - 4
    values = all_text(db)
    assert len(values) > 15 * _count(db)  # every non-null cell of every table
    assert not raw_ids & set(values)  # no cell is an identifier
    # and none is quoted inside a longer text (14-digit patient ids: a 7-digit appointment id can
    # turn up inside a random hex pseudonym by chance, a 14-digit one practically never)
    runs = {m for v in values for m in re.findall(r"\d{10,}", v)}
    long_ids = {i for i in raw_ids if len(i) >= 10}
    assert len(long_ids) > 1000
    assert not long_ids & {r[k : k + 14] for r in runs for k in range(len(r) - 13)}
    # the key is not in the store either, only its fingerprint
    assert key.read_text().strip() not in " ".join(values)


def test_different_key_is_refused(tmp_path, key):
    f, _ = generic_file(tmp_path / "g.csv", rows=100)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=key)
    f2, _ = generic_file(tmp_path / "g2.csv", rows=100, seed=7)
    with pytest.raises(InputError, match="different pseudonymization key"):
        import_history(f2, db, key_file=tmp_path / "other-key")


def test_exception_inside_the_transaction_rolls_everything_back(tmp_path, key, monkeypatch):
    f, _ = generic_file(tmp_path / "g.csv", rows=300)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=key)
    before = snapshot(db)
    f2, _ = generic_file(tmp_path / "g2.csv", rows=500, seed=11)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_mod, "_record_import", boom)  # after appointments and quarantine are written
    with pytest.raises(RuntimeError, match="disk full"):
        import_history(f2, db, key_file=key)
    assert snapshot(db) == before


CHILD = """
import sys, time, pathlib
from clinicflow.data import store
real = store._write_quarantine
def pause(*a, **k):
    real(*a, **k)
    pathlib.Path(sys.argv[3]).write_text("rows written")
    time.sleep(120)
store._write_quarantine = pause
store.import_history(sys.argv[1], sys.argv[2], key_file=sys.argv[4])
"""


def test_import_killed_half_way_leaves_the_store_as_it_was(tmp_path, key):
    f, _ = generic_file(tmp_path / "g.csv", rows=500)
    db = tmp_path / "h.duckdb"
    import_history(f, db, key_file=key)
    before = snapshot(db)
    big, _ = generic_file(tmp_path / "big.csv", rows=20000, seed=12)
    marker = tmp_path / "marker"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, str(script), str(big), str(db), str(marker), str(key)], env=env)
    try:
        deadline = time.time() + 90
        while not marker.exists():
            assert proc.poll() is None, "the import finished or failed before the kill"
            assert time.time() < deadline
            time.sleep(0.05)
        # 20,000 rows are inside the open transaction now
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(db) == before
    r = import_history(big, db, key_file=key)  # and the file still loads afterwards
    assert not r.already_imported and r.rows_read == 20000
    assert _count(db) == 500 + r.rows_added


def test_failed_first_import_leaves_no_empty_store(tmp_path, key, monkeypatch):
    f, _ = generic_file(tmp_path / "g.csv", rows=100)
    db = tmp_path / "new.duckdb"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_mod, "_write_quarantine", boom)
    with pytest.raises(RuntimeError):
        import_history(f, db, key_file=key)
    assert not db.exists() and not (tmp_path / "new.duckdb.wal").exists()
