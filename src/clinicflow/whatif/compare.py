"""Paired comparison of variants against a base, with common random numbers.

Every arm is simulated on the same seed. Because a patient's draws are keyed by the patient (see
``clinicflow.streams``), replication ``r`` of the base and of a variant see the same patients with the
same punctuality, show/no-show and durations; the per-replication difference removes that shared noise,
and its t interval is the honest — and much narrower — measure of the change. The unpaired (Welch)
interval is reported beside it so the gain is visible.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..domain import Scenario
from ..domain.capacity import weekly_staff_cost
from ..domain.clock import weekday_of
from ..errors import InputError
from ..sim import KPIS, REFERENCE_WEEK, SimulationResult, simulate
from ..stats import mean_ci, welch_ci
from .schedules import PlanProgress, schedule_for
from .variants import Variant, reminder_calls, schedule_under


def _kpi_row(arm: str, kpi: str, v: pd.Series, b: pd.Series | None) -> dict:
    """An arm's mean and 95% CI of one KPI over its replications and, against the base's values
    ``b``, the paired difference replication by replication (common random numbers), its CI, the
    unpaired (Welch) interval beside it, and whether the paired interval holds 0."""
    m, lo, hi, *_ = mean_ci(v.to_numpy(dtype=float))
    row = {"arm": arm, "kpi": kpi, "mean": m, "ci_low": lo, "ci_high": hi}
    if b is not None:
        common = b.index.intersection(v.index)
        d = v.loc[common].to_numpy(dtype=float) - b.loc[common].to_numpy(dtype=float)
        dm, dlo, dhi, *_ = mean_ci(d)
        ulo, uhi = welch_ci(b.to_numpy(dtype=float), v.to_numpy(dtype=float))
        row.update(
            diff=dm,
            diff_low=dlo,
            diff_high=dhi,
            unpaired_low=ulo,
            unpaired_high=uhi,
            zero_in_ci=bool(np.isnan(dlo) or (dlo <= 0 <= dhi)),
        )
    return row


@dataclass
class Arm:
    """One simulated scenario of a comparison."""

    name: str
    scenario: Scenario
    variant: Variant | None
    policy: str
    replanned: bool
    result: SimulationResult
    staff_cost: dict[str, float]
    notes: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    base: Arm
    variants: list[Arm]
    seed: int
    replications: int

    @property
    def arms(self) -> list[Arm]:
        return [self.base, *self.variants]

    def table(self, kpis: Sequence[str] = KPIS) -> pd.DataFrame:
        """Long table: one row per (arm, KPI) with the arm's mean and CI and the paired difference to the base
        (``diff``, ``diff_low``, ``diff_high``), the unpaired interval, and ``zero_in_ci``."""
        rows = []
        b = self.base.result.per_replication.set_index("replication")
        base_staff = self.base.staff_cost["total"]
        for arm in self.arms:
            v = arm.result.per_replication.set_index("replication")
            paired = arm is not self.base
            for k in kpis:
                rows.append(_kpi_row(arm.name, k, v[k], b[k] if paired else None))
            staff = arm.staff_cost["total"]  # exact: no interval
            row = {
                "arm": arm.name,
                "kpi": "staff_cost_week",
                "mean": staff,
                "ci_low": staff,
                "ci_high": staff,
            }
            if paired:
                delta = staff - base_staff
                row.update(diff=delta, diff_low=delta, diff_high=delta, zero_in_ci=delta == 0)
            rows.append(row)
            # the week's pay with what its late days add: scheduled staff cost (fixed per arm) plus
            # the simulated overtime pay, so a cheaper staffing that keeps everyone late shows its cost
            rows.append(
                _kpi_row(
                    arm.name,
                    "labour_cost_week",
                    staff + v["overtime_pay"],
                    base_staff + b["overtime_pay"] if paired else None,
                )
            )
        return pd.DataFrame(rows)

    def to_json_dict(self) -> dict:
        t = self.table()

        def num(x):
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

        out = {"seed": self.seed, "replications": self.replications, "base": self.base.name, "arms": []}
        for arm in self.arms:
            part = t[t["arm"] == arm.name]
            kp = {}
            for r in part.itertuples():
                entry = {"mean": num(r.mean), "ci95": [num(r.ci_low), num(r.ci_high)]}
                if arm is not self.base:
                    entry["diff"] = {
                        "mean": num(r.diff),
                        "ci95": [num(r.diff_low), num(r.diff_high)],
                        "unpaired_ci95": [
                            num(getattr(r, "unpaired_low", None)),
                            num(getattr(r, "unpaired_high", None)),
                        ],
                        "zero_in_ci": bool(r.zero_in_ci),
                    }
                kp[r.kpi] = entry
            out["arms"].append(
                {
                    "name": arm.name,
                    "policy": arm.policy,
                    "replanned": arm.replanned,
                    "staff_cost_week": arm.staff_cost,
                    "notes": arm.notes,
                    "kpis": kp,
                }
            )
        return out


def run_arm(
    name: str,
    scenario: Scenario,
    variant: Variant | None,
    *,
    base_schedule: pd.DataFrame | None,
    base_policy: str,
    replications: int,
    seed: int,
    workers: int = 1,
    cluster=None,
    progress: bool = False,
    week: dt.date = REFERENCE_WEEK,
    from_file: bool = False,
    plan_progress: PlanProgress | None = None,
) -> Arm:
    """Schedule (re-planned if the variant changes capacity, or kept with a flag) and simulate one arm.

    With ``from_file`` the base schedule is the practice's own (``compare --schedule``): no rule made it,
    so no rule can re-make it for new capacity. A variant keeps it (less the slots of providers who no
    longer work then) unless it names a ``template_policy`` or ``overbooking``, and is then planned for
    the file's week.
    """
    policy = (variant.template_policy if variant is not None else None) or base_policy
    overbooking = variant.overbooking if variant is not None else None
    if overbooking is not None and policy in ("evenly_spaced", base_policy if from_file else None):
        policy = "optimized"  # overbooking is a planner decision: the evenly spaced rule never double-books
    notes: list[str] = []
    named = variant is not None and variant.template_policy is not None
    # a file is never "the same plan" as a policy, even one whose name the file's label happens to be
    same_plan = policy == base_policy and overbooking is None and not (from_file and named)
    if variant is None or (not variant.changes_capacity and same_plan):
        schedule, replanned = base_schedule, False  # same schedule: differences come from the variant alone
    elif not same_plan or (variant.replan and not from_file):
        schedule, replanned = schedule_for(scenario, policy, overbooking, week, plan_progress), True
    else:
        schedule, replanned = _keep_schedule(scenario, base_schedule, notes), False
        notes.append(f"schedule kept from the {'schedule file' if from_file else 'base (replan: false)'}")
    if not replanned:
        schedule = schedule_under(variant, schedule, notes)
    elif variant is not None and variant.targeted_reminders is not None:
        schedule = schedule_under(
            variant, schedule, notes
        )  # a re-planned week has no booked patient: refused
    result = simulate(
        scenario,
        schedule,
        replications=replications,
        seed=seed,
        workers=workers,
        cluster=cluster,
        progress=progress,
    )
    notes.extend(result.warnings)  # a staffing hole is read as such, not as a scheduling effect
    return Arm(
        name,
        scenario,
        variant,
        policy,
        replanned,
        result,
        _staff_cost(scenario, variant, schedule, notes, week),
        notes,
    )


def _staff_cost(
    scenario: Scenario, variant: Variant | None, schedule: pd.DataFrame, notes: list[str], week: dt.date
) -> dict:
    """The week's staff cost, with targeted reminder calls priced at the front desk's hourly cost:
    the calls are desk time the practice spends on them, so they sit on the cost side beside the
    patients they bring."""
    cost = weekly_staff_cost(scenario, week)
    t = variant.targeted_reminders if variant is not None else None
    if t is None or not t.minutes_each:
        return cost
    calls = reminder_calls(variant, schedule)
    rate = scenario.staff.front_desk.hourly_cost
    price = round(calls * t.minutes_each / 60 * rate, 2)
    notes.append(
        f"{calls} calls × {t.minutes_each:g} min at the front desk's ${rate:g}/h: ${price:,.0f} a week"
    )
    return {**cost, "reminder_calls": price, "total": round(cost["total"] + price, 2)}


def _keep_schedule(scenario: Scenario, schedule: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """The base schedule less slots the variant's providers no longer work (a provider off on Friday)."""
    keep = []
    provs = scenario.provider_by_id
    worked: dict[tuple, list] = {}  # (provider, date) -> sessions: once, not per row
    for r in schedule.itertuples():
        if (r.provider, r.date) not in worked:
            p = provs.get(r.provider)
            worked[(r.provider, r.date)] = scenario.sessions_on(p, r.date) if p else []
        keep.append(any(s.start <= r.start_min and r.end_min <= s.end for s in worked[(r.provider, r.date)]))
    mask = np.array(keep, dtype=bool)
    dropped = int((~mask).sum())
    if dropped:
        notes.append(f"{dropped} slots dropped: their provider no longer works then")
    kept = schedule[mask].reset_index(drop=True)
    # A kept week has the file's slots only: a session the variant adds gets no patient, so say so
    # rather than let staff cost rise with nothing else moving, unexplained.
    on = {weekday_of(d): d for d in set(schedule["date"])}  # the week's date of each weekday
    empty = [
        f"{p.id} {day}"
        for p in scenario.providers
        for day, sessions in p.sessions.items()
        for s in (scenario.sessions_on(p, on[day]) if day in on else sessions)
        if not (
            (kept["provider"] == p.id)
            & (kept["weekday"] == day)
            & (kept["start_min"] >= s.start)
            & (kept["end_min"] <= s.end)
        ).any()
    ]
    if empty:
        notes.append(
            f"{len(empty)} session(s) without a slot in the kept schedule ({', '.join(empty[:4])}"
            f"{', …' if len(empty) > 4 else ''}): it fixes the week's slots; a variant naming a "
            "template_policy plans them"
        )
    return kept


def compare(
    base: Scenario,
    variants: Sequence[tuple[str, Variant, Scenario]],
    *,
    base_name: str = "base",
    policy: str = "evenly_spaced",
    replications: int = 30,
    seed: int = 0,
    workers: int = 1,
    cluster=None,
    progress: bool = False,
    schedule: pd.DataFrame | None = None,
    schedule_name: str = "schedule file",
    plan_progress: PlanProgress | None = None,
) -> Comparison:
    """Simulate the base and each variant on the same seed; differences are paired (common random numbers).

    ``schedule`` (a validated schedule of one week, e.g. the practice's current template or a
    ``plan`` output) replaces the base's ``policy``: the base runs it, and ``schedule_name`` labels
    that policy in the results. ``plan_progress`` hears the planner's stages while an arm's week is
    planned (``schedule_for``), the long wait of a comparison with a planning policy.
    """
    if schedule is not None:
        week = one_week(schedule, schedule_name)
        base_schedule, policy = schedule, schedule_name
    else:
        week, base_schedule = REFERENCE_WEEK, schedule_for(base, policy, None, progress=plan_progress)
    # every arm runs on the same seed, replications and workers: that is what pairs them
    common = dict(
        base_schedule=base_schedule,
        base_policy=policy,
        replications=replications,
        seed=seed,
        workers=workers,
        cluster=cluster,
        progress=progress,
        week=week,
        from_file=schedule is not None,
        plan_progress=plan_progress,
    )
    for name, v, _scen in variants:  # refused before anything is simulated
        if v.targeted_reminders is not None:
            try:
                schedule_under(v, base_schedule)
            except InputError as err:
                raise InputError(err.file, f"{name}: {err.where}", err.message) from None
    base_arm = run_arm(base_name, base, None, **common)
    arms = [run_arm(name, scen, v, **common) for name, v, scen in variants]
    return Comparison(base_arm, arms, seed, replications)


def one_week(schedule: pd.DataFrame, name: str) -> dt.date:
    """The Monday of the schedule's week. A variant planned to compare with it is planned for that
    week, so the schedule must not span two."""
    dates = sorted(set(schedule["date"]))
    monday = dates[0] - dt.timedelta(days=dates[0].weekday())
    if dates[-1] > monday + dt.timedelta(days=6):
        raise InputError(
            name, "date", f"expected the dates of one week (Monday to Sunday), got {dates[0]} to {dates[-1]}"
        )
    return monday
