"""``clinicflow history draft``: a first scenario from a history whose sessions, lengths, demand,
same-day share and no-show rates are known, because the test builds it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from conftest import run_main

MONDAY = dt.date(2026, 1, 5)
WEEKS = 12


def _booking(rng, index: int, provider, day, start_min, length, type_id, same_day_p) -> dict:
    """One row of the generic layout: 5% cancelled in advance, 12% no-shows, the rest attended with
    check-in and provider times; booked ``same_day_p`` of the time on the day, else days ahead."""
    u = rng.random()
    status = "cancelled" if u < 0.05 else "no_show" if u < 0.17 else "attended"
    start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=start_min)
    same = rng.random() < same_day_p
    booked_at = start - (dt.timedelta(hours=2) if same else dt.timedelta(days=int(rng.integers(2, 30))))
    row = {
        "appointment_id": f"A{index:06d}",
        "patient_id": f"{rng.integers(10**8, 10**9)}",
        "provider": provider,
        "appointment_type": type_id,
        "scheduled_at": booked_at.isoformat(),
        "start_at": start.isoformat(),
        "end_at": (start + dt.timedelta(minutes=length)).isoformat(),
        "status": status,
        "checkin_at": "",
        "provider_start_at": "",
        "provider_end_at": "",
    }
    if status == "attended":
        arrive = start + dt.timedelta(minutes=float(rng.normal(-6, 8)))
        begin = start + dt.timedelta(minutes=float(rng.uniform(0, 6)))
        seen = float(rng.lognormal(np.log(0.8 * length), 0.3))
        row |= {
            "checkin_at": arrive.isoformat(timespec="seconds"),
            "provider_start_at": begin.isoformat(timespec="seconds"),
            "provider_end_at": (begin + dt.timedelta(minutes=seen)).isoformat(timespec="seconds"),
        }
    return row


def _history(seed: int = 4) -> pd.DataFrame:
    """dr_a: Monday and Wednesday 08:00-12:00 and 13:00-17:00, a 40-minute new patient first, then
    20-minute follow-ups, booked days ahead; np_b: Tuesday and Thursday 09:00-13:00, 15-minute sick
    visits, half booked on the day; dr_a also on two Fridays of the twelve (not a working day)."""
    rng = np.random.default_rng(seed)
    rows = []

    def book(provider, day, start_min, length, type_id, same_day_p):
        rows.append(_booking(rng, len(rows), provider, day, start_min, length, type_id, same_day_p))

    for w in range(WEEKS):
        week = MONDAY + dt.timedelta(weeks=w)
        for offset in (0, 2):  # Monday, Wednesday
            day = week + dt.timedelta(days=offset)
            for s0 in (8 * 60, 13 * 60):
                book("dr_a", day, s0, 40, "new_patient", 0.0)
                for k in range(10):
                    if rng.random() < 0.9:
                        book("dr_a", day, s0 + 40 + 20 * k, 20, "follow_up", 0.0)
        for offset in (1, 3):  # Tuesday, Thursday
            day = week + dt.timedelta(days=offset)
            for k in range(16):
                if rng.random() < 0.85:
                    book("np_b", day, 9 * 60 + 15 * k, 15, "sick_visit", 0.5)
        if w in (3, 7):
            for k in range(6):
                book("dr_a", week + dt.timedelta(days=4), 8 * 60 + 20 * k, 20, "follow_up", 0.0)
    return pd.DataFrame(rows)


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINICFLOW_KEY_FILE", str(tmp_path / "key"))
    hist = _history()
    path = tmp_path / "history.csv"
    hist.to_csv(path, index=False)
    db = tmp_path / "h.duckdb"
    r = run_main("history", "import", path, "--db", db)
    assert r.code == 0, r.stderr
    return hist, db


def test_draft_recovers_sessions_lengths_demand_holds_and_rates(store, tmp_path):
    hist, db = store
    out = tmp_path / "draft.yaml"
    r = run_main(
        "history", "draft", "--db", db, "--out", out, "--timezone", "America/Chicago", "--name", "Test"
    )
    assert r.code == 0, r.stderr
    from clinicflow import load_scenario

    sc = load_scenario(out)  # it validates
    p = {x.id: x for x in sc.providers}
    sessions = {
        pid: {wd: [(s.start, s.end) for s in v] for wd, v in prov.sessions.items()} for pid, prov in p.items()
    }
    am, pm = (8 * 60, 12 * 60), (13 * 60, 17 * 60)
    assert sessions["dr_a"] == {"mon": [am, pm], "wed": [am, pm]}  # the lunch hour splits; no Friday
    assert sessions["np_b"] == {"tue": [(9 * 60, 13 * 60)], "thu": [(9 * 60, 13 * 60)]}
    assert p["dr_a"].appointment_types == ["follow_up", "new_patient"]
    assert p["np_b"].appointment_types == ["sick_visit"]
    types = {t.id: t for t in sc.appointment_types}
    assert {k: t.scheduled_min for k, t in types.items()} == {
        "follow_up": 20,
        "new_patient": 40,
        "sick_visit": 15,
    }
    # a new patient first in every session, never later: its window is that first slot
    assert [(w.start, w.end) for w in types["new_patient"].allowed_windows] == [(480, 525), (780, 825)]
    assert types["sick_visit"].allowed_windows == []

    # weekly demand: booked visits (advance cancellations out) over the history's weeks, exactly
    kept = hist[hist["status"] != "cancelled"]
    span_days = (dt.date.fromisoformat(kept["start_at"].max()[:10]) - MONDAY).days + 1
    demand = {d.type: d.weekly for d in sc.demand}
    for tid in types:
        assert demand[tid] == pytest.approx(
            round((kept["appointment_type"] == tid).sum() / (span_days / 7), 1)
        )

    # holds: np_b's same-day bookings per day (about half of 16 × 0.85 × 0.95); dr_a books ahead
    np_days = kept[kept["provider"] == "np_b"].assign(
        same=lambda f: f["scheduled_at"].str[:10] == f["start_at"].str[:10],
        day=lambda f: f["start_at"].str[:10],
    )
    per_day = np_days.groupby("day")["same"].sum()
    for wd in ("tue", "thu"):
        days = per_day[
            [dt.date.fromisoformat(d).weekday() == (1 if wd == "tue" else 3) for d in per_day.index]
        ]
        assert p["np_b"].sessions[wd][0].holds == round(days.mean()) > 4
    assert all(s.holds == 0 for v in p["dr_a"].sessions.values() for s in v)

    # the calibration on top: no-show rates from the booked counts, pooled across the types
    # (pooling.py; exact), durations fitted
    from clinicflow.data.pooling import pool_rates

    counts = kept.groupby("appointment_type")["status"].agg(n="size", ns=lambda s: (s == "no_show").sum())
    pooled = dict(zip(counts.index, pool_rates(counts["ns"], counts["n"]).rates, strict=True))
    for tid in types:
        assert types[tid].no_show == pytest.approx(round(pooled[tid], 4))
    assert types["follow_up"].duration.mean == pytest.approx(0.8 * 20 * np.exp(0.3**2 / 2), rel=0.06)
    assert sc.arrivals.punctuality.mean == pytest.approx(-6, abs=1)

    text = out.read_text()
    assert text.startswith("# Test: drafted by `clinicflow history draft`")
    assert "rooms.count: 2 (not given)" in text  # 2 per provider at the busiest time: one at a time here
    assert "rooms.count: 2 (not given)" in r.stdout and "next: clinicflow validate" in r.stdout


def test_draft_takes_staffing_from_the_options_and_simulates(store, tmp_path):
    _, db = store
    out = tmp_path / "d.yaml"
    r = run_main(
        "history", "draft", "--db", db, "--out", out, "--timezone", "Europe/London",
        "--rooms", "5", "--front-desk", "2", "--mas", "3", "--provider-cost", "90", "--json",
    )  # fmt: skip
    assert r.code == 0, r.stderr
    from clinicflow import load_scenario
    from clinicflow.sim import simulate

    sc = load_scenario(out)
    assert (sc.rooms.count, sc.staff.front_desk.count, sc.staff.medical_assistants.count) == (5, 2, 3)
    assert sc.clinic.timezone == "Europe/London" and {p.hourly_cost for p in sc.providers} == {90}
    import json

    data = json.loads(r.stdout)
    assert not any(a.startswith("rooms.count") for a in data["assumed"])
    res = simulate(sc, replications=3, seed=1)
    assert res.per_replication["patients_seen"].mean() > 0


def test_draft_bad_input_is_one_line(store, tmp_path, monkeypatch):
    hist, db = store
    out = tmp_path / "x.yaml"
    r = run_main("history", "draft", "--db", db, "--out", out, "--timezone", "Mars/Olympus")
    assert r.code == 2 and r.stderr.strip() == (
        "error: --timezone: expected an IANA timezone such as 'America/Chicago', got 'Mars/Olympus'"
    )
    assert not out.exists()

    # a provider name that is not an id: pointed at the mapping file's recode section
    named = hist.replace({"provider": {"np_b": "Nurse B."}})
    path = tmp_path / "named.csv"
    named.to_csv(path, index=False)
    db2 = tmp_path / "named.duckdb"
    assert run_main("history", "import", path, "--db", db2).code == 0
    r = run_main("history", "draft", "--db", db2, "--out", out, "--timezone", "America/Chicago")
    assert r.code == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().endswith(
        "provider: the provider 'Nurse B.' is not a scenario id (a letter, then letters, digits, _ . -): "
        "give it one with the mapping file's recode section and import again"
    )
    assert not out.exists()

    empty = tmp_path / "empty.duckdb"
    one = hist.iloc[:1].assign(provider="")
    one.to_csv(tmp_path / "one.csv", index=False)
    assert run_main("history", "import", tmp_path / "one.csv", "--db", empty).code == 0
    r = run_main("history", "draft", "--db", empty, "--out", out, "--timezone", "America/Chicago")
    assert r.code == 2 and "nothing to draft a scenario from" in r.stderr and not out.exists()


def test_sessions_of_one_weekday_split_at_the_gap_and_end_by_23_45():
    """``_sessions`` by hand: twelve days of a morning clinic and an evening one to midnight. A
    visit at 13:00 on one day of twelve (8%, under 10%) leaves the gap open; on three days (25%) it
    is a 20-minute stretch of its own between two gaps, too short to be a session, and dropped.
    Midnight is not a clock time: the evening ends at 23:45."""
    from clinicflow.data.starter import _sessions

    rows = []
    for d in range(12):
        rows += [(d, 8 * 60 + 20 * k, 8 * 60 + 20 * (k + 1)) for k in range(12)]  # 08:00-12:00
        rows += [(d, 20 * 60 + 30 * k, 20 * 60 + 30 * (k + 1)) for k in range(8)]  # 20:00-24:00
    stray = [(0, 13 * 60, 13 * 60 + 20)]
    expected = [(8 * 60, 12 * 60, []), (20 * 60, 23 * 60 + 45, [])]
    for extra in (stray, [*stray, (1, 13 * 60, 13 * 60 + 20), (2, 13 * 60, 13 * 60 + 20)]):
        days = pd.DataFrame(rows + extra, columns=["day", "start", "end"])
        assert _sessions(days) == expected
    # a morning that runs on past the lunch hour on most days has no gap to split at
    late = [(d, 12 * 60 + 20 * k, 12 * 60 + 20 * (k + 1)) for d in range(12) for k in range(6)]
    days = pd.DataFrame(rows + late, columns=["day", "start", "end"])
    assert _sessions(days) == [(8 * 60, 14 * 60, []), (20 * 60, 23 * 60 + 45, [])]


def test_a_short_quiet_stretch_inside_a_session_is_a_break_and_a_free_slot_is_not():
    """Twelve mornings 08:00-12:00 of 15-minute slots. 10:00-10:15 never booked (or once: 8%, under
    ``GAP_SHARE``): a break. 09:00-09:15 free on nine days of twelve (booked on 25%): a slot, not a
    break. 11:00-11:10 never booked: 10 minutes, under ``BREAK_MIN``. Nothing at the session's edges."""
    from clinicflow.data.starter import BREAK_MIN, _sessions

    assert BREAK_MIN == 15
    rows = []
    for d in range(12):
        for k in range(16):
            a = 8 * 60 + 15 * k
            if a == 10 * 60 or (a == 9 * 60 and d >= 3):
                continue
            if a == 11 * 60:
                rows.append((d, a + 10, a + 15))
                continue
            rows.append((d, a, a + 15))
    once = [(0, 10 * 60, 10 * 60 + 15)]
    for extra in ([], once):
        days = pd.DataFrame(rows + extra, columns=["day", "start", "end"])
        assert _sessions(days) == [(8 * 60, 12 * 60, [(10 * 60, 10 * 60 + 15)])]


#: The practice's rule in ``_windowed_history``: consults only 09:00-11:00 and 14:00-15:30.
CONSULT_WINDOWS = [(9 * 60, 11 * 60), (14 * 60, 15 * 60 + 30)]


def _windowed_history(weeks: int, weekdays=(0, 1, 2, 3, 4), strays=(), seed: int = 7) -> pd.DataFrame:
    """dr_c (Monday, Wednesday, Friday) and dr_d (Tuesday, Thursday), 08:00-12:00 and 13:00-17:00,
    each session a template (``_lay_session``) with consults where the whole slot lies in
    ``CONSULT_WINDOWS``. ``strays``: (week, weekday, start minute) of consults booked outside the
    windows as manual overrides (``_add_strays``)."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for w in range(weeks):
        for offset in weekdays:
            day = MONDAY + dt.timedelta(weeks=w, days=offset)
            provider = "dr_c" if offset in (0, 2, 4) else "dr_d"
            for start, end in SESSIONS:
                _lay_session(rng, rows, provider, day, start, end, CONSULT_WINDOWS)
    _add_strays(rng, rows, strays)
    return pd.DataFrame(rows)


#: The sessions of ``_windowed_history`` and ``_weekday_history``.
SESSIONS = ((8 * 60, 12 * 60), (13 * 60, 17 * 60))


def _lay_session(rng, rows: list[dict], provider, day, start, end, windows, share: float = 0.35) -> None:
    """One session laid out from its start slot after slot, as a booking system's template: a
    30-minute consult drawn with probability ``share`` where the whole slot lies in ``windows``,
    else a 15-minute visit or a 20-minute check, whichever fits before the session's end."""
    t = start
    while t + 15 <= end:
        fits = any(a <= t and t + 30 <= b for a, b in windows) and t + 30 <= end
        if fits and rng.random() < share:
            type_id, length = "consult", 30
        elif t + 20 <= end and rng.random() < 0.5:
            type_id, length = "check", 20
        else:
            type_id, length = "visit", 15
        rows.append(_booking(rng, len(rows), provider, day, t, length, type_id, 0.2))
        t += length


def _add_strays(rng, rows: list[dict], strays) -> None:
    """Consults booked outside the practice's rule as manual overrides, on top of the template and
    kept on the books: (week, weekday, start minute), with dr_c on Monday, Wednesday and Friday and
    dr_d on Tuesday and Thursday."""
    for w, offset, start in strays:
        day = MONDAY + dt.timedelta(weeks=w, days=offset)
        provider = "dr_c" if offset in (0, 2, 4) else "dr_d"
        row = _booking(rng, len(rows), provider, day, start, 30, "consult", 0.0)
        rows.append(row | {"status": "no_show" if row["status"] == "cancelled" else row["status"]})


def _draft(tmp_path, hist: pd.DataFrame, monkeypatch):
    """Import ``hist`` and draft from it: the drafted scenario and the command's output."""
    monkeypatch.setenv("CLINICFLOW_KEY_FILE", str(tmp_path / "key"))
    hist.to_csv(tmp_path / "w.csv", index=False)
    assert run_main("history", "import", tmp_path / "w.csv", "--db", tmp_path / "w.duckdb").code == 0
    out = tmp_path / "w.yaml"
    r = run_main(
        "history", "draft", "--db", tmp_path / "w.duckdb", "--out", out, "--timezone", "America/Chicago"
    )
    assert r.code == 0, r.stderr
    from clinicflow import load_scenario

    return load_scenario(out), " ".join(r.stdout.split())  # the console wraps long lines


def _windows(sc) -> dict[str, list[tuple[int, int]]]:
    return {t.id: [(w.start, w.end) for w in t.allowed_windows] for t in sc.appointment_types}


def test_a_type_kept_to_windows_gets_them_back_exactly_and_the_others_none(tmp_path, monkeypatch):
    """24 weeks of templates: consults start from 09:00 to 10:30 and 14:00 to 15:00 and end by
    11:00 and 15:30, the union of their spans widened to the quarter hour is the rule exactly; the
    visits and checks that fill the rest of every session get no window. The draft validates and
    plans (each window holds a consult slot in every session)."""
    hist = _windowed_history(24)
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _windows(sc) == {"check": [], "consult": CONSULT_WINDOWS, "visit": []}
    n = ((hist["appointment_type"] == "consult") & (hist["status"] != "cancelled")).sum()
    assert f"consult: booked only 09:00-11:00 & 14:00-15:30 ({n:,} of {n:,} visits, 0.0% outside;" in text
    assert "no time-of-day window" not in text and "allowed_windows where" not in text
    s = _plan_starts(tmp_path, "consult")["start"]
    assert len(s) and all(any(a <= m and m + 30 <= b for a, b in CONSULT_WINDOWS) for m in s)


def test_a_few_consults_booked_outside_leave_the_windows_and_are_counted(tmp_path, monkeypatch):
    """Three consults booked outside the rule (11:00, 13:30, 15:40: an override each, where the
    providers book other visits, each within 30 minutes of a window so it would widen it) are under
    1% of the consults: the windows stand, exactly, and the line says how many lay outside."""
    from clinicflow.data.windows import MAX_OUTSIDE_SHARE

    hist = _windowed_history(24, strays=[(1, 0, 11 * 60), (3, 1, 13 * 60 + 30), (5, 2, 15 * 60 + 40)])
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _windows(sc)["consult"] == CONSULT_WINDOWS
    n = ((hist["appointment_type"] == "consult") & (hist["status"] != "cancelled")).sum()
    assert MAX_OUTSIDE_SHARE * n >= 3  # the allowance holds them
    assert (
        f"consult: booked only 09:00-11:00 & 14:00-15:30 ({n - 3:,} of {n:,} visits, {3 / n:.1%} outside;"
        in text
    )


def test_two_mondays_of_consults_are_too_few_for_a_window(tmp_path, monkeypatch):
    """Two Mondays: a handful of consults, all inside the rule, but with about half of dr_c's
    visits outside it they would all lie inside with a chance far above 1e-6 even if consults were
    booked anywhere: no window, and the line says why."""
    hist = _windowed_history(2, weekdays=(0,))
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _windows(sc) == {"check": [], "consult": [], "visit": []}
    n = ((hist["appointment_type"] == "consult") & (hist["status"] != "cancelled")).sum()
    assert 0 < n < 10
    assert "consult: no window drafted: booked 09:15-10:45 & 14:15-15:00 (" in text  # its visits' spans
    assert f"({n} of {n} visits, 0.0% outside), which could be chance:" in text
    assert "(a window needs under 1e-06)" in text


def _mondays(days: int, strays: int = 0) -> pd.DataFrame:
    """``days`` Mondays of provider a: a 30-minute consult at 08:00 and a 30-minute visit at 08:30,
    a consult at 08:30 instead on ``strays`` of them (visits in minutes, as ``fit_type`` reads them)."""
    rows = [("a", "c", "mon", 480, 510)] * days
    rows += [("a", "c" if d < strays else "v", "mon", 510, 540) for d in range(days)]
    return pd.DataFrame(rows, columns=["provider", "appointment_type", "weekday", "start", "end"])


def test_a_window_is_claimed_once_its_chance_falls_under_1e_6():
    """Half of a's visits from which a consult would fit its 08:00-12:00 session start where the
    08:00-08:30 window forbids it (the 08:30 visits): p = 1/2, and n consults all at 08:00 would
    come by chance with probability 0.5^n: 1.9e-6 for 19 (no window), 9.5e-7 for 20 (a window)."""
    from clinicflow.data.windows import EVIDENCE, fit_type

    segments = {("a", "mon"): [(480, 720)]}
    for days, claimed in ((19, False), (20, True)):
        fit = fit_type("c", _mondays(days), ["a"], segments, 30)
        assert fit.share_elsewhere == 0.5 and fit.log10_chance == pytest.approx(days * np.log10(0.5))
        assert (0.5**days < EVIDENCE) == claimed
        assert fit.windows == ([(480, 510)] if claimed else []) and fit.candidate == [(480, 510)]
        assert fit.line.startswith("c: booked only 08:00-08:30" if claimed else "c: no window drafted")


def test_strays_up_to_1_percent_are_outside_and_more_make_the_window_cover_them():
    """200 Mondays: 2 consults at 08:30 of 202 are strays (in a quarter hour where a books 200
    visits and the consult's share predicts 101 consults) within the 1% allowance: the window stays
    08:00-08:30, not 08:00-09:00, and says 2 lay outside; 3 are over it, the window spans them too,
    08:00-09:00, and then it forbids nothing a books: no window, nothing said."""
    from clinicflow.data.windows import MAX_OUTSIDE_SHARE, fit_type

    segments = {("a", "mon"): [(480, 720)]}
    fit = fit_type("c", _mondays(200, strays=2), ["a"], segments, 30)
    assert 2 <= MAX_OUTSIDE_SHARE * 202 < 3
    assert (fit.windows, fit.n, fit.outside) == ([(480, 510)], 202, 2)
    assert "(200 of 202 visits, 1.0% outside;" in fit.line
    fit = fit_type("c", _mondays(200, strays=3), ["a"], segments, 30)
    assert (fit.windows, fit.candidate, fit.outside, fit.line) == ([], [(480, 540)], 0, None)


def test_windows_are_the_spans_union_split_at_30_quiet_minutes_and_widened_to_quarter_hours():
    """08:10-08:40 and 09:05-10:50 are 25 minutes apart (one window, 08:00-11:00); 13:00-13:20
    starts 130 minutes later (a second, 13:00-13:30). A slot lies inside when all of it does."""
    from clinicflow.data.windows import inside, union_windows

    starts, ends = np.array([490, 545, 780, 600]), np.array([520, 650, 800, 630])
    assert union_windows(starts, ends) == [(480, 660), (780, 810)]
    assert union_windows(np.array([480, 535]), np.array([505, 560])) == [(480, 510), (525, 570)]
    assert inside(
        np.array([480, 640, 790]), np.array([520, 670, 810]), [(480, 660), (780, 810)]
    ).tolist() == [
        True,
        False,
        True,
    ]


def test_a_stray_standing_apart_is_dropped_even_where_few_visits_start():
    """Two consults at 11:00, where a books nothing else: not thin (they are all a books in that
    quarter hour), but a window of their own holding 2 of 202 consults, within the 1% allowance:
    dropped, and counted outside."""
    from clinicflow.data.windows import fit_type

    visits = pd.concat(
        [_mondays(200), pd.DataFrame([("a", "c", "mon", 660, 690)] * 2, columns=_mondays(0).columns)],
        ignore_index=True,
    )
    fit = fit_type("c", visits, ["a"], {("a", "mon"): [(480, 720)]}, 30)
    assert (fit.windows, fit.n, fit.outside) == ([(480, 510)], 202, 2)
    assert fit.share_elsewhere == pytest.approx(202 / 402)


def _weekday_history(
    weeks: int, consult_on: dict, strays=(), share: float = 0.35, seed: int = 8
) -> pd.DataFrame:
    """dr_c and dr_d both work Monday to Friday, 08:00-12:00 and 13:00-17:00, each session a
    template (``_lay_session``) with consults only on the weekdays of ``consult_on`` (weekday
    offset: the windows a consult slot lies in that day), drawn with probability ``share``."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for w in range(weeks):
        for offset in range(5):
            day = MONDAY + dt.timedelta(weeks=w, days=offset)
            for provider in ("dr_c", "dr_d"):
                for start, end in SESSIONS:
                    _lay_session(rng, rows, provider, day, start, end, consult_on.get(offset, []), share)
    _add_strays(rng, rows, strays)
    return pd.DataFrame(rows)


def _days(sc) -> dict[str, list[tuple[int, int, list[str]]]]:
    return {t.id: [(w.start, w.end, w.days) for w in t.allowed_windows] for t in sc.appointment_types}


def _plan_starts(tmp_path, type_id: str) -> pd.DataFrame:
    """Plan a week on the draft written by ``_draft``: the slots of ``type_id`` (weekday, start minute)."""
    r = run_main(
        "plan", tmp_path / "w.yaml", "--week", "2026-11-30", "--time-limit", "2", "--samples", "5",
        "--replications", "2", "--out", tmp_path / "p",
    )  # fmt: skip
    assert r.code == 0, r.stdout + r.stderr
    plan = pd.read_csv(tmp_path / "p" / "schedule.csv")
    mine = plan[plan["appointment_type"] == type_id]
    weekday = [
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()] for d in pd.to_datetime(mine["date"])
    ]
    start = mine["start"].map(lambda x: int(x[:2]) * 60 + int(x[3:]))
    return pd.DataFrame({"weekday": weekday, "start": start.to_numpy()})


def test_a_type_booked_on_two_weekdays_gets_them_and_the_span_of_their_sessions(tmp_path, monkeypatch):
    """Consults anywhere in Tuesday's and Thursday's sessions and never on the other days, while both
    providers book visits and checks on all five: no time of day is left out (the consults' spans
    cover every session), but three weekdays are, with 65% of the visits a consult would fit on
    them (more than 3/5: without consults their slots are shorter, so more), so ``08:00-17:00``
    (the span of the sessions) on ``tue, thu``: a window, not none; the draft validates."""
    whole_day = [(8 * 60, 17 * 60)]
    hist = _weekday_history(12, {1: whole_day, 3: whole_day})
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _days(sc) == {"check": [], "consult": [(480, 1020, ["tue", "thu"])], "visit": []}
    assert ((hist["appointment_type"] == "consult") & (hist["status"] != "cancelled")).sum() == 328
    assert (
        "consult: booked only 08:00-17:00 tue, thu (328 of 328 visits, 0.0% outside; its providers book "
        "65% of the visits it would fit on mon, wed, fri: chance 3e-149 were it spread like them)"
    ) in text
    assert run_main("validate", tmp_path / "w.yaml").code == 0


def test_strays_on_a_third_weekday_are_counted_outside_and_the_windows_get_the_days(tmp_path, monkeypatch):
    """Consults in 09:00-11:00 and 14:00-15:30 on Tuesdays and Thursdays, and three booked on
    Wednesdays as overrides (inside those hours, where both providers book other visits): under 1%
    of the 388 consults, so Wednesday is still left out, the windows come back exactly with ``tue,
    thu``, and the line counts the three outside."""
    from clinicflow.data.windows import MAX_OUTSIDE_SHARE

    strays = [(2, 2, 9 * 60), (5, 2, 14 * 60), (8, 2, 10 * 60)]
    hist = _weekday_history(30, {1: CONSULT_WINDOWS, 3: CONSULT_WINDOWS}, strays=strays, share=0.5)
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _days(sc)["consult"] == [(a, b, ["tue", "thu"]) for a, b in CONSULT_WINDOWS]
    assert _days(sc)["check"] == _days(sc)["visit"] == []
    n = ((hist["appointment_type"] == "consult") & (hist["status"] != "cancelled")).sum()
    assert n == 388 and MAX_OUTSIDE_SHARE * n >= 3  # the allowance holds them
    assert (
        "consult: booked only 09:00-11:00 & 14:00-15:30 tue, thu (385 of 388 visits, 0.8% outside; its "
        "providers book 66% of the visits it would fit on mon, wed, fri: chance 2e-176; 70% of the visits "
        "it would fit on tue, thu outside 09:00-11:00 & 14:00-15:30: chance 4e-201 were it spread like them)"
    ) in text


def test_two_weeks_of_consults_are_too_few_to_leave_friday_out(tmp_path, monkeypatch):
    """Consults Monday to Thursday, never on Friday, for two weeks: Friday holds 20% of the visits
    a consult would fit, and 0.8^20 for the 20 consults is 0.011, far above 1e-6: no weekday is left
    out (no window at all), and the line says it could be chance."""
    whole_day = [(8 * 60, 17 * 60)]
    hist = _weekday_history(2, dict.fromkeys(range(4), whole_day), share=0.05, seed=3)
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _days(sc) == {"check": [], "consult": [], "visit": []}
    assert ((hist["appointment_type"] == "consult") & (hist["status"] != "cancelled")).sum() == 20
    assert (
        "consult: no weekdays drafted: booked 0 times on fri (20 visits in all), which could be chance: its "
        "providers book 20% of the visits it would fit on those days, and a type spread like them would keep "
        "off them with chance 0.011 (weekdays need under 1e-06)"
    ) in text
    assert "consult: booked only" not in text and "consult: no window" not in text


def test_windows_that_differ_by_weekday_are_drafted_each_on_its_days(tmp_path, monkeypatch):
    """Consults Tuesday 09:00-11:00 and Thursday 14:00-15:30: over every day the windows are both
    spans, Monday, Wednesday and Friday are left out inside them, and then on each kept day one of
    the two windows holds none of the consults while the providers book plenty there: Tuesday keeps
    to the morning one, Thursday to the afternoon one, and the plan follows."""
    morning, afternoon = CONSULT_WINDOWS
    hist = _weekday_history(16, {1: [morning], 3: [afternoon]}, share=0.8)
    sc, text = _draft(tmp_path, hist, monkeypatch)
    assert _days(sc)["consult"] == [(*morning, ["tue"]), (*afternoon, ["thu"])]
    assert sc.type_by_id["consult"].windows_label() == "09:00-11:00 tue, 14:00-15:30 thu"
    assert (
        "consult: booked only 09:00-11:00 tue; 14:00-15:30 thu (144 of 144 visits, 0.0% outside; its providers "
        "book 64% of the visits it would fit on mon, wed, fri: chance 2e-64; 68% of the visits it would fit on "
        "tue, thu outside 09:00-11:00 & 14:00-15:30: chance 2e-71; 50% of the visits it would fit on tue in "
        "14:00-15:30: chance 4e-26; 68% of the visits it would fit on thu in 09:00-11:00: chance 3e-30 were it "
        "spread like them)"
    ) in text
    planned = _plan_starts(tmp_path, "consult")
    assert len(planned)
    for wd, (a, b) in (("tue", morning), ("thu", afternoon)):
        mine = planned[planned["weekday"] == wd]["start"]
        assert ((mine >= a) & (mine + 30 <= b)).all(), wd
    assert set(planned["weekday"]) <= {"tue", "thu"}


def _two_days(days: int, mine: str, other: str) -> pd.DataFrame:
    """``days`` weeks of provider a: a 30-minute consult at 08:00 on ``mine``, a 30-minute visit at
    08:00 on ``other`` (visits in minutes, as ``fit_windows`` reads them)."""
    rows = [("a", "c", mine, 480, 510)] * days + [("a", "v", other, 480, 510)] * days
    return pd.DataFrame(rows, columns=["provider", "appointment_type", "weekday", "start", "end"])


def test_a_weekday_is_left_out_once_its_chance_falls_under_1e_6():
    """a works 08:00-08:30 on Monday and Tuesday; consults every Monday, visits every Tuesday: half
    the positions a consult would fit are Tuesdays, and n consults all on Mondays would come by
    chance with probability 0.5^n: 1.9e-6 for 19 (no weekday left out, said), 9.5e-7 for 20
    (``08:00-08:30 mon``: the session's span on the kept day, since no time of day is left out)."""
    from clinicflow.data.windows import fit_windows

    segments = {("a", "mon"): [(480, 510)], ("a", "tue"): [(480, 510)]}
    fit = fit_windows("c", _two_days(19, "mon", "tue"), ["a"], segments, 30)
    assert fit.entries == []
    assert fit.lines == [
        "c: no weekdays drafted: booked 0 times on tue (19 visits in all), which could be chance: its "
        "providers book 50% of the visits it would fit on those days, and a type spread like them would "
        "keep off them with chance 2e-06 (weekdays need under 1e-06)"
    ]
    fit = fit_windows("c", _two_days(20, "mon", "tue"), ["a"], segments, 30)
    assert fit.entries == [((480, 510), ("mon",))]
    assert fit.lines == [
        "c: booked only 08:00-08:30 mon (20 of 20 visits, 0.0% outside; its providers book 50% of the "
        "visits it would fit on tue: chance 1e-06 were it spread like them)"
    ]


def test_a_weekday_whose_sessions_lie_outside_the_windows_is_not_left_out():
    """a works Monday 08:00-09:00 and Tuesday 13:00-14:00; consults at 08:00 on Mondays only. The
    08:00-08:30 window is drafted first (a quarter of the positions a consult fits lie in it); on
    Tuesday a books nothing the window admits, so leaving Tuesday out would forbid nothing more and
    is not claimed: the window applies every day, as the practice's rule ("consults 08:00-08:30")
    would say it. Weekdays judged before the windows would have drafted ``mon``."""
    from clinicflow.data.windows import fit_windows

    rows = [("a", "c", "mon", 480, 510), ("a", "v", "mon", 510, 540)] * 20
    rows += [("a", "v", "tue", 780, 810), ("a", "v", "tue", 810, 840)] * 20
    visits = pd.DataFrame(rows, columns=["provider", "appointment_type", "weekday", "start", "end"])
    segments = {("a", "mon"): [(480, 540)], ("a", "tue"): [(780, 840)]}
    fit = fit_windows("c", visits, ["a"], segments, 30)
    assert fit.entries == [((480, 510), ())]
    assert fit.lines[0].startswith(
        "c: booked only 08:00-08:30 (20 of 20 visits, 0.0% outside; its providers book 75%"
    )
