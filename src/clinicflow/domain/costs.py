"""Cost weights that turn waiting, idle and overtime minutes into one objective, and what an
overtime minute costs the practice in pay."""

from __future__ import annotations

from .base import Frozen, NonNegative


class Costs(Frozen):
    """Per-minute weights. Defaults follow the common convention in the appointment-scheduling
    literature of weighing a provider minute well above a patient minute (Cayirli & Veral 2003;
    Robinson & Chen 2003 use idle:wait ratios from 1 to 20)."""

    wait_per_min: NonNegative = 1.0
    idle_per_min: NonNegative = 2.0
    overtime_per_min: NonNegative = 3.0
    #: Pay for a minute past the end of the working day, as a multiple of the hourly cost. Front
    #: desk clerks and MAs are hourly staff who stay until the last patient has left; the US Fair
    #: Labor Standards Act pays non-exempt staff time and a half past 40 hours a week, which a
    #: full-time clerk's late minutes are.
    staff_overtime_rate: NonNegative = 1.5
    #: Providers' minutes past the session end at their hourly cost: the practice's price of their
    #: time whatever the contract (set 0 for salaried providers whose late minutes cost no pay).
    provider_overtime_rate: NonNegative = 1.0
