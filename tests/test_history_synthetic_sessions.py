"""A synthetic history drawn from a scenario is that practice's own booking history: visits back to
back inside the providers' sessions, the weekly demand's mix, same-day holds taken on the day, and
``history draft`` gives the scenario back from it (the round trip)."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from clinicflow import load_scenario
from clinicflow.data.starter import BREAK_MIN, GAP_SHARE, MIN_TYPE_SHARE, MIN_WEEK_SHARE, draft_scenario
from clinicflow.data.store import import_history
from clinicflow.data.synthetic import generate_history, history_span, to_generic, write_history
from clinicflow.data.synthetic_sessions import ADVANCE_CANCEL, weekly_mix
from clinicflow.domain.clock import WEEKDAYS
from conftest import FAMILY, run_main
from history_helpers import _key_in_tmp  # noqa: F401

#: The README's chain: 20,000 rows at the family practice, the default 26 weeks asked for.
ROWS, WEEKS, SEED = 20_000, 26, 1


def _minutes(ts: pd.Series) -> np.ndarray:
    t = pd.to_datetime(ts)
    return (t.dt.hour * 60 + t.dt.minute).to_numpy()


def _frame(history: pd.DataFrame) -> pd.DataFrame:
    h = history.copy()
    h["weekday"] = [WEEKDAYS[d.weekday()] for d in pd.to_datetime(h["appt_date"])]
    h["s"], h["e"] = _minutes(h["start_at"]), _minutes(h["end_at"])
    return h


@pytest.fixture(scope="module")
def family():
    return load_scenario(FAMILY)


@pytest.fixture(scope="module")
def history(family):
    return generate_history(ROWS, seed=SEED, weeks=WEEKS, scenario=family)


def test_no_two_visits_of_a_provider_overlap_and_all_lie_in_their_sessions(family, history):
    h = _frame(history)
    kept = h[h["status"] != "cancelled"].sort_values(["provider", "appt_date", "s"])
    # back to back at most: each visit ends no later than the provider's next one that day starts
    nxt = kept.groupby(["provider", "appt_date"])["s"].shift(-1)
    assert (kept["e"] <= nxt.fillna(24 * 60)).all()
    assert not kept.duplicated(["provider", "appt_date", "s"]).any()
    lengths = {t.id: t.scheduled_min for t in family.appointment_types}
    assert ((h["e"] - h["s"]) == h["appointment_type"].map(lengths)).all()  # the scheduled lengths
    for p in family.providers:
        mine = h[h["provider"] == p.id]
        assert set(mine["weekday"]) == set(p.sessions)  # on the days they work, and no other
        inside = np.zeros(len(mine), bool)
        for wd, sessions in p.sessions.items():
            day = (mine["weekday"] == wd).to_numpy()
            for sess in sessions:
                ok = day & (mine["s"] >= sess.start).to_numpy() & (mine["e"] <= sess.end).to_numpy()
                for b in sess.breaks:  # nothing booked across a break
                    ok &= ((mine["e"] <= b.start) | (mine["s"] >= b.end)).to_numpy()
                inside |= ok
        assert inside.all(), p.id
        assert set(mine["appointment_type"]) <= set(p.appointment_types)
    # a type kept to allowed windows lies inside one
    for t in family.appointment_types:
        if t.allowed_windows:
            mine = h[h["appointment_type"] == t.id]
            fits = np.zeros(len(mine), bool)
            for w in t.allowed_windows:
                fits |= ((mine["s"] >= w.start) & (mine["e"] <= w.end)).to_numpy()
            assert fits.all(), t.id
    # an advance cancellation sits on a kept visit's slot (rebooked), and was booked before it
    cancelled = h[h["status"] == "cancelled"]
    on = cancelled.merge(
        kept[["provider", "appt_date", "s", "appointment_type", "lead_days"]],
        on=["provider", "appt_date", "s", "appointment_type"],
        suffixes=("", "_kept"),
        validate="many_to_one",
    )
    assert len(on) == len(cancelled) > 0
    assert (on["lead_days"] > on["lead_days_kept"]).all()


def test_templates_run_from_the_session_start_to_its_end(family, history):
    """The filled template: a session's first slot starts when it starts and its last ends when it
    ends (a type that would leave minutes no slot fills is drawn only when none other fits), each
    booked as often as any slot that is not a hold (here about 74%: 328 of 445 a week). The draft
    needs them booked on more than ``GAP_SHARE`` (10%) of the days to land on the session's own
    times; asked here: more than four times that."""
    h = _frame(history[history["status"] != "cancelled"])
    for p in family.providers:
        for wd, sessions in p.sessions.items():
            days = h[(h["provider"] == p.id) & (h["weekday"] == wd)]
            for sess in sessions:
                mine = days[(days["s"] >= sess.start) & (days["s"] < sess.end)]
                by_day = mine.groupby("appt_date")
                assert (by_day["s"].min() == sess.start).mean() > 4 * GAP_SHARE, (p.id, wd, sess.start)
                assert (by_day["e"].max() == sess.end).mean() > 4 * GAP_SHARE, (p.id, wd, sess.end)


def test_a_week_books_at_most_its_demand_and_more_rows_span_more_weeks(family, history):
    mix = weekly_mix(family, [t.id for t in family.appointment_types])
    demand = sum(d.weekly for d in family.demand)
    assert mix.demand == demand == 430 and mix.full_week == demand  # the demand fits the sessions
    # expected kept rows over a full week, rounded up: 20,000 x 0.94 / 430 = 43.7 -> 44 weeks
    span = math.ceil(ROWS * (1 - ADVANCE_CANCEL) / demand)
    assert history_span(ROWS, WEEKS, family) == span == 44
    assert history_span(5000, WEEKS, family) == WEEKS  # 181 a week: the weeks asked for
    assert history_span(ROWS, WEEKS, None) == WEEKS  # without a scenario nothing changes
    days = pd.to_datetime(history["appt_date"])
    assert days.min() == pd.Timestamp(2025, 1, 6) and (days.max() - days.min()).days == 7 * span - 3
    kept = (history["status"] != "cancelled").sum()
    # no week over its demand; ceil() leaves at most one week's worth short; 4 sd of the binomial
    # number of advance cancellations either way
    sd = math.sqrt(ROWS * ADVANCE_CANCEL * (1 - ADVANCE_CANCEL))
    assert demand * (span - 1) - 4 * sd <= kept <= demand * span + 4 * sd
    # a quieter history: rows / weeks a week, the holds' share of it kept
    quiet = generate_history(3000, seed=2, weeks=12, scenario=family)
    qd = pd.to_datetime(quiet["appt_date"])
    assert (qd.max() - qd.min()).days == 7 * 12 - 3
    same_day = (quiet["lead_days"] == 0)[quiet["status"] != "cancelled"].mean()
    holds = sum(s.holds for p in family.providers for ss in p.sessions.values() for s in ss)
    assert same_day == pytest.approx(holds / demand, abs=0.03)  # 102 / 430 = 0.237


def test_same_seed_same_history_and_the_path_without_a_scenario_has_no_booked_end(family):
    a = generate_history(1500, seed=9, weeks=4, scenario=family)
    b = generate_history(1500, seed=9, weeks=4, scenario=family)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(generate_history(1500, seed=10, weeks=4, scenario=family))
    assert "end_at" in to_generic(a).columns
    assert "end_at" not in to_generic(generate_history(500, seed=9, weeks=4)).columns


def test_synthesize_says_when_the_rows_span_more_weeks(tmp_path):
    out = tmp_path / "h.csv"
    r = run_main("history", "synthesize", out, "--rows", "9000", "--scenario", FAMILY, "--weeks", "4")
    assert r.code == 0, r.stderr
    text = " ".join(r.stdout.split())  # the console wraps long lines
    assert text.startswith("wrote 9,000 synthetic appointments (generic layout) to")
    # 9,000 x 0.94 / 430 = 19.7 -> 20 weeks
    assert "the history spans 20 weeks, not 4 (--weeks)" in text
    assert "books at most 430 visits a week (its weekly demand)" in text
    # with the requests' week, the longer history still ends the day before it
    r = run_main(
        "history", "synthesize", tmp_path / "h2.csv", "--rows", "9000", "--scenario", FAMILY,
        "--weeks", "4", "--requests-out", tmp_path / "r.csv", "--week", "2026-11-30",
    )  # fmt: skip
    assert r.code == 0, r.stdout
    days = pd.to_datetime(pd.read_csv(tmp_path / "h2.csv")["start_at"]).dt.date
    assert days.max() < dt.date(2026, 11, 30) and days.min() >= dt.date(2026, 11, 30) - dt.timedelta(weeks=20)
    r = run_main("history", "synthesize", tmp_path / "h3.csv", "--rows", "2000", "--scenario", FAMILY)
    assert r.code == 0 and "spans" not in r.stdout  # 72 a week: the 26 weeks asked for


def _drafted(history, tmp):
    """``history`` written as the generic layout, imported into a store in ``tmp``, drafted."""
    write_history(to_generic(history), tmp / "history.csv")
    import_history(tmp / "history.csv", tmp / "h.duckdb", key_file=tmp / "key")
    con = duckdb.connect(str(tmp / "h.duckdb"))
    try:
        return draft_scenario(con, name="Maple Street (drafted)", timezone="America/Chicago")
    finally:
        con.close()


@pytest.fixture(scope="module")
def draft(family, history, tmp_path_factory):
    return _drafted(history, tmp_path_factory.mktemp("roundtrip"))


@pytest.fixture(scope="module")
def drafted(draft):
    return draft.scenario


def test_the_draft_gives_back_the_sessions_days_types_and_holds(family, history, drafted):
    """The round trip: ``history draft`` on the synthetic history recovers each provider's working
    weekdays, session times, holds and types exactly.

    Why exactly, and not within 15 minutes: the draft takes a session's start as the 10th
    percentile of the day's first start and its end as the 90th percentile of its last end, splits
    where fewer than ``GAP_SHARE`` (10%) of the days have a 5-minute bin booked, and rounds to the
    quarter hour. The scenario's times are quarter hours, and each template starts at its session's
    start and ends at its end, so a boundary comes out exact as long as its first (last) slot is
    booked on more than 10% of the days: it is on more than 40% of them
    (``test_templates_run_from_the_session_start_to_its_end``; about 74% on average, and with 44
    days per weekday a binomial share of 74% falls to 10% with probability below 1e-20). A drift
    by one rounding step (15 minutes) is what a generator booking off its sessions would show
    (the 08:00-16:20 generator drafted 08:00-17:00 for everyone), and it fails here.

    Holds: the draft's holds are the mean of same-day visits per session, rounded; a full week
    (this history: 427 of 430 visits a week) books every hold on the day with probability
    kept / (430 x 44) > 0.98, so the mean is within 0.03 x holds (at most 3) of the holds: rounds
    back to them. Weekdays: every session day is worked every week (share 1 > ``MIN_WEEK_SHARE``);
    types: the smallest share of a type in a provider's visits is far above ``MIN_TYPE_SHARE``.
    Breaks: nothing is ever booked across one (the templates are laid out around it), so the PA's
    Wednesday 15:30-15:45 is a quiet 15 minutes on every Wednesday, and every other quarter hour of a
    session is booked on most days."""
    assert MIN_WEEK_SHARE < 1 and GAP_SHARE == 0.1 and BREAK_MIN == 15
    assert any(s.breaks for p in family.providers for x in p.sessions.values() for s in x)  # not vacuous
    assert {p.id for p in drafted.providers} == {p.id for p in family.providers}
    kept = history[history["status"] != "cancelled"]
    for p in family.providers:
        q = drafted.provider_by_id[p.id]
        assert list(q.sessions) == [wd for wd in WEEKDAYS if wd in p.sessions], p.id
        for wd, sessions in p.sessions.items():
            want = [
                (s.start, s.end, s.holds, [(b.start, b.end) for b in s.breaks])
                for s in sorted(sessions, key=lambda s: s.start)
            ]
            got = [(s.start, s.end, s.holds, [(b.start, b.end) for b in s.breaks]) for s in q.sessions[wd]]
            assert got == want, (p.id, wd)
        assert sorted(q.appointment_types) == sorted(p.appointment_types), p.id
        shares = kept[kept["provider"] == p.id]["appointment_type"].value_counts(normalize=True)
        assert shares.min() > 2 * MIN_TYPE_SHARE, p.id


def test_the_draft_gives_back_the_lengths_and_the_weekly_demand(family, history, drafted):
    """Booked lengths are the scheduled lengths (every booked end is start + scheduled_min, so the
    median is exact). Weekly demand: the kept visits are split over the types as a multinomial
    draw with the demand's shares pi_t = weekly_t / 430, so the draft's count of type t over its
    weeks w (first to last visit day, 43.7 weeks) is binomial(n, pi_t) / w: within 4 of its sd
    sqrt(n pi_t (1 - pi_t)) / w (plus the draft's rounding to 0.1) of n pi_t / w, and n / w is
    the week's volume, 430 here within the same binomial error."""
    types = {t.id: t for t in drafted.appointment_types}
    for t in family.appointment_types:
        assert types[t.id].scheduled_min == t.scheduled_min, t.id
    kept = history[history["status"] != "cancelled"]
    n = len(kept)
    days = pd.to_datetime(kept["appt_date"])
    w = ((days.max() - days.min()).days + 1) / 7
    demand = {d.type: d.weekly for d in family.demand}
    total = sum(demand.values())
    got = {d.type: d.weekly for d in drafted.demand}
    assert set(got) == set(demand)
    for tid, weekly in demand.items():
        pi = weekly / total
        sd = math.sqrt(n * pi * (1 - pi)) / w
        assert abs(got[tid] - n * pi / w) <= 4 * sd + 0.05, (tid, got[tid], n * pi / w, sd)
        # against the scenario's own weekly demand: the same, plus the volume's departure from 430
        assert abs(got[tid] - weekly) <= 4 * sd + 0.05 + weekly * abs(n / w / total - 1), tid
    # n / w is the full week the rows were booked at: ceil() and the calendar move it by < 1%
    assert n / w == pytest.approx(total, rel=0.01)


def test_the_draft_gives_back_the_types_time_windows_and_no_other(family, history, draft):
    """New patients (08:00-11:00 & 13:00-15:00) and procedures (08:00-12:00 & 13:00-16:30) come
    back exactly; the five types without windows get none.

    Why exactly: the templates place a slot of a windowed type only where all of it lies in a
    window, and at the window's start as soon as a session is there (08:00, 13:00), so its visits'
    spans run from the window's start to its end (a slot ending at 11:00 needs a slot boundary at
    10:20: over 44 weeks of 4 providers it comes), and 30 quiet minutes or more separate the
    morning's from the afternoon's; widened to the quarter hour they are the windows. Why claimed:
    the providers who see new patients start 47% of the visits from which a 40-minute slot would
    fit their session where it would not fit the windows (after 10:20, after 14:20), and not one
    of 1,351 new patients there: chance (0.53)^1351, under 1e-300; procedures: 15% of 806, chance 2e-59; both far
    under ``EVIDENCE``. Why none for the others: every slot of a session is open to them, so their
    spans cover every session of every provider who sees them (a window that restricts nothing)."""
    drafted = draft.scenario
    assert sum(bool(t.allowed_windows) for t in family.appointment_types) == 2  # not vacuous
    for t in family.appointment_types:
        got = [(w.start, w.end) for w in drafted.type_by_id[t.id].allowed_windows]
        assert got == [(w.start, w.end) for w in t.allowed_windows], t.id
    # the evidence, as the inferred list says it: every visit inside, and the providers' share outside
    said = {x.split(":")[0]: x for x in draft.inferred if "booked only" in x or "no window" in x}
    assert set(said) == {"new_patient", "procedure"}
    n = history[history["status"] != "cancelled"]["appointment_type"].value_counts()
    assert said["new_patient"] == (
        f"new_patient: booked only 08:00-11:00 & 13:00-15:00 ({n['new_patient']:,} of {n['new_patient']:,} "
        "visits, 0.0% outside; its providers book 47% of the visits it would fit outside them: chance "
        "under 1e-300 were it spread like them)"
    )
    assert said["procedure"] == (
        f"procedure: booked only 08:00-12:00 & 13:00-16:30 ({n['procedure']:,} of {n['procedure']:,} "
        "visits, 0.0% outside; its providers book 15% of the visits it would fit outside them: chance "
        "2e-59 were it spread like them)"
    )


#: Procedures only Tuesday and Thursday afternoons: the family practice with this one window.
PROCEDURE_DAYS = [{"start": "13:00", "end": "16:30", "days": ["tue", "thu"]}]


@pytest.fixture(scope="module")
def family_tue_thu(tmp_path_factory):
    """The family scenario, procedures kept to Tuesday and Thursday afternoons (the bundled file
    left as it is), written out so ``clinicflow validate`` reads it as a practice would."""
    data = yaml.safe_load(FAMILY.read_text())
    (procedure,) = [t for t in data["appointment_types"] if t["id"] == "procedure"]
    procedure["allowed_windows"] = PROCEDURE_DAYS
    path = tmp_path_factory.mktemp("tue-thu") / "family-tue-thu.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tue_thu_history(family_tue_thu):
    return generate_history(ROWS, seed=SEED, weeks=WEEKS, scenario=load_scenario(family_tue_thu))


@pytest.fixture(scope="module")
def tue_thu_draft(tue_thu_history, tmp_path_factory):
    return _drafted(tue_thu_history, tmp_path_factory.mktemp("roundtrip-days"))


def test_procedures_on_tuesday_and_thursday_afternoons_are_a_scenario_the_providers_can_keep(
    family_tue_thu, tue_thu_history
):
    """The scenario validates, each of the two days has providers who see procedures working in
    the afternoon (Okafor, Ramirez and Brooks on Tuesday; Okafor, Lindqvist and Brooks on
    Thursday), and the synthetic history books procedures then only."""
    assert run_main("validate", family_tue_thu).code == 0
    sc = load_scenario(family_tue_thu)
    for wd in ("tue", "thu"):
        afternoon = [
            p.id
            for p in sc.providers
            if "procedure" in p.appointment_types
            and any(s.start <= 14 * 60 and s.end >= 16 * 60 + 30 for s in p.sessions.get(wd, []))
        ]
        assert len(afternoon) == 3, (wd, afternoon)
    h = _frame(tue_thu_history[tue_thu_history["status"] != "cancelled"])
    procedures = h[h["appointment_type"] == "procedure"]
    assert set(procedures["weekday"]) == {"tue", "thu"}
    assert procedures["s"].min() == 13 * 60 and procedures["e"].max() == 16 * 60 + 30


def test_the_draft_gives_back_procedures_on_tuesday_and_thursday_afternoons(
    family_tue_thu, tue_thu_history, tue_thu_draft
):
    """Procedures come back as ``13:00-16:30`` on ``tue, thu`` exactly; new patients as before (every
    day, no ``days``); the five others with no window.

    Why: the time-of-day windows are drafted first over every day (13:00-16:30, the procedures'
    spans, as in ``test_the_draft_gives_back_the_types_time_windows_and_no_other``); then, inside
    them, the weekdays: the providers who see procedures book 64% of the visits a procedure would
    fit in 13:00-16:30 on Monday, Wednesday and Friday, and not one of 870 procedures falls there:
    chance 0.36^870, under 1e-300. The time window is then drafted again from Tuesdays and
    Thursdays alone (66% of the providers' visits there lie outside it, the mornings and the last
    half hour: under 1e-300 too), and on each of those days it is the only window, so nothing is
    left to choose by day. New patients are booked every weekday at close to their share of the
    providers' visits, so no weekday is thin: no ``days``."""
    drafted = tue_thu_draft.scenario
    family = load_scenario(family_tue_thu)
    for t in family.appointment_types:
        got = [(w.start, w.end, w.days) for w in drafted.type_by_id[t.id].allowed_windows]
        assert got == [(w.start, w.end, w.days) for w in t.allowed_windows], t.id
    assert drafted.type_by_id["procedure"].windows_label() == "13:00-16:30 tue, thu"
    assert drafted.type_by_id["new_patient"].windows_label() == "08:00-11:00, 13:00-15:00"
    said = {x.split(":")[0]: x for x in tue_thu_draft.inferred if "booked only" in x or "no window" in x}
    assert set(said) == {"new_patient", "procedure"}
    assert not [x for x in tue_thu_draft.inferred if "no weekdays" in x]
    n = tue_thu_history[tue_thu_history["status"] != "cancelled"]["appointment_type"].value_counts()
    assert n["procedure"] == 870
    assert said["procedure"] == (
        "procedure: booked only 13:00-16:30 tue, thu (870 of 870 visits, 0.0% outside; its providers "
        "book 64% of the visits it would fit on mon, wed, fri: chance under 1e-300; 66% of the visits it "
        "would fit on tue, thu outside 13:00-16:30: chance under 1e-300 were it spread like them)"
    )
    assert said["new_patient"].startswith(
        f"new_patient: booked only 08:00-11:00 & 13:00-15:00 ({n['new_patient']:,} of {n['new_patient']:,} "
        "visits, 0.0% outside; its providers book 47% of the visits it would fit outside them:"
    )


def test_the_drafted_weekdays_plan(tue_thu_draft, tmp_path):
    """The drafted scenario validates and ``plan`` keeps procedures to Tuesday and Thursday
    afternoons (every window it drafts admits a procedure in a session of a provider who sees
    them, on its days)."""
    from clinicflow.scenario_file import dump_scenario

    path = tmp_path / "drafted.yaml"
    path.write_text(dump_scenario(tue_thu_draft.scenario))
    assert run_main("validate", path).code == 0
    r = run_main(
        "plan", path, "--week", "2026-11-30", "--time-limit", "2", "--samples", "5", "--replications", "2",
        "--out", tmp_path / "p",
    )  # fmt: skip
    assert r.code == 0, r.stdout + r.stderr
    plan = pd.read_csv(tmp_path / "p" / "schedule.csv")
    procedures = plan[plan["appointment_type"] == "procedure"]
    days = {WEEKDAYS[d.weekday()] for d in pd.to_datetime(procedures["date"])}
    assert len(procedures) and days <= {"tue", "thu"}
    s = procedures["start"].map(lambda x: int(x[:2]) * 60 + int(x[3:]))
    assert s.min() >= 13 * 60 and (s + 30).max() <= 16 * 60 + 30
