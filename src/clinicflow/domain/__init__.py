"""The domain model: validated, immutable descriptions of a practice.

This is the ground floor. ``solver``, ``sim`` and ``data`` stand on it and never on each
other's internals.
"""

from .appointment import AppointmentType, TimeWindow
from .arrivals import Arrivals
from .clinic import Clinic
from .clock import WEEKDAYS, ClockTime, Weekday, format_hhmm, parse_hhmm, weekday_of
from .costs import Costs
from .demand import Demand
from .distributions import (
    Deterministic,
    Distribution,
    DistributionSpec,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Normal,
)
from .provider import Break, Provider, Session
from .rooms import Rooms
from .scenario import Scenario
from .staff import DayStaffing, DeskStaff, MedicalAssistants, Staff
from .surgery import Block, CaseType, Facility, Surgery

__all__ = [
    "WEEKDAYS",
    "AppointmentType",
    "Arrivals",
    "Block",
    "Break",
    "CaseType",
    "Clinic",
    "ClockTime",
    "Costs",
    "DayStaffing",
    "Demand",
    "DeskStaff",
    "Deterministic",
    "Distribution",
    "DistributionSpec",
    "Empirical",
    "Exponential",
    "Facility",
    "Gamma",
    "Lognormal",
    "MedicalAssistants",
    "Normal",
    "Provider",
    "Rooms",
    "Scenario",
    "Session",
    "Staff",
    "Surgery",
    "TimeWindow",
    "Weekday",
    "format_hhmm",
    "parse_hhmm",
    "weekday_of",
]
