"""Consoles for command output: wide enough for tables when output goes to a file or pipe."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console


def stdout_console() -> Console:
    c = Console(highlight=False)
    if not c.is_terminal:
        c = Console(highlight=False, width=120)
    return c


#: The planner's stages as its progress bars name them (``clinicflow plan``'s, and ``compare``'s for
#: the first two, the ones ``whatif.compare`` reports).
PLAN_STAGES = {
    "template": "template (CP-SAT)",
    "timing": "slot timing per session (SAA)",
    "booking": "booking requests (CP-SAT)",
    "evaluating": "evaluating plan and baselines",
}
_COMPARE_STAGES = ("template", "timing")


class PlanningBar:
    """The planner's stages on stderr while ``compare`` plans an arm's week (half a minute on a
    practice's week, silent before).

    A callback for ``whatif.compare(plan_progress=…)``. It never refreshes from a thread of its own:
    the simulator forks its worker pool right after planning, and only one rich live display may be
    active, so the bar is drawn on each report and taken down as soon as the last session is timed
    (and by ``close`` when planning stops early). The solver reports from its day threads, hence the
    lock."""

    def __init__(self, console: Console | None = None) -> None:
        import threading

        self._console = console or Console(stderr=True)
        self._lock = threading.Lock()
        self._bar = None
        self._tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with self._lock:
            finished = stage == "timing" and done >= total
            if self._bar is None:
                if finished or stage not in _COMPARE_STAGES:
                    return  # a plan's last report, or a re-timed day's, after the bar came down
                self._bar = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=self._console,
                    transient=True,
                    auto_refresh=False,
                )
                self._bar.start()
                self._tasks = {}
            if stage not in self._tasks:
                self._tasks[stage] = self._bar.add_task(f"planning: {PLAN_STAGES[stage]}", total=total)
            self._bar.update(self._tasks[stage], completed=done, total=total)
            self._bar.refresh()
            if finished:
                self._stop()

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


#: Sessions named under a simulated week: the ones most often running late.
LATE_SHOWN = 3


def print_late_sessions(console, table, where: str, indent: str = "  ") -> None:
    """The few provider-sessions most often ending more than 15 minutes late in the simulator
    (``SimulationResult.session_table``): where a coordinator looks first. ``where`` says where
    the rest are (a file, or the option that writes one)."""
    import datetime as dt

    from ..domain.clock import WEEKDAYS
    from ..sim.result import LATE_AFTER_MIN, late_first

    if table is None or not len(table):
        return
    worst = late_first(table)
    console.print(
        f"{indent}sessions most often ending >{LATE_AFTER_MIN:.0f} min late (share of replications, "
        f"95% CI; {where}):",
        markup=False,
    )
    for r in worst.head(LATE_SHOWN).itertuples():
        day = WEEKDAYS[dt.date.fromisoformat(r.date).weekday()].title()  # not %a: the locale's
        console.print(
            f"{indent}  {r.provider} {day} {r.date} {r.start}-{r.end}: {r.late_share:.0%} "
            f"({r.late_ci_low:.0%}-{r.late_ci_high:.0%}); last visit ends at {r.finish_median} (median), "
            f"by {r.finish_p90} in 9 of 10",
            markup=False,
        )


def print_booking(console, scenario, schedule, booking, requests) -> None:
    """The booking's lines under ``plan`` and ``book``: booked by urgency, and the booked patients
    expected to come by their own no-show scores when the requests carried them."""
    from ..domain.clock import monday_of
    from ..domain.requests import wrong_week_note
    from ..solver.booking import expected_attendance

    by = booking.by_urgency(requests)  # the requests file's rows: rebooked patients are told apart
    booked, asked = sum(b for b, _ in by.values()), sum(n for _, n in by.values())
    console.print(
        f"  booked {booked}/{asked} requests ({booking.status}): "
        + ", ".join(f"{u} {b}/{n}" for u, (b, n) in by.items())
        + f"; {asked - booked} unbooked, reasons in unbooked.csv"
    )
    if not schedule.empty:
        note = wrong_week_note(requests, monday_of(min(schedule["date"])))
        if note:
            console.print(f"  note: {note}", markup=False)
    scored = sum(r.no_show_prob is not None for r in requests if not r.rebook)
    if scored:
        ea = expected_attendance(scenario, schedule)
        console.print(
            f"  patients' own no-show scores on {scored}/{asked} requests: "
            f"{ea['expected_to_come']:,.1f} of {ea['booked_patients']} booked patients expected to come "
            f"({ea['expected_to_come_at_type_rates']:,.1f} at the appointment types' rates)"
        )


@contextlib.contextmanager
def stage_bar(console, labels: dict[str, str] = PLAN_STAGES) -> Iterator[Callable[[str, int, int], None]]:
    """A bar per pipeline stage (template, timing, booking, evaluating) on a terminal, nothing when
    piped; yields the ``progress(stage, done, total)`` callback ``plan`` and ``book`` pass down."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

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
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels[stage], total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield progress
