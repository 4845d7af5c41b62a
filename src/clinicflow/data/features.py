"""Per-appointment derived fields, computed in DuckDB SQL: lead time, weekday, hour, bands, and the
patient's history *as known on the morning of the appointment*.

History uses only the patient's appointments on **earlier days** (a window ending one day before
the appointment's date). Appointments later the same day are excluded on purpose: their outcome
is not known when the day's schedule is made, and counting them would leak the answer into the
features of a no-show model. ``tests/test_history_noshow.py`` checks this by changing every later
outcome and asserting the features do not move.
"""

from __future__ import annotations

#: Lead-time bands in days (inclusive bounds).
LEAD_BANDS = (
    (0, 0, "0"),
    (1, 2, "1-2"),
    (3, 7, "3-7"),
    (8, 14, "8-14"),
    (15, 30, "15-30"),
    (31, 60, "31-60"),
    (61, None, "61+"),
)
WEEKDAY_SQL = "(['mon','tue','wed','thu','fri','sat','sun'])[isodow(appt_date)]"


def _lead_band_sql(col: str = "lead_days") -> str:
    parts = []
    for lo, hi, label in LEAD_BANDS:
        if hi is None:
            parts.append(f"WHEN {col} >= {lo} THEN '{label}'")
        else:
            parts.append(f"WHEN {col} BETWEEN {lo} AND {hi} THEN '{label}'")
    return f"CASE {' '.join(parts)} ELSE 'unknown' END"


def visits_sql(source: str = "appointments") -> str:
    """A query over ``source`` with one row per appointment and its derived fields.

    ``prior_*`` count the patient's appointments on earlier days (cancelled-in-advance ones are not
    appointments kept on the books and are left out of ``prior_appointments``);
    ``days_since_last`` is NULL for a patient's first day.
    """
    window = "PARTITION BY patient_ref ORDER BY day_num RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    return f"""
    WITH base AS (
        SELECT *,
            date_diff('day', CAST(scheduled_at AS DATE), appt_date) AS lead_days,
            date_diff('day', DATE '1970-01-01', appt_date) AS day_num,
            {WEEKDAY_SQL} AS weekday,
            isodow(appt_date) AS weekday_num,
            hour(start_at) AS hour,
            CASE WHEN status = 'cancelled' THEN 0 ELSE 1 END AS is_booked,
            CASE WHEN status = 'no_show' THEN 1 ELSE 0 END AS is_no_show,
            CASE WHEN status = 'late_cancel' THEN 1 ELSE 0 END AS is_late_cancel
        FROM {source}
    )
    SELECT *,
        {_lead_band_sql()} AS lead_band,
        coalesce(sum(is_booked) OVER w, 0) AS prior_appointments,
        coalesce(sum(is_no_show) OVER w, 0) AS prior_no_shows,
        coalesce(sum(is_late_cancel) OVER w, 0) AS prior_late_cancels,
        day_num - max(day_num) OVER w AS days_since_last
    FROM base
    WINDOW w AS ({window})
    """
