"""What a plan will do: its KPIs beside two timing baselines, on seeds not used for optimizing.

Sits above the solver and the simulator. With the simulator (``clinicflow.sim.simulate``) each
replication is a simulated week of the whole clinic (punctuality, rooming, shared rooms and MAs,
walk-ins); without it, the SAA recursion of ``solver.saa`` is run on fresh samples under the
clinic's service rule (ready patient first), each schedule's holds filled by the same walk-ins at its
own hold times (``solver.holds``). Either way
the three schedules meet the same random numbers (common random numbers), so differences are
paired and their confidence intervals are tight.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .solver.baselines import RULES, baseline_schedule, baseline_starts
from .solver.holds import day_walk_ins
from .solver.plan import PlanResult, block_rng, ends_session, walk_in_rng
from .solver.saa import evaluate
from .solver.timing import block_samples
from .stats import mean_ci as stats_mean_ci

HELDOUT_STREAM = "saa-heldout"
HELDOUT_OFFSET = 1_000_003  # evaluation seed = optimizing seed + this: never the optimizer's draws
KPIS = ("cost", "total_wait_min", "provider_idle_min", "provider_overtime_min")
SCHEDULES = ("plan", *RULES)


def mean_ci(x: np.ndarray, level: float = 0.95) -> dict:
    """``clinicflow.stats.mean_ci`` as a JSON-ready dict (a single value gives a zero-width interval)."""
    r = stats_mean_ci(x, level)
    if r.n < 2:
        return {"mean": r.mean, "ci_low": r.mean, "ci_high": r.mean}
    return {"mean": r.mean, "ci_low": r.low, "ci_high": r.high}


@dataclass(frozen=True)
class PlanKpis:
    evaluator: str
    seed: int
    replications: int
    per_replication: dict  # schedule -> DataFrame with KPIS columns
    #: the plan's provider-sessions in the simulator (``SimulationResult.session_table``): how
    #: often each runs late, when its last visit ends; None from the SAA evaluator
    sessions: pd.DataFrame | None = field(default=None, compare=False)

    def summary(self) -> dict:
        out = {}
        for name, df in self.per_replication.items():
            out[name] = {k: mean_ci(df[k].to_numpy()) for k in KPIS}
        return out

    def reduction(self, baseline: str) -> dict:
        """The plan's cost reduction against ``baseline``: paired mean difference and relative change."""
        p = self.per_replication["plan"]["cost"].to_numpy()
        b = self.per_replication[baseline]["cost"].to_numpy()
        diff = mean_ci(b - p)
        return {
            "cost_saved": diff,
            "relative": diff["mean"] / float(b.mean()) if b.mean() else 0.0,
        }

    def as_dict(self) -> dict:
        return {
            "evaluator": self.evaluator,
            "seed": self.seed,
            "replications": self.replications,
            "kpis": self.summary(),
            "plan_vs": {b: self.reduction(b) for b in RULES},
            "notes": (
                "cost = wait_per_min × patient wait + idle_per_min × provider idle (waiting for a patient "
                "still to come, until the session's last visit ends) + "
                "overtime_per_min × overtime, summed over the week; 95% t-intervals over replications; "
                "evaluation seeds differ from the optimizer's."
            ),
        }


def _saa_kpis(plan: PlanResult, replications: int, seed: int) -> dict:
    s = plan.scenario
    starts = {"plan": {(tb.session.key, tb.block.start): tb.starts for tb in plan.blocks}}
    for rule in RULES:
        starts[rule] = baseline_starts(plan, rule)
    totals = {n: {k: np.zeros(replications) for k in KPIS} for n in starts}
    # each schedule's holds meet the same walk-ins, filled by the clinic's rule at its own hold times
    # (and the walk-ins who find none join a provider on duty, as in the clinic)
    walk_ins, unheld = {}, {}
    for name, st in starts.items():
        walk_ins[name], unheld[name] = {}, {}
        for date in sorted({tb.session.date for tb in plan.blocks}):
            day = [
                (tb.session, tb.block, tb.slots, st[(tb.session.key, tb.block.start)])
                for tb in plan.blocks
                if tb.session.date == date
            ]
            rng = walk_in_rng(seed, HELDOUT_STREAM, date)
            held, extra = day_walk_ins(s, day, replications, rng)
            walk_ins[name].update(held)
            unheld[name].update(extra)
    for tb in plan.blocks:
        to_last = ends_session(plan.blocks, tb)
        if not tb.slots:  # no patients: idle only when the provider waits for later ones (break)
            idle = 0.0 if to_last else float(tb.block.end - tb.block.start)
            for name in starts:
                totals[name]["provider_idle_min"] += idle
                totals[name]["cost"] += s.costs.idle_per_min * idle
            continue
        key = (tb.session.key, tb.block.start)
        for name, st in starts.items():
            rng = block_rng(seed, HELDOUT_STREAM, tb.session, tb.block)
            smp = block_samples(
                s, tb.session, tb.slots, replications, rng, walk_ins[name].get(key), unheld[name].get(key)
            )
            a = np.array(st[key])
            ev = evaluate(
                a,
                smp,
                tb.block.start,
                tb.block.end,
                s.costs,
                to_last=to_last,
                ready_first=True,
                rooms_at_once=s.provider_by_id[tb.session.provider].rooms_at_once,
            )
            totals[name]["cost"] += ev.cost
            totals[name]["total_wait_min"] += ev.wait
            totals[name]["provider_idle_min"] += ev.idle
            totals[name]["provider_overtime_min"] += ev.overtime
    return {n: pd.DataFrame(v) for n, v in totals.items()}


def simulator_available() -> bool:
    try:
        from .sim import simulate  # noqa: F401
    except ImportError:
        return False
    return True


def plan_kpis(
    plan: PlanResult,
    *,
    replications: int = 30,
    seed: int | None = None,
    evaluator: str = "auto",
    workers: int = 1,
) -> PlanKpis:
    """KPIs of the plan and both baselines. ``evaluator``: "sim", "saa" or "auto" (sim when present).
    ``workers`` processes run the simulator's replications: the same numbers for any count
    (``clinicflow.sim.simulate``), so ``plan`` uses its 2 cores here too (at 8x the family practice
    the evaluation took 10 s on one)."""
    eval_seed = (plan.seed + HELDOUT_OFFSET) if seed is None else seed
    use_sim = evaluator == "sim" or (evaluator == "auto" and simulator_available())
    if not use_sim:
        return PlanKpis("saa-recursion", eval_seed, replications, _saa_kpis(plan, replications, eval_seed))
    from .sim import simulate

    per = {}
    sessions = None
    frames = {"plan": plan.schedule} | {rule: baseline_schedule(plan, rule) for rule in RULES}
    for name, frame in frames.items():
        res = simulate(plan.scenario, frame, replications=replications, seed=eval_seed, workers=workers)
        per[name] = res.per_replication[list(KPIS)].reset_index(drop=True)
        if name == "plan":
            sessions = res.session_table()
    return PlanKpis("clinicflow.sim.simulate", eval_seed, replications, per, sessions)
