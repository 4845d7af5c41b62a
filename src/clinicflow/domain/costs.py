"""Cost weights that turn waiting, idle and overtime minutes into one objective."""

from __future__ import annotations

from .base import Frozen, NonNegative


class Costs(Frozen):
    """Per-minute weights. Defaults follow the common convention in the appointment-scheduling
    literature of weighing a provider minute well above a patient minute (Cayirli & Veral 2003;
    Robinson & Chen 2003 use idle:wait ratios from 1 to 20)."""

    wait_per_min: NonNegative = 1.0
    idle_per_min: NonNegative = 2.0
    overtime_per_min: NonNegative = 3.0
