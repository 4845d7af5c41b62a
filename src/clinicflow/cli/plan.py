"""``clinicflow plan``: next week's optimized schedule, booked requests, exports and KPIs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..errors import InputError
from ..scenario_file import load_scenario, require_clinic_sessions
from ._console import print_booking, print_late_sessions, stage_bar, stdout_console
from ._options import OFF_OPTION, clinic_next_monday, week_monday, with_off

# The planner (OR-Tools, numba), the exports and pandas are imported in the command, not here: every
# command's start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan_and_book(*args, **kwargs):
    """:func:`clinicflow.week_plan.plan_and_book`, imported when a week is planned (a name of this
    module, so a test can stand in for the planner)."""
    from ..week_plan import plan_and_book as run

    return run(*args, **kwargs)


def plan(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    week: str | None = typer.Option(
        None, "--week", help="Monday of the week to plan (default: next Monday in the clinic's timezone)."
    ),
    requests: Path | None = typer.Option(None, "--requests", help="Pending requests CSV to book."),
    out: Path = typer.Option(Path("out/plan"), "--out", help="Output folder."),
    time_limit: float = typer.Option(60.0, "--time-limit", min=1.0, help="Seconds for template and timing."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the optimizer's sampled days."),
    samples: int = typer.Option(40, "--samples", min=5, max=500, help="Sampled days per session (SAA)."),
    replications: int = typer.Option(
        30, "--replications", min=2, max=100_000, help="Evaluation replications for kpis.json."
    ),
    evaluator: str = typer.Option("auto", "--evaluator", help="kpis.json evaluator: auto, sim or saa."),
    off: list[str] | None = OFF_OPTION,
) -> None:
    """Build next week's schedule: CP-SAT templates, slot timing under uncertainty, booking.

    Writes schedule.csv, schedule.xlsx, one ics/PROVIDER.ics per provider, fhir-bundle.json, sessions.csv,
    kpis.json (and unbooked.csv with --requests) to the output folder.
    """
    from ..domain.requests import read_requests_csv
    from ..exports.common import check_output_dir

    console = stdout_console()
    if evaluator not in ("auto", "sim", "saa"):
        raise InputError("--evaluator", None, f"expected auto, sim or saa, got {evaluator!r}")
    monday = week_monday(week) if week is not None else None
    check_output_dir(out)  # before the solve, not after it
    sc = with_off(load_scenario(scenario), off)
    require_clinic_sessions(sc, scenario)
    if monday is None:  # the clinic's next Monday, not the machine's
        monday = clinic_next_monday(sc.clinic.tz)
    reqs = read_requests_csv(requests, sc) if requests is not None else None

    with stage_bar(console) as progress:
        outcome = plan_and_book(
            sc,
            monday,
            reqs,
            time_limit=time_limit,
            seed=seed,
            samples=samples,
            replications=replications,
            evaluator=evaluator,
            progress=progress,
        )

    from ..week_plan import write_outputs

    write_outputs(outcome, out, str(scenario))
    result, schedule, booking, kpis = outcome.result, outcome.schedule, outcome.booking, outcome.kpis
    _summary(console, result, schedule, booking, reqs, kpis, outcome.not_worked)
    console.print(
        f"wrote {out}/: schedule.csv, schedule.xlsx, ics/, fhir-bundle.json, sessions.csv, kpis.json"
        + (", unbooked.csv" if booking is not None else "")
    )


def _summary(console, result, schedule, booking, reqs, kpis, not_worked: list[str]) -> None:
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
    if not_worked:
        console.print("  not worked this week:")
        for line in not_worked:
            console.print(f"    - {line}", markup=False)
    cov = [f"{c['type']} {c['planned']}/{c['weekly']:g}" for c in tmpl.coverage]
    console.print("  slots planned / weekly demand:")
    for i in range(0, len(cov), 4):
        console.print("    " + ", ".join(cov[i : i + 4]))
    if result.shortfall:
        console.print("  [bold]short of demand[/], and why:")
        for line in result.shortfall:
            console.print(f"    - {line}", markup=False)
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col, just in (
        ("provider", "left"),
        ("sessions", "right"),
        ("slots", "right"),
        ("open holds", "right"),
        ("booked", "right"),
        ("double-booked", "right"),
        ("optimal*", "right"),
        ("max gap*", "right"),
        ("refined", "right"),
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
            str(sum(s.refined for s in ss)),
            f"{sum(s.expected_cost for s in ss) / len(ss):,.0f}",
        )
    console.print(t)
    console.print(
        "  * CP-SAT's in-order timing model; refined: blocks whose published times come from the local search"
    )
    console.print("    under the clinic's service rule; exp. cost: the published times on validation days")
    if booking is not None:
        print_booking(console, sc, schedule, booking, reqs)
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
    print_late_sessions(console, kpis.sessions, "all in sessions.csv")
