"""Which schedule an arm of a comparison runs: the template policy, applied to the arm's own scenario.

``evenly_spaced`` fills every session back to back at the types' scheduled lengths (what a practice
without a planner does); ``optimized`` is the planner's week (CP-SAT template + slot timing under
uncertainty); ``bailey_welch`` is the planner's template timed by the Bailey-Welch rule (two patients
at the session start, then one per mean duration). Planned weeks are cached per scenario, so a
comparison plans each distinct practice once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from ..domain import Scenario
from ..errors import InputError
from ..policies import POLICIES, evenly_spaced_schedule
from ..sim import REFERENCE_WEEK

PLAN_TIME_LIMIT = 30.0


_PLANS: dict[tuple[str, bool | None, dt.date], object] = {}


#: ``plan_week``'s progress callback: (stage, done, total), stages "template" and "timing"
PlanProgress = Callable[[str, int, int], None]


def _planned(
    scenario: Scenario, overbooking: bool | None, week: dt.date, progress: PlanProgress | None = None
):
    from ..solver.plan import plan_week

    key = (scenario.model_dump_json(), overbooking, week)
    if key not in _PLANS:
        if len(_PLANS) >= 8:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan_week(
            scenario, week, time_limit=PLAN_TIME_LIMIT, seed=0, overbooking=overbooking, progress=progress
        )
    return _PLANS[key]


def schedule_for(
    scenario: Scenario,
    policy: str,
    overbooking: bool | None = None,
    week: dt.date = REFERENCE_WEEK,
    progress: PlanProgress | None = None,
) -> pd.DataFrame:
    """The week's schedule under ``policy`` for ``scenario`` (re-planned for the scenario's capacity).

    ``week`` (a Monday) dates the slots: an arm compared with a schedule file's week is planned for
    that week, so its patients' random streams (keyed by date) are the file's patients' streams.
    ``progress`` hears the planner's stages when a policy plans (half a minute on a practice's week).
    """
    if policy == "evenly_spaced":
        return evenly_spaced_schedule(scenario, week)
    if policy == "optimized":
        return _planned(scenario, overbooking, week, progress).schedule
    if policy == "bailey_welch":
        from ..solver.baselines import baseline_schedule

        return baseline_schedule(_planned(scenario, overbooking, week, progress), "bailey_welch")
    raise InputError(
        None, "template_policy", f"unknown policy {policy!r} (expected one of: {', '.join(POLICIES)})"
    )
