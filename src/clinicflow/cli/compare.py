"""``clinicflow compare`` and ``clinicflow sweep``: what-if staffing scenarios for the practice manager."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import typer
from rich.table import Table

from ..errors import InputError
from ..policies import POLICIES
from ..scenario_file import load_scenario, require_clinic_sessions
from ._console import PlanningBar, stdout_console
from ._options import named_as_options

# The what-ifs (the simulator: SciPy; the planner: OR-Tools), the exports and pandas are imported in
# the commands, not here: every command's start-up imports this module (``clinicflow --help`` among them).


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
    app.command("sweep")(sweep)


def _default_workers(workers: int | None, replications: int, cluster: str | None) -> int:
    """As ``simulate``: all cores (up to 8) for 20+ replications, else one process (start-up costs more)."""
    if workers is not None:
        return workers
    return min(os.cpu_count() or 1, 8) if replications >= 20 and cluster is None else 1


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise InputError(
            None, "--policy", f"unknown policy {policy!r} (expected one of: {', '.join(POLICIES)})"
        )


def _policy_or_schedule(policy: str | None, schedule: Path | None, why: str) -> str:
    """The policy to plan with (default evenly spaced); none may be named beside a schedule file."""
    if schedule is not None and policy is not None:
        raise InputError(None, "--policy", f"not used with --schedule ({why})")
    policy = policy or "evenly_spaced"
    _check_policy(policy)
    return policy


def _schedule_file(schedule: Path | None, scenario):
    """The ``--schedule`` file read, validated and checked to hold one week, before anything runs."""
    if schedule is None:
        return None
    from ..domain.schedule import read_schedule_csv
    from ..whatif.compare import one_week

    frame = read_schedule_csv(schedule, scenario)
    one_week(frame, str(schedule))
    return frame


def compare(
    base: Path = typer.Argument(..., help="Base scenario YAML."),
    variants: list[Path] = typer.Argument(..., help="Variant YAML files (see docs/whatif.md)."),
    replications: int = typer.Option(
        30, "--replications", "-n", min=2, max=100_000, help="Replications per arm."
    ),
    seed: int = typer.Option(0, min=0, help="Seed: the same for every arm (common random numbers)."),
    policy: str | None = typer.Option(
        None, help=f"Template policy: {', '.join(POLICIES)} (default evenly_spaced).", show_default=False
    ),
    schedule: Path | None = typer.Option(
        None,
        "--schedule",
        help="The base's schedule CSV of one week (your current template, or a plan's schedule.csv) "
        "instead of a policy; variants keep it unless they name a template_policy.",
    ),
    workers: int | None = typer.Option(
        None, min=1, max=128, help="Local worker processes (default: all cores for 20+ replications)."
    ),
    cluster: str | None = typer.Option(None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    out: Path | None = typer.Option(None, help="Folder for comparison.json, comparison.csv and plots."),
) -> None:
    """Compare variants with a base: each KPI's mean and 95% CI, and the paired difference to the base."""
    from ..exports.common import atomic_output_dir, check_output_dir
    from ..spreadsheet import safe_frame
    from ..whatif.compare import compare as run_compare
    from ..whatif.display import NO_CHANGE, SHOWN, comparison_frame
    from ..whatif.variants import load_variant, schedule_under

    policy = _policy_or_schedule(
        policy, schedule, "the base runs the file; a variant names its own template_policy"
    )
    if out is not None:
        check_output_dir(out)  # before the runs, not after them
    workers = _default_workers(workers, replications, cluster)
    base_scenario = load_scenario(base)
    require_clinic_sessions(base_scenario, base)
    frame = _schedule_file(schedule, base_scenario)
    if schedule is not None:
        policy = str(schedule)
    loaded = []
    overridden: list[str | None] = []  # per variant, in order
    for path in variants:
        v, _, scen = load_variant(path, base=base_scenario)
        if v.targeted_reminders is not None:  # told against the variant's file, before any run
            if frame is None:
                raise InputError(
                    path,
                    "targeted_reminders",
                    "needs --schedule: a week whose booked patients carry their no_show_prob scores",
                )
            try:
                schedule_under(v, frame)
            except InputError as err:
                raise InputError(path, err.where, err.message) from None
        loaded.append((v.name, v, scen))
        # the command line's base wins (a variant tried on a calibrated copy of its practice); said,
        # so a variant written for another practice is not read as this one's
        other = v.base is not None and (path.parent / v.base).resolve() != base.resolve()
        overridden.append(f"its file's base is {v.base}; run on {base} as given" if other else None)
    show = sys.stderr.isatty() and not as_json
    planning = PlanningBar() if show else None
    with named_as_options("cluster"):
        try:
            comp = run_compare(
                base_scenario,
                loaded,
                base_name=f"base ({base.stem})",
                policy=policy,
                replications=replications,
                seed=seed,
                workers=workers,
                cluster=cluster,
                progress=show,
                schedule=frame,
                schedule_name=str(schedule),
                plan_progress=planning,
            )
        finally:
            if planning is not None:
                planning.close()
    for arm, note in zip(comp.variants, overridden, strict=True):
        if note is not None:
            arm.notes.insert(0, note)
    table = comp.table()
    if out is not None:
        from ..viz.whatif import diff_figure, write_figure

        with atomic_output_dir(out) as tmp:
            safe_frame(table).to_csv(tmp / "comparison.csv", index=False)
            (tmp / "comparison.json").write_text(json.dumps(comp.to_json_dict(), indent=2))
            write_figure(diff_figure(table), tmp / "differences")
    if as_json:
        typer.echo(json.dumps(comp.to_json_dict(), indent=2))
        return
    console = stdout_console()
    basis = f"schedule {schedule}" if schedule is not None else f"policy {policy}"
    for arm in comp.variants:
        t = Table(
            title=f"{arm.name} vs {comp.base.name}: {replications} replications, seed {seed}, {basis}",
            title_justify="left",
        )
        t.add_column("KPI")
        t.add_column("base", justify="right")
        t.add_column("variant", justify="right")
        t.add_column("paired Δ [95% CI]", justify="right")
        for row in comparison_frame(table, comp.base.name, arm.name, kpis=SHOWN).itertuples(index=False):
            d = f"[dim]{row[3]} ≈0[/]" if row[4] else row[3]
            t.add_row(row.KPI, row.base, row.variant, d)
        console.print(t)
    for arm in comp.variants:
        if not arm.replanned:
            kept = any(n.startswith("schedule kept") for n in arm.notes)
            flags = [*([] if kept else ["same schedule"]), *arm.notes]
        elif arm.policy == comp.base.policy:
            flags = ["re-planned", *arm.notes]
        else:
            flags = [f"planned with {arm.policy}", *arm.notes]
        console.print(f"  {arm.name}: {'; '.join(flags)}")
    console.print(f"  ≈0: {NO_CHANGE}")
    if out is not None:
        console.print(f"  wrote {out}/comparison.csv, comparison.json, differences.html, differences.png")


def sweep(
    base: Path = typer.Argument(..., help="Base scenario YAML."),
    vary: list[str] = typer.Option(
        ..., "--vary", help="KNOB=A..B or A,B,C; knobs: rooms, mas, desk, noshow, walkins, demand."
    ),
    replications: int = typer.Option(
        30, "--replications", "-n", min=2, max=100_000, help="Replications per grid point."
    ),
    seed: int = typer.Option(0, min=0, help="Seed: the same for every point (common random numbers)."),
    policy: str | None = typer.Option(
        None, help=f"Template policy: {', '.join(POLICIES)} (default evenly_spaced).", show_default=False
    ),
    schedule: Path | None = typer.Option(
        None,
        "--schedule",
        help="A schedule CSV of one week run at every setting instead of a policy (not with --vary demand).",
    ),
    workers: int | None = typer.Option(
        None, min=1, max=128, help="Local worker processes (default: all cores for 20+ replications)."
    ),
    cluster: str | None = typer.Option(None, help="Dask scheduler address."),
    target: str = typer.Option(
        "p90_wait_min<=20", help="Service target KPI<=LIMIT for naming the cheapest setting."
    ),
    wait_kpi: str = typer.Option("p90_wait_min", help="Waiting KPI for the frontier."),
    out: Path | None = typer.Option(None, help="Folder for sweep.csv, sweep.parquet and frontier plots."),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON records."),
) -> None:
    """Run a grid of staffing settings and plot labour cost (staff + overtime pay) against waiting,
    marking dominated settings."""
    from ..exports.common import atomic_output_dir, check_output_dir
    from ..spreadsheet import safe_frame
    from ..whatif.grid import parse_vary
    from ..whatif.sweep import Target, check_kpi
    from ..whatif.sweep import sweep as run_sweep

    policy = _policy_or_schedule(policy, schedule, "every setting runs the file")
    workers = _default_workers(workers, replications, cluster)
    tgt = Target.parse(target)
    check_kpi(wait_kpi, "--wait-kpi")
    varies = [parse_vary(v) for v in vary]
    if out is not None:
        check_output_dir(out)  # before the runs, not after them
    base_scenario = load_scenario(base)
    require_clinic_sessions(base_scenario, base)
    frame = _schedule_file(schedule, base_scenario)
    console = stdout_console()
    from rich.console import Console
    from rich.progress import Progress

    # on stderr and only on a terminal, as compare's: a bar put on a piped stdout left a blank line
    # before an error
    shown = sys.stderr.isatty() and not as_json
    with Progress(console=Console(stderr=True), transient=True, disable=not shown) as bar:
        task = bar.add_task("sweeping", total=None)

        def tick(i: int, n: int) -> None:
            bar.update(task, completed=i, total=n)

        with named_as_options("cluster"):
            res = run_sweep(
                base_scenario,
                varies,
                replications=replications,
                seed=seed,
                policy=policy,
                workers=workers,
                cluster=cluster,
                wait_kpi=wait_kpi,
                target=tgt,
                on_point=tick,
                schedule=frame,
            )
    if out is not None:
        from ..viz.whatif import frontier_figure, write_figure

        with atomic_output_dir(out) as tmp:
            safe_frame(res.table).to_csv(tmp / "sweep.csv", index=False)
            res.table.to_parquet(tmp / "sweep.parquet", index=False)
            write_figure(frontier_figure(res.table, wait_kpi, res.knobs, tgt), tmp / "frontier")
    if as_json:
        typer.echo(res.table.to_json(orient="records", indent=2))
        return
    basis = f", schedule {schedule}" if schedule is not None else ""
    t = Table(title=f"{len(res.table)} settings × {replications} replications, seed {seed}{basis}")
    for k in res.knobs:
        t.add_column(k, justify="right")
    t.add_column("staff $/week", justify="right")
    t.add_column("+ overtime $", justify="right")
    t.add_column(wait_kpi, justify="right")
    if tgt.kpi != wait_kpi:
        t.add_column(tgt.kpi, justify="right")
    t.add_column("overtime min", justify="right")
    t.add_column("", justify="left")
    for _, r in res.table.iterrows():
        cells = [str(r[k]) for k in res.knobs]
        cells.append(f"{r['staff_cost_week']:,.0f}")
        cells.append(f"{r['overtime_pay']:,.0f}")
        nobody = math.isnan(float(r[wait_kpi]))
        ci = f"{r[wait_kpi]:.1f} [{r[wait_kpi + '_ci_low']:.1f}, {r[wait_kpi + '_ci_high']:.1f}]"
        cells.append("–" if nobody else ci)
        if tgt.kpi != wait_kpi:
            cells.append(f"{r[tgt.kpi]:.1f}")
        cells.append(f"{r['provider_overtime_min']:.0f}")
        if nobody:
            cells.append("[dim]nobody seen[/]")
        else:
            cells.append("efficient" if r["efficient"] else "[dim]dominated[/]")
        t.add_row(*cells)
    console.print(t)
    best = res.cheapest
    if best is None:
        console.print(f"No setting meets {tgt.kpi} ≤ {tgt.limit:g}.")
    else:
        setting = ", ".join(f"{k}={best[k]}" for k in res.knobs)
        console.print(
            f"Cheapest setting meeting {tgt.kpi} ≤ {tgt.limit:g}: [bold]{setting}[/] "
            f"(${best['labour_cost_week']:,.0f}/week with overtime, {tgt.kpi} {best[tgt.kpi]:.1f})"
        )
