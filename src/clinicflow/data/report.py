"""Volume, no-show and late-cancel rates, overall and broken down, computed in DuckDB SQL.

Rates are per appointment *kept on the books*: cancelled-in-advance appointments count in the
volume but not in the denominators, because their slot could be rebooked. So
``no_show_rate = no_shows / (attended + no_shows + late_cancels)``, the same definition the
scenario's ``appointment_types[].no_show`` uses.
"""

from __future__ import annotations

import duckdb

from .features import LEAD_BANDS, visits_sql
from .normalize import AGE_BANDS

#: Breakdown name → (SQL expression of the group label, label order or None for alphabetical).
DIMENSIONS: dict[str, tuple[str, list[str] | None]] = {
    "weekday": ("weekday", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    "hour": (
        "CASE WHEN hour IS NULL THEN 'unknown' ELSE lpad(CAST(hour AS VARCHAR), 2, '0') || ':00' END",
        None,
    ),
    "lead_band": ("lead_band", [b[2] for b in LEAD_BANDS]),
    "age_band": ("coalesce(age_band, 'unknown')", [b[2] for b in AGE_BANDS]),
    "appointment_type": ("coalesce(appointment_type, 'unknown')", None),
    "provider": ("coalesce(provider, 'unknown')", None),
    "reminder": (
        "CASE WHEN reminder THEN 'yes' WHEN NOT reminder THEN 'no' ELSE 'unknown' END",
        ["no", "yes"],
    ),
    "prior_no_shows": (
        "CASE WHEN prior_no_shows >= 3 THEN '3+' ELSE CAST(prior_no_shows AS VARCHAR) END",
        ["0", "1", "2", "3+"],
    ),
}

_COUNTS = """
    count(*) AS appointments,
    sum(is_booked) AS booked,
    sum(CASE WHEN status = 'attended' THEN 1 ELSE 0 END) AS attended,
    sum(is_no_show) AS no_shows,
    sum(is_late_cancel) AS late_cancels,
    sum(1 - is_booked) AS cancelled,
    sum(is_no_show) / nullif(sum(is_booked), 0) AS no_show_rate,
    sum(is_late_cancel) / nullif(sum(is_booked), 0) AS late_cancel_rate
"""
_FIELDS = (
    "appointments",
    "booked",
    "attended",
    "no_shows",
    "late_cancels",
    "cancelled",
    "no_show_rate",
    "late_cancel_rate",
)


def _row(values) -> dict:
    out = {}
    for k, v in zip(_FIELDS, values, strict=True):
        out[k] = (float(v) if v is not None else None) if k.endswith("rate") else int(v or 0)
    return out


def history_report(con: duckdb.DuckDBPyConnection) -> dict:
    """The report as plain data (counts and rates only: safe to print and to share)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW visits AS {visits_sql()}")
    head = con.execute(
        "SELECT count(DISTINCT patient_ref), min(appt_date), max(appt_date), count(DISTINCT appt_date) FROM visits"
    ).fetchall()[0]
    overall = _row(con.execute(f"SELECT {_COUNTS} FROM visits").fetchall()[0])
    imports = con.execute("SELECT count(*), coalesce(sum(rows_quarantined), 0) FROM imports").fetchall()[0]
    report = {
        "volume": {
            "appointments": overall["appointments"],
            "patients": int(head[0]),
            "first_date": head[1].isoformat() if head[1] else None,
            "last_date": head[2].isoformat() if head[2] else None,
            "days": int(head[3]),
            "imports": int(imports[0]),
            "quarantined_rows": int(imports[1]),
            # the public no-show layout, for one, has no cancellations: its late-cancel rate is unknown
            "records_cancellations": overall["late_cancels"] + overall["cancelled"] > 0,
        },
        "overall": overall,
        "by": {},
    }
    for name, (expr, order) in DIMENSIONS.items():
        rows = con.execute(f"SELECT {expr} AS label, {_COUNTS} FROM visits GROUP BY 1").fetchall()
        groups = {str(r[0]): _row(r[1:]) for r in rows}
        keys = sorted(
            groups, key=lambda k, o=order: (k == "unknown", o.index(k) if o and k in o else len(o or ()), k)
        )
        report["by"][name] = [{name: k, **groups[k]} for k in keys]
    return report
