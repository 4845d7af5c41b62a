"""Which schedule an arm of a comparison runs: the template policy, applied to the arm's own scenario."""

from __future__ import annotations

import pandas as pd

from ..domain import Scenario
from ..errors import InputError
from ..policies import evenly_spaced_schedule
from ..sim import REFERENCE_WEEK

POLICIES = ("evenly_spaced",)


def schedule_for(scenario: Scenario, policy: str) -> pd.DataFrame:
    """The week's schedule under ``policy`` for ``scenario`` (re-planned for the scenario's capacity)."""
    if policy == "evenly_spaced":
        return evenly_spaced_schedule(scenario, REFERENCE_WEEK)
    raise InputError(
        None, "template_policy", f"unknown policy {policy!r} (expected one of: {', '.join(POLICIES)})"
    )
