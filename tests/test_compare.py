"""What-if comparisons: common random numbers, exact zeros, bottlenecks (family-practice week)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clinicflow.stats import mean_ci, welch_ci
from clinicflow.whatif import Variant, apply_variant
from clinicflow.whatif.compare import compare
from conftest import FAMILY, ROOT, run_cli
from tests_helpers import booked_week

N = 20


@pytest.fixture(scope="module")
def comparison(family):
    one_desk = apply_variant(family, Variant(name="one clerk", front_desk=1))
    rooms = Variant(name="two more rooms", extra_rooms=2)
    same = Variant(name="same")
    desk = Variant(name="second clerk", front_desk=2)
    reminders = Variant(name="reminders", no_show_scale=0.7)
    return compare(
        one_desk,
        [
            ("same", same, apply_variant(one_desk, same)),
            ("two more rooms", rooms, apply_variant(one_desk, rooms)),
            ("second clerk", desk, apply_variant(one_desk, desk)),
            ("reminders", reminders, apply_variant(one_desk, reminders)),
        ],
        replications=N,
        seed=11,
    )


def _row(comp, arm, kpi):
    t = comp.table()
    return t[(t["arm"] == arm) & (t["kpi"] == kpi)].iloc[0]


def test_identical_variant_differs_by_exactly_zero(comparison):
    t = comparison.table()
    same = t[t["arm"] == "same"]
    assert (same["diff"].fillna(0) == 0).all()
    assert (same["diff_low"].fillna(0) == 0).all() and (same["diff_high"].fillna(0) == 0).all()


def test_resource_that_is_never_the_bottleneck_changes_nothing_beyond_the_ci(comparison):
    for kpi in ("mean_wait_min", "p90_wait_min", "provider_overtime_min"):
        r = _row(comparison, "two more rooms", kpi)
        assert r["diff_low"] <= 0 <= r["diff_high"], (kpi, r.to_dict())
        base = _row(comparison, comparison.base.name, kpi)
        assert abs(r["diff"]) <= (base["ci_high"] - base["ci_low"]) / 2 + 1e-9


def test_adding_the_bottleneck_lowers_waits(comparison):
    # with one clerk the desk is the bottleneck: a second clerk cuts the wait, and the whole CI is below 0
    for kpi in ("mean_wait_min", "p90_wait_min", "mean_time_in_clinic_min"):
        r = _row(comparison, "second clerk", kpi)
        assert r["diff_high"] < 0, (kpi, r.to_dict())
    assert _row(comparison, "second clerk", "desk_utilization")["diff"] < 0


def test_paired_ci_is_much_narrower_than_unpaired(comparison):
    widths = []
    for kpi in ("mean_wait_min", "provider_idle_min", "patients_seen", "cost"):
        r = _row(comparison, "reminders", kpi)
        paired = r["diff_high"] - r["diff_low"]
        unpaired = r["unpaired_high"] - r["unpaired_low"]
        widths.append(paired / unpaired)
    # common random numbers remove most of the shared noise: at least 40% narrower on every KPI
    assert max(widths) < 0.6, widths


def test_reminders_raise_patients_seen(comparison):
    r = _row(comparison, "reminders", "patients_seen")
    assert r["diff_low"] > 0


def test_staff_cost_difference_is_exact(comparison):
    r = _row(comparison, "second clerk", "staff_cost_week")
    assert r["diff"] == pytest.approx(5 * 10.5 * 18)  # one clerk, 5 days of 10.5 opening hours at $18


def test_labour_cost_is_staff_cost_plus_the_simulated_overtime_pay(comparison):
    """Paired per replication: the fixed staff cost difference plus the overtime pay difference."""
    t = comparison.table()
    for arm in comparison.arms:
        pay = arm.result.per_replication["overtime_pay"]
        r = _row(comparison, arm.name, "labour_cost_week")
        assert r["mean"] == pytest.approx(arm.staff_cost["total"] + pay.mean())
        assert r["ci_low"] < r["mean"] < r["ci_high"]
    clerk = _row(comparison, "second clerk", "labour_cost_week")
    pay = _row(comparison, "second clerk", "overtime_pay")
    assert clerk["diff"] == pytest.approx(5 * 10.5 * 18 + pay["diff"])
    assert clerk["diff_high"] - clerk["diff_low"] == pytest.approx(pay["diff_high"] - pay["diff_low"])
    assert set(t["kpi"]) >= {"overtime_pay", "staff_overtime_min", "labour_cost_week"}


def test_mean_and_welch_intervals():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    m, lo, *_ = mean_ci(x)
    assert m == 2.5 and lo == pytest.approx(2.5 - 3.182446 * np.sqrt(5 / 3) / 2, rel=1e-5)
    lo2, hi2 = welch_ci(x, x + 1)
    assert (lo2 + hi2) / 2 == pytest.approx(1.0)
    # equal variances 5/3 and sizes 4: se = sqrt(2 * 5/3 / 4), Welch-Satterthwaite dof = 6, t(0.975, 6)
    assert (hi2 - lo2) / 2 == pytest.approx(2.446911846 * np.sqrt(5 / 6), rel=1e-8)
    # unequal sizes and variances (where Welch's dof differs from the pooled n_a + n_b - 2): scipy's
    # Welch t interval of mean(b) - mean(a) = 6 - 2.5
    from scipy import stats

    b = np.array([2.0, 6.0, 10.0])
    ref = stats.ttest_ind(b, x, equal_var=False).confidence_interval(0.95)
    assert welch_ci(x, b) == pytest.approx((ref.low, ref.high), rel=1e-9)
    assert (ref.low + ref.high) / 2 == pytest.approx(3.5)


def test_compare_cli_json_and_outputs(tmp_path):
    out = tmp_path / "cmp"
    res = run_cli(
        "compare",
        FAMILY,
        ROOT / "scenarios/variants/reminders.yaml",
        "-n",
        "5",
        "--seed",
        "3",
        "--json",
        "--out",
        out,
    )
    assert res.code == 0, res.stderr
    data = json.loads(res.stdout)
    assert [a["name"] for a in data["arms"]] == ["base (family-practice)", "Text reminders (no-shows x 0.7)"]
    kp = data["arms"][1]["kpis"]["patients_seen"]
    assert kp["diff"]["mean"] > 0 and len(kp["diff"]["ci95"]) == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.csv",
        "comparison.json",
        "differences.html",
        "differences.png",
    ]
    # the files hold the numbers printed: comparison.json is the --json report, and comparison.csv
    # has each arm's mean and CI and the variant's paired difference (arm mean - base mean) with its CI
    assert json.loads((out / "comparison.json").read_text()) == data
    import pandas as pd

    csv = pd.read_csv(out / "comparison.csv").set_index(["arm", "kpi"])
    base, arm = data["arms"]
    for kpi in ("mean_wait_min", "patients_seen", "provider_idle_min", "cost"):
        b, v = base["kpis"][kpi], arm["kpis"][kpi]
        row = csv.loc[(arm["name"], kpi)]
        assert [row["mean"], row["ci_low"], row["ci_high"]] == pytest.approx(
            [v["mean"], *v["ci95"]], rel=1e-12
        )
        assert [row["diff"], row["diff_low"], row["diff_high"]] == pytest.approx(
            [v["diff"]["mean"], *v["diff"]["ci95"]], rel=1e-12
        )
        assert v["diff"]["mean"] == pytest.approx(v["mean"] - b["mean"], rel=1e-9, abs=1e-9)
        assert csv.loc[(base["name"], kpi), "mean"] == pytest.approx(b["mean"], rel=1e-12)
        assert np.isnan(csv.loc[(base["name"], kpi), "diff"])


def test_a_variant_run_on_another_base_than_its_own_says_so(tiny_yaml, tmp_path):
    """The command line's base wins over a variant file's ``base:`` (the README runs the family
    variants on its calibrated copy), and the arm's note says so: a variant written for another
    practice is not silently read as this one's. One naming this base (by any path) gets no note."""
    from conftest import run_main

    (tmp_path / "sub").mkdir()
    own = tmp_path / "sub" / "own.yaml"
    own.write_text("name: own\nbase: ../tiny.yaml\nextra_rooms: 1\n")
    other = tmp_path / "other.yaml"
    other.write_text("name: other\nbase: ortho.yaml\nextra_rooms: 1\n")
    r = run_main("compare", tiny_yaml, own, other, "-n", "2", "--json")
    assert r.code == 0, r.stderr
    notes = {a["name"]: a["notes"] for a in json.loads(r.stdout)["arms"]}
    assert not any("base is" in n for n in notes["own"])
    assert notes["other"][0] == f"its file's base is ortho.yaml; run on {tiny_yaml} as given"
    r = run_main("compare", tiny_yaml, other, "-n", "2")
    assert f"its file's base is ortho.yaml; run on {tiny_yaml} as given" in " ".join(r.stdout.split())


def test_compare_cli_bad_variant_one_line(tmp_path):
    bad = tmp_path / "v.yaml"
    bad.write_text("name: x\nproviders_off: {dr_nobody: [fri]}\n")
    out = tmp_path / "out"
    res = run_cli("compare", FAMILY, bad, "-n", "3", "--out", out)
    assert res.code == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().startswith(
        f"error: {bad}: providers_off.dr_nobody: unknown provider 'dr_nobody'"
    )
    assert not out.exists()


def test_progress_bar_with_worker_pool(tiny):
    # the bar starts after the pool has forked; results that arrive first are counted, not lost
    from clinicflow.sim import simulate

    res = simulate(tiny, replications=6, workers=2, progress=True, seed=2)
    assert len(res.per_replication) == 6


@pytest.mark.parametrize("policy", ["evenly_spaced", "bailey_welch", "optimized"])
def test_template_policies_give_valid_schedules(tiny, policy):
    from clinicflow.domain.schedule import validate_schedule
    from clinicflow.whatif.schedules import schedule_for

    sched = schedule_for(tiny, policy)
    assert len(sched) > 0
    # every slot inside its provider's session and of a type the provider sees
    for r in sched.itertuples():
        sessions = tiny.provider(r.provider).sessions[r.weekday]
        assert any(s.start <= r.start_min < s.end for s in sessions)
        assert r.appointment_type in tiny.provider(r.provider).appointment_types
    raw = sched[["date", "provider", "start", "end", "appointment_type", "kind"]].assign(
        date=sched["date"].map(lambda d: d.isoformat())
    )
    validate_schedule(raw, tiny)


def test_policy_and_overbooking_variants_are_replanned(tiny):
    opt = Variant(name="optimized", template_policy="optimized")
    ob = Variant(name="overbooking", overbooking=True)
    assert not opt.is_identity and not ob.is_identity
    comp = compare(tiny, [("optimized", opt, tiny), ("overbooking", ob, tiny)], replications=4, seed=1)
    assert [a.replanned for a in comp.variants] == [True, True]
    assert [a.policy for a in comp.variants] == ["optimized", "optimized"]


def test_paired_ci_narrower_on_the_example_practice_itself(family):
    v = Variant(name="reminders", no_show_scale=0.7)
    comp = compare(family, [("reminders", v, apply_variant(family, v))], replications=12, seed=4)
    t = comp.table()
    for kpi in ("mean_wait_min", "provider_idle_min", "cost"):
        r = t[(t["arm"] == "reminders") & (t["kpi"] == kpi)].iloc[0]
        assert (r["diff_high"] - r["diff_low"]) < 0.6 * (r["unpaired_high"] - r["unpaired_low"]), kpi


# ---------------------------------------------------------------------------------------------
# compare --schedule: the practice's own week as the base


def _week_file(tiny, tmp_path, monday):
    """The evenly spaced week of ``monday`` written as a schedule file and read back, as a practice
    exporting its current template would hand it over."""
    from clinicflow.domain.schedule import read_schedule_csv, write_schedule_csv
    from clinicflow.policies import evenly_spaced_schedule

    path = tmp_path / "current.csv"
    write_schedule_csv(evenly_spaced_schedule(tiny, monday), path)
    return path, read_schedule_csv(path, tiny)


def test_schedule_file_base_keeps_its_week_for_every_arm(tiny, tmp_path):
    import datetime as dt

    from clinicflow.sim import simulate
    from clinicflow.whatif.schedules import schedule_for

    monday = dt.date(2026, 11, 30)
    path, current = _week_file(tiny, tmp_path, monday)
    same = Variant(name="same")
    room = Variant(name="one more room", extra_rooms=1)
    off = Variant(name="doc off tuesday", providers_off={"doc": ["tue"]})
    opt = Variant(name="optimized", template_policy="optimized")
    arms = [(v.name, v, apply_variant(tiny, v)) for v in (same, room, off, opt)]
    comp = compare(tiny, arms, replications=6, seed=4, schedule=current, schedule_name=str(path))
    base, _, a_room, a_off, a_opt = comp.arms
    assert base.policy == str(path) and not base.replanned

    def per_rep(scenario, schedule):
        return simulate(scenario, schedule, replications=6, seed=4).per_replication

    # the base runs the file itself, exactly
    assert base.result.per_replication.equals(per_rep(tiny, current))
    assert (_row(comp, "same", "cost")["diff"], _row(comp, "same", "cost")["diff_high"]) == (0.0, 0.0)
    # a capacity change keeps the file's schedule: no rule made it, so none re-makes it
    assert not a_room.replanned and a_room.notes == ["schedule kept from the schedule file"]
    assert a_room.result.per_replication.equals(per_rep(arms[1][2], current))
    # ... less the slots of a provider who no longer works then, counted in words
    tuesday = int((current["weekday"] == "tue").sum())
    assert tuesday > 0
    assert a_off.notes == [
        f"{tuesday} slots dropped: their provider no longer works then",
        "schedule kept from the schedule file",
    ]
    # a variant naming a policy is planned for the file's week (its patients' streams are keyed by date)
    assert a_opt.replanned and a_opt.policy == "optimized"
    planned = schedule_for(tiny, "optimized", None, monday)
    assert set(planned["date"]) <= {monday, monday + dt.timedelta(days=1)}
    assert a_opt.result.per_replication.equals(per_rep(tiny, planned))


def test_compare_cli_schedule_file(tiny, tiny_yaml, tmp_path):
    import datetime as dt

    path, _ = _week_file(tiny, tmp_path, dt.date(2026, 11, 30))
    rooms = tmp_path / "rooms.yaml"
    rooms.write_text("name: One more room\nextra_rooms: 1\n")
    opt = tmp_path / "opt.yaml"
    opt.write_text("name: Planner's week\ntemplate_policy: optimized\n")
    res = run_cli(
        "compare",
        "tiny.yaml",
        "rooms.yaml",
        "opt.yaml",
        "--schedule",
        path.name,
        "-n",
        "4",
        "--seed",
        "2",
        cwd=tmp_path,
    )
    assert res.code == 0, res.stderr
    assert "One more room vs base (tiny): 4 replications, seed 2, schedule current.csv" in " ".join(
        res.stdout.split()
    )
    assert "  One more room: schedule kept from the schedule file\n" in res.stdout
    assert "  Planner's week: planned with optimized\n" in res.stdout


@pytest.mark.parametrize("problem", ["policy", "two weeks", "unknown provider"])
def test_compare_cli_schedule_file_bad_input_one_line(tiny, tiny_yaml, tmp_path, problem):
    import datetime as dt

    path, _ = _week_file(tiny, tmp_path, dt.date(2026, 11, 30))
    rooms = tmp_path / "rooms.yaml"
    rooms.write_text("name: One more room\nextra_rooms: 1\n")
    extra = []
    if problem == "policy":
        extra, expected = (
            ["--policy", "optimized"],
            (
                "error: --policy: not used with --schedule (the base runs the file; a variant names its own "
                "template_policy)"
            ),
        )
    elif problem == "two weeks":
        text = path.read_text().replace("2026-12-01", "2026-12-08")
        path.write_text(text)
        expected = f"error: {path}: date: expected the dates of one week (Monday to Sunday), got 2026-11-30 to 2026-12-08"
    else:
        lines = path.read_text().splitlines()
        lines[1] = lines[1].replace(",doc,", ",dr_who,")
        path.write_text("\n".join(lines) + "\n")
        expected = f"error: {path}: row 2, column provider: unknown provider 'dr_who' (expected one of: doc)"
    out = tmp_path / "out"
    res = run_cli("compare", tiny_yaml, rooms, "--schedule", path, *extra, "--out", out)
    assert res.code == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().startswith(expected), res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_reminders_reach_patients_scored_in_a_schedule_file(tiny, tmp_path):
    """A schedule's own ``no_show_prob`` (a patient's score, or a rate an export wrote) overrides the
    scenario's type rate, so a variant's ``no_show_scale`` must scale it too: before, reminders
    changed nothing at all on a planned or scored week."""
    import datetime as dt

    from clinicflow.sim import simulate
    from clinicflow.whatif.sweep import sweep

    _, current = _week_file(tiny, tmp_path, dt.date(2026, 11, 30))
    scored = current.copy()
    scored["no_show_prob"] = 0.5  # every patient scored as likely to miss as to come
    halved = scored.assign(no_show_prob=0.25)
    reminders = Variant(name="reminders", no_show_scale=0.5)
    scen = apply_variant(tiny, reminders)
    comp = compare(tiny, [("reminders", reminders, scen)], replications=8, seed=3, schedule=scored)
    base, arm = comp.arms
    assert base.result.per_replication.equals(simulate(tiny, scored, replications=8, seed=3).per_replication)
    assert arm.result.per_replication.equals(simulate(scen, halved, replications=8, seed=3).per_replication)
    seen = _row(comp, "reminders", "patients_seen")
    assert seen["diff_low"] > 0  # more patients come: the scores were scaled, not ignored
    assert scored["no_show_prob"].eq(0.5).all()  # the caller's schedule is left as it was
    # the sweep's no-show knob on a schedule file scales the scores at every point in the same way
    res = sweep(tiny, [("noshow", [0.5, 1.0])], replications=8, seed=3, schedule=scored)
    point = res.table.set_index("noshow").loc[0.5]
    per = simulate(scen, halved, replications=8, seed=3).per_replication
    assert point["patients_seen"] == pytest.approx(per["patients_seen"].mean())


def test_a_session_added_to_a_kept_schedule_file_is_named_as_empty(tiny, tmp_path):
    """A schedule file fixes the week's slots: a session the variant adds gets no patient, which the
    arm says instead of showing a staff cost that rises with nothing else moving."""
    import datetime as dt

    _, current = _week_file(tiny, tmp_path, dt.date(2026, 11, 30))
    more = Variant(name="doc mon pm", extra_sessions={"doc": {"mon": [{"start": "13:00", "end": "16:00"}]}})
    comp = compare(
        tiny, [(more.name, more, apply_variant(tiny, more))], replications=3, seed=1, schedule=current
    )
    assert comp.arms[1].notes == [
        "1 session(s) without a slot in the kept schedule (doc mon): it fixes the week's slots; a variant "
        "naming a template_policy plans them",
        "schedule kept from the schedule file",
    ]
    assert _row(comp, "doc mon pm", "patients_seen")["diff"] == 0.0


def test_targeted_reminders_call_the_patients_most_likely_to_miss(tiny, tmp_path):
    """``targeted_reminders`` scales the scores of the top share of scored booked patients only; the
    arm is exactly the week with those scores scaled, and says whom it called."""
    import datetime as dt

    from clinicflow import InputError
    from clinicflow.sim import simulate

    _, current = _week_file(tiny, tmp_path, dt.date(2026, 11, 30))
    scored = booked_week(current, scores=(0.6, 0.05))
    rows = scored.index[scored["kind"] == "booked"]
    k = round(0.25 * len(rows))
    top = scored.loc[rows, "no_show_prob"].astype(float).nlargest(k).index
    expected = scored.copy()
    expected.loc[top, "no_show_prob"] = expected.loc[top, "no_show_prob"].astype(float) * 0.5
    calls = Variant(name="calls", targeted_reminders={"share": 0.25, "no_show_scale": 0.5, "minutes_each": 4})
    comp = compare(
        tiny, [("calls", calls, apply_variant(tiny, calls))], replications=8, seed=3, schedule=scored
    )
    arm = comp.arms[1]
    assert arm.result.per_replication.equals(simulate(tiny, expected, replications=8, seed=3).per_replication)
    lo, hi = scored.loc[top, "no_show_prob"].min(), scored.loc[top, "no_show_prob"].max()
    assert arm.notes[0] == (
        f"reminder calls to the {k} of {len(rows)} scored booked patients most likely to miss "
        f"(scores {lo:.2f}–{hi:.2f})"
    )
    assert hi == 0.6 and _row(comp, "calls", "patients_seen")["diff_low"] > 0
    # the calls are desk time, priced at the desk's hourly cost
    rate = tiny.staff.front_desk.hourly_cost
    assert _row(comp, "calls", "staff_cost_week")["diff"] == pytest.approx(k * 4 / 60 * rate)
    assert (
        arm.notes[-1]
        == f"{k} calls × 4 min at the front desk's ${rate:g}/h: ${k * 4 / 60 * rate:,.0f} a week"
    )
    # a week without scores (or without booked patients) is refused before anything runs
    with pytest.raises(InputError) as e:
        compare(
            tiny, [("calls", calls, apply_variant(tiny, calls))], replications=2, seed=3, schedule=current
        )
    assert str(e.value) == (
        "calls: targeted_reminders: needs a week whose booked patients carry their no_show_prob scores "
        "(compare --schedule a week planned with scored requests, or scored by calibrate --schedule)"
    )


def test_compare_cli_reminder_calls_need_a_scored_week(family, tmp_path):
    """The bundled reminder-calls variant: one line naming its file without a scored week; with one,
    the arm says whom it called."""
    import datetime as dt

    from clinicflow.domain.schedule import write_schedule_csv
    from clinicflow.policies import evenly_spaced_schedule

    calls = ROOT / "scenarios" / "variants" / "reminder-calls.yaml"
    r = run_cli("compare", FAMILY, calls, "-n", "2")
    assert r.code == 2 and r.stderr.strip() == (
        f"error: {calls}: targeted_reminders: needs --schedule: a week whose booked patients carry their "
        "no_show_prob scores"
    )
    week = evenly_spaced_schedule(family, dt.date(2026, 11, 30)).copy()
    unscored = tmp_path / "week.csv"
    write_schedule_csv(week, unscored)
    r = run_cli("compare", FAMILY, calls, "-n", "2", "--schedule", unscored)
    assert r.code == 2 and "targeted_reminders: needs a week whose booked patients carry" in r.stderr
    scored = tmp_path / "scored.csv"
    write_schedule_csv(booked_week(week, 80, scores=(0.02, 0.8)), scored)
    r = run_cli("compare", FAMILY, calls, "-n", "3", "--schedule", scored)
    assert r.code == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert (
        "reminder calls to the 20 of 80 scored booked patients most likely to miss (scores 0.61–0.80)" in text
    )
    assert f"20 calls × 3 min at the front desk's ${family.staff.front_desk.hourly_cost:g}/h" in text


def test_a_planning_arm_reports_the_planners_progress(tiny):
    """compare's plan_progress hears the planner's stages while a variant's week is planned (the
    dashboard's What-if page draws its bar from them); an arm that plans nothing reports nothing."""
    from clinicflow.whatif import schedules

    schedules._PLANS.clear()  # a week planned by another test would be served from the cache, silently
    heard: list[tuple[str, int, int]] = []

    def hear(stage: str, done: int, total: int) -> None:
        heard.append((stage, done, total))

    same = Variant(name="same")
    compare(tiny, [("same", same, apply_variant(tiny, same))], replications=2, seed=1, plan_progress=hear)
    assert heard == []
    planned = Variant(name="planned", template_policy="optimized")
    compare(
        tiny, [("planned", planned, apply_variant(tiny, planned))], replications=2, seed=1, plan_progress=hear
    )
    stages = [s for s, _, _ in heard]
    assert stages[0] == "template" and "timing" in stages
    # timed block by block: Monday's session is cut by its break, so three blocks in all
    assert [(d, t) for s, d, t in heard if s == "timing"] == [(1, 3), (2, 3), (3, 3)]


def test_the_cli_planning_bar_comes_down_before_the_simulation_bar(tiny):
    """``clinicflow compare``'s planning bar (on a terminal) is drawn on each report and down once
    the last session is timed: the simulator's bar that follows is the only live display (rich
    allows one), and the pool it forks finds no refresh thread. A late report (a re-timed day) or a
    stage it does not know draws nothing; the next plan's template report draws it again."""
    import io
    import threading

    from rich.console import Console

    from clinicflow.cli._console import PlanningBar
    from clinicflow.sim import simulate

    out = io.StringIO()
    bar = PlanningBar(Console(file=out, force_terminal=True, width=100))
    threads = threading.active_count()
    for report in [("template", 0, 1), ("template", 1, 1), ("timing", 1, 3), ("timing", 2, 3)]:
        bar(*report)
        assert bar._bar is not None
    assert threading.active_count() == threads  # no refresh thread
    bar("timing", 3, 3)
    assert bar._bar is None
    bar("timing", 4, 3)
    bar("booking", 0, 1)
    assert bar._bar is None
    assert "planning: template (CP-SAT)" in out.getvalue()
    assert "planning: slot timing per session" in out.getvalue() and "3/3" in out.getvalue()
    assert len(simulate(tiny, replications=4, workers=2, progress=True, seed=2).per_replication) == 4
    bar("template", 0, 1)
    assert bar._bar is not None
    bar.close()
    assert bar._bar is None


def test_the_comparison_is_written_the_same_for_the_terminal_and_the_dashboard():
    """``whatif.display``: percentages for utilizations, whole currency units for pay, one decimal
    otherwise; ``≈0`` where the interval holds 0, never on an exact difference (``+0.0`` says it);
    the KPIs in the reading order, then the table's others, none dropped."""
    import pandas as pd

    from clinicflow.whatif.display import comparison_frame

    def rows(kpi, base, var, d, lo, hi):
        return [
            {"arm": "base", "kpi": kpi, "mean": base},
            {
                "arm": "v",
                "kpi": kpi,
                "mean": var,
                "diff": d,
                "diff_low": lo,
                "diff_high": hi,
                "zero_in_ci": lo <= 0 <= hi,
            },
        ]

    table = pd.DataFrame(
        rows("no_shows", 60.9, 58.1, -2.8, -3.5, -2.1)
        + rows("staff_cost_week", 26552.0, 25606.5, -945.5, -945.5, -945.5)
        + rows("ma_utilization", 0.194, 0.175, -0.0185, -0.019, -0.018)
        + rows("mean_wait_min", 12.04, 12.05, 0.01, -0.02, 0.04)
        + rows("provider_overtime_min", 32.5, 32.5, 0.0, 0.0, 0.0)
    )
    f = comparison_frame(table, "base", "v", labels={"mean_wait_min": "mean wait (min)"})
    assert f.to_dict("records") == [
        {
            "KPI": "mean wait (min)",
            "base": "12.0",
            "variant": "12.1",
            "paired Δ [95% CI]": "+0.0 [-0.0, +0.0]",
            "≈0": "≈0",
        },
        {
            "KPI": "provider_overtime_min",
            "base": "32.5",
            "variant": "32.5",
            "paired Δ [95% CI]": "+0.0",
            "≈0": "",
        },
        {
            "KPI": "ma_utilization",
            "base": "19.4%",
            "variant": "17.5%",
            "paired Δ [95% CI]": "-1.8% [-1.9%, -1.8%]",
            "≈0": "",
        },
        {
            "KPI": "staff_cost_week",
            "base": "$26,552",
            "variant": "$25,606",
            "paired Δ [95% CI]": "-946",
            "≈0": "",
        },
        {
            "KPI": "no_shows",
            "base": "60.9",
            "variant": "58.1",
            "paired Δ [95% CI]": "-2.8 [-3.5, -2.1]",
            "≈0": "",
        },
    ]
