"""``clinicflow plan``: next week's optimized schedule, booked requests, exports and KPIs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..domain.schedule import write_schedule_csv
from ..errors import InputError
from ..evaluation import plan_kpis
from ..exports.common import atomic_output_dir
from ..exports.fhir import write_fhir_bundle
from ..exports.ical import write_ics
from ..exports.schedule_excel import write_schedule_xlsx
from ..scenario_file import load_scenario
from ..solver.booking import apply_booking, book_requests
from ..solver.plan import plan_week
from ..solver.requests import read_requests_csv
from ..solver.week import next_monday
from ._console import stdout_console


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def _monday(value: str | None) -> dt.date:
    if value is None:
        return next_monday(dt.date.today())
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("--week", None, f"expected a date like 2026-11-30, got {value!r}") from None
    if d.weekday() != 0:
        raise InputError("--week", None, f"expected a Monday, got {d.isoformat()} (a {d.strftime('%A')})")
    return d


def plan(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    week: str | None = typer.Option(
        None, "--week", help="Monday of the week to plan (default: next Monday)."
    ),
    requests: Path | None = typer.Option(None, "--requests", help="Pending requests CSV to book."),
    out: Path = typer.Option(Path("out/plan"), "--out", help="Output folder."),
    time_limit: float = typer.Option(60.0, "--time-limit", min=1.0, help="Seconds for template and timing."),
    seed: int = typer.Option(0, "--seed", help="Seed of the optimizer's sampled days."),
    samples: int = typer.Option(40, "--samples", min=5, max=500, help="Sampled days per session (SAA)."),
    replications: int = typer.Option(
        30, "--replications", min=2, help="Evaluation replications for kpis.json."
    ),
    evaluator: str = typer.Option("auto", "--evaluator", help="kpis.json evaluator: auto, sim or saa."),
) -> None:
    """Build next week's schedule: CP-SAT templates, slot timing under uncertainty, booking.

    Writes schedule.csv, schedule.xlsx, ics/<provider>.ics, fhir-bundle.json, sessions.csv,
    kpis.json (and unbooked.csv with --requests) to the output folder.
    """
    console = stdout_console()
    if evaluator not in ("auto", "sim", "saa"):
        raise InputError("--evaluator", None, f"expected auto, sim or saa, got {evaluator!r}")
    monday = _monday(week)
    sc = load_scenario(scenario)
    reqs = read_requests_csv(requests, sc) if requests is not None else None

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        tasks: dict = {}

        def progress(stage: str, done: int, total: int) -> None:
            name = {"template": "template (CP-SAT)", "timing": "slot timing per session (SAA)"}[stage]
            if stage not in tasks:
                tasks[stage] = bar.add_task(name, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = plan_week(sc, monday, time_limit=time_limit, seed=seed, samples=samples, progress=progress)
        schedule = result.schedule
        booking = None
        if reqs is not None:
            t = bar.add_task("booking requests (CP-SAT)", total=1)
            booking = book_requests(
                sc, schedule, reqs, time_limit=min(20.0, max(2.0, 0.25 * time_limit)), seed=seed
            )
            schedule = apply_booking(sc, schedule, reqs, booking)
            bar.update(t, completed=1)
        t = bar.add_task("evaluating plan and baselines", total=1)
        kpis = plan_kpis(result, replications=replications, evaluator=evaluator)
        bar.update(t, completed=1)

    with atomic_output_dir(out) as tmp:
        write_schedule_csv(schedule, tmp / "schedule.csv")
        write_schedule_xlsx(schedule, sc, tmp / "schedule.xlsx")
        write_ics(schedule, sc, tmp / "ics")
        write_fhir_bundle(schedule, sc, tmp / "fhir-bundle.json")
        pd.DataFrame([s.as_dict() for s in result.sessions]).to_csv(tmp / "sessions.csv", index=False)
        payload = {
            "scenario": str(scenario),
            "week": monday.isoformat(),
            "optimizer": {
                "seed": seed,
                "sampled_days": samples,
                "grid_min": result.grid,
                "time_limit_s": time_limit,
                "wall_time_s": round(result.wall_time, 2),
                "template_status": result.template.status,
                "provider_sessions": len(result.sessions),
                "proven_optimal": result.proven_optimal,
            },
            **kpis.as_dict(),
        }
        (tmp / "kpis.json").write_text(json.dumps(payload, indent=2))
        if booking is not None:
            booking.unbooked.to_csv(tmp / "unbooked.csv", index=False)

    _summary(console, result, schedule, booking, reqs, kpis)
    console.print(
        f"wrote {out}/: schedule.csv, schedule.xlsx, ics/, fhir-bundle.json, sessions.csv, kpis.json"
        + (", unbooked.csv" if booking is not None else "")
    )


def _summary(console, result, schedule, booking, reqs, kpis) -> None:
    sc = result.scenario
    tmpl = result.template
    met = all(c["planned"] >= round(c["weekly"]) for c in tmpl.coverage)
    gap = ""
    if tmpl.status != "optimal" and tmpl.objective is not None:
        rel = max(0.0, tmpl.objective - tmpl.bound) / max(tmpl.objective, 1e-9)
        gap = f" (demand met; gap {rel:.0%} on balance terms)" if met else f" (gap {rel:.0%})"
    console.print(f"[bold]{sc.clinic.name}[/] — week of {result.monday.isoformat()}")
    console.print(
        f"  template {tmpl.status}{gap}; {len(result.sessions)} provider-sessions timed in "
        f"{result.wall_time:.1f} s, {result.proven_optimal} proven optimal"
    )
    cov = [f"{c['type']} {c['planned']}/{c['weekly']:g}" for c in tmpl.coverage]
    console.print("  slots planned / weekly demand:")
    for i in range(0, len(cov), 4):
        console.print("    " + ", ".join(cov[i : i + 4]))
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col, just in (
        ("provider", "left"),
        ("sessions", "right"),
        ("slots", "right"),
        ("open holds", "right"),
        ("booked", "right"),
        ("double-booked", "right"),
        ("optimal", "right"),
        ("max gap", "right"),
        ("exp. cost/session", "right"),
    ):
        t.add_column(col, justify=just)
    for p in sc.providers:
        ss = [s for s in result.sessions if s.provider == p.id]
        if not ss:
            continue
        mine = schedule[schedule["provider"] == p.id]
        t.add_row(
            p.id,
            str(len(ss)),
            str(len(mine)),
            str(int((mine["kind"] == "hold").sum())),
            str(int((mine["kind"] == "booked").sum())),
            str(sum(s.overbooked for s in ss)),
            f"{sum(s.status == 'optimal' for s in ss)}/{len(ss)}",
            f"{max(s.gap for s in ss):.1%}",
            f"{sum(s.expected_cost for s in ss) / len(ss):,.0f}",
        )
    console.print(t)
    if booking is not None:
        by = booking.by_urgency(reqs)
        console.print(
            f"  booked {booking.booked}/{booking.requests} requests ({booking.status}): "
            + ", ".join(f"{u} {b}/{n}" for u, (b, n) in by.items())
            + f"; {len(booking.unbooked)} unbooked, reasons in unbooked.csv"
        )
    summ = kpis.summary()
    console.print(
        f"expected week on held-out seeds ({kpis.evaluator}, {kpis.replications} replications, mean ± 95% CI):"
    )
    k = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("schedule", "cost", "wait min", "idle min", "overtime min"):
        k.add_column(col, justify="left" if col == "schedule" else "right")
    names = {"plan": "optimized plan", "evenly_spaced": "evenly spaced", "bailey_welch": "Bailey-Welch"}
    for name, label in names.items():
        row = summ[name]
        k.add_row(
            label,
            *(
                f"{row[m]['mean']:,.0f} ± {row[m]['ci_high'] - row[m]['mean']:,.0f}"
                for m in ("cost", "total_wait_min", "provider_idle_min", "provider_overtime_min")
            ),
        )
    console.print(k)
    for b in ("evenly_spaced", "bailey_welch"):
        red = kpis.reduction(b)
        console.print(
            f"  plan vs {names[b]}: cost {-red['relative']:+.1%} "
            f"(saves {red['cost_saved']['mean']:,.0f}, 95% CI {red['cost_saved']['ci_low']:,.0f}"
            f"..{red['cost_saved']['ci_high']:,.0f})",
        )
