"""How a comparison's KPIs are written for people: the terminal's table and the dashboard's.

One place decides that a utilization is a percentage, money is whole units of the scenario's
currency, everything else one decimal, and that a difference whose 95% interval holds 0 is marked
``≈0``, so ``clinicflow compare`` and the What-if page never show the same week two ways.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

#: The KPIs a comparison shows, in the order a practice manager reads them: the patients' wait,
#: the providers' time, the resources, the patients seen, then cost and pay.
SHOWN = (
    "mean_wait_min",
    "p90_wait_min",
    "mean_time_in_clinic_min",
    "provider_idle_min",
    "provider_unused_min",
    "provider_overtime_min",
    "provider_utilization",
    "room_utilization",
    "ma_utilization",
    "max_waiting_room",
    "patients_seen",
    "cost",
    "overtime_pay",
    "staff_cost_week",
    "labour_cost_week",
)

#: KPIs in the scenario's currency, shown in whole units.
MONEY = ("overtime_pay", "staff_cost_week", "labour_cost_week")

#: What the ``≈0`` mark means, for a footnote or a column's help.
NO_CHANGE = "the 95% interval of the difference contains 0 (no detectable change)"


def value(x: float | None, kpi: str) -> str:
    """One KPI value: ``57.4%``, ``$26,552`` or ``1,788.5``; ``–`` when there is none."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if kpi.endswith("utilization"):
        return f"{x:.1%}"
    if kpi in MONEY:
        return f"${x:,.0f}"
    return f"{x:,.1f}"


def difference(row: Mapping, kpi: str) -> str:
    """A paired difference with its 95% interval (``-51.5 [-57.5, -45.5]``); an exact one (a
    staffing cost, fixed per arm) without the interval."""
    d, lo, hi = row["diff"], row["diff_low"], row["diff_high"]
    money = kpi in MONEY
    if lo == hi:
        return f"{d:+,.0f}" if money else f"{d:+,.1f}"
    if kpi.endswith("utilization"):
        return f"{d:+.1%} [{lo:+.1%}, {hi:+.1%}]"
    if money:
        return f"{d:+,.0f} [{lo:+,.0f}, {hi:+,.0f}]"
    return f"{d:+,.1f} [{lo:+,.1f}, {hi:+,.1f}]"


def no_detectable_change(row: Mapping) -> bool:
    """The interval holds 0 (an exact difference is never marked: it is what it is)."""
    return bool(row["zero_in_ci"]) and row["diff_low"] != row["diff_high"]


def comparison_frame(
    table: pd.DataFrame,
    base: str,
    arm: str,
    *,
    kpis: tuple[str, ...] | None = None,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One arm against the base, ready to show: KPI (``labels``' words, else the key), base,
    variant, the paired change with its 95% CI, and ``≈0`` where that interval holds 0.

    ``table`` is ``Comparison.table()``'s long frame. ``kpis`` defaults to ``SHOWN`` followed by
    the table's other KPIs (no-shows, walk-ins, …) in its own order, so nothing is dropped."""
    if kpis is None:
        present = list(dict.fromkeys(table["kpi"]))
        kpis = tuple(k for k in SHOWN if k in present) + tuple(k for k in present if k not in SHOWN)
    labels = labels or {}
    rows = []
    for k in kpis:
        part = table[table["kpi"] == k].set_index("arm")
        b, r = part.loc[base], part.loc[arm]
        rows.append(
            {
                "KPI": labels.get(k, k),
                "base": value(b["mean"], k),
                "variant": value(r["mean"], k),
                "paired Δ [95% CI]": difference(r, k),
                "≈0": "≈0" if no_detectable_change(r) else "",
            }
        )
    return pd.DataFrame(rows, columns=["KPI", "base", "variant", "paired Δ [95% CI]", "≈0"])
