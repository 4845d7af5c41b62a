"""The schedule as a workbook a front desk can print: one sheet per provider, one column per day.

Rows are the provider's distinct start times of the week; a cell reads "follow_up · R03" or
"HOLD sick_visit", with double-booked slots on two lines in one cell. Pages print landscape,
one page wide, with the header row repeated. Every text cell goes through ``safe_cell``. A day's
header also says which of the provider's sessions are not worked and why ("not worked 08:00-12:00:
time off (leave)"; a holiday keeps its column), so an empty column reads as an absence.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..domain.clock import format_hhmm, weekday_of
from ..domain.scenario import Scenario
from .common import safe_cell, week_not_worked

_DAY = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}
_THIN = Side(style="thin", color="999999")


def _cell_text(row) -> str:
    kind = row.kind
    head = "HOLD " if kind == "hold" else ""
    text = f"{head}{row.appointment_type}"
    if kind == "booked" and isinstance(row.patient_ref, str):
        text += f" · {row.patient_ref}"
    if isinstance(row.room, str) and row.room:
        text += f" · {row.room}"
    if getattr(row, "overbooked", False):
        text += " (double-booked)"
    return text


def _sheet_title(provider: str, used: set[str]) -> str:
    base = "".join(ch for ch in provider if ch not in "[]:*?/\\")[:31] or "provider"
    title, i = base, 2
    while title in used:
        title = f"{base[:28]}-{i}"
        i += 1
    used.add(title)
    return title


def write_schedule_xlsx(schedule: pd.DataFrame, scenario: Scenario, path: str | Path) -> None:
    """Write ``schedule`` (a normalized schedule frame) as a printable workbook."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    colors = {t.id: (t.color or "").lstrip("#") for t in scenario.appointment_types}
    away = week_not_worked(schedule, scenario)
    # a date with no slot but a session not worked (a holiday) still gets its column, saying why
    dates = sorted(set(schedule["date"].unique()) | {c.date for cs in away.values() for c in cs})
    for p in scenario.providers:
        mine = schedule[schedule["provider"] == p.id]
        if mine.empty and p.id not in away:
            continue
        ws = wb.create_sheet(_sheet_title(p.id, used))
        ws.append([safe_cell(f"{p.name} ({p.role})")])
        ws["A1"].font = Font(bold=True, size=13)
        off: dict = {}
        for c in away.get(p.id, []):
            off.setdefault(c.date, []).append(
                f"not worked {format_hhmm(c.session.start)}-{format_hhmm(c.session.end)}: {c.why}"
            )
        header = ["Time"] + [
            safe_cell("\n".join([f"{_DAY[weekday_of(d)]} {d.isoformat()}", *off.get(d, [])])) for d in dates
        ]  # not %a: locale
        ws.append(header)
        for c in range(1, len(header) + 1):
            cell = ws.cell(row=2, column=c)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.fill = PatternFill("solid", fgColor="DDDDDD")
            cell.border = Border(bottom=_THIN)
        # each cell's slots in one pass over the provider's rows (filtering the frame per cell took
        # 20 s of a 4x practice's plan: times x days x providers filters)
        cells: dict[tuple, list] = {}
        for r in mine.itertuples():
            cells.setdefault((r.date, r.start_min), []).append(r)
        times = sorted(mine["start_min"].unique())
        for t in times:
            row = [format_hhmm(t)]
            fills = [None]
            for d in dates:
                cell_rows = cells.get((d, t), [])
                row.append(safe_cell("\n".join(_cell_text(r) for r in cell_rows)) or None)
                fills.append(colors.get(cell_rows[0].appointment_type) if cell_rows else None)
            ws.append(row)
            r = ws.max_row
            for c, color in enumerate(fills, start=1):
                cell = ws.cell(row=r, column=c)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                cell.border = Border(bottom=_THIN, right=_THIN)
                if color and len(color) == 6:
                    cell.fill = PatternFill("solid", fgColor=_light(color))
        ws.column_dimensions["A"].width = 8
        for c in range(2, len(header) + 1):
            ws.column_dimensions[get_column_letter(c)].width = 26
        ws.freeze_panes = "B3"
        ws.print_title_rows = "2:2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = True
    if not wb.sheetnames:
        wb.create_sheet("schedule")
    wb.save(path)


def _light(hex6: str) -> str:
    """A pale tint of a type's colour, so black text stays readable when printed."""
    try:
        r, g, b = (int(hex6[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "FFFFFF"
    return "".join(f"{round(255 - (255 - v) * 0.25):02X}" for v in (r, g, b))
