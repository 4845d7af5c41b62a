"""The ``clinicflow`` command: finds the command modules and turns clinicflow errors into one
line on stderr with exit code 2 (never a traceback)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.console import Console

from .. import __version__
from ..errors import ClinicflowError, InfeasibleError, InputError

app = typer.Typer(
    name="clinicflow",
    help="Schedule optimization and patient-flow simulation for medical practices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

err_console = Console(stderr=True, soft_wrap=True, highlight=False)

EXIT_INPUT = 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"clinicflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Schedule optimization and patient-flow simulation for medical practices."""


def _register_commands() -> None:
    from . import __path__ as cli_path

    for mod in sorted(pkgutil.iter_modules(cli_path), key=lambda m: m.name):
        if mod.name.startswith("_") or mod.name == "app":
            continue
        module = importlib.import_module(f"{__package__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()

#: Who uses which command, in the order of the data -> optimize -> simulate -> compare loop.
PANELS = {
    "validate": "Scenario",
    "plan": "Coordinator",
    "surgery": "Coordinator",
    "simulate": "Practice manager",
    "compare": "Practice manager",
    "sweep": "Practice manager",
    "history": "Analyst",
    "calibrate": "Analyst",
    "dashboard": "Everyone",
}


def _arrange() -> None:
    order = list(PANELS)

    def name(c) -> str:
        return c.name or c.callback.__name__

    app.registered_commands.sort(key=lambda c: order.index(name(c)) if name(c) in order else len(order))
    app.registered_groups.sort(key=lambda g: order.index(g.name) if g.name in order else len(order))
    for c in app.registered_commands:
        c.rich_help_panel = c.rich_help_panel or PANELS.get(name(c))
    for g in app.registered_groups:
        g.rich_help_panel = g.rich_help_panel or PANELS.get(g.name)


_arrange()


def report_error(err: ClinicflowError) -> int:
    """Print a clinicflow error the way a person can act on it; return the exit code."""
    if isinstance(err, InfeasibleError):
        err_console.print(f"error: {err.summary}", markup=False)
        for r in err.reasons:
            err_console.print(f"  - {r}", markup=False)
    else:
        err_console.print(f"error: {err}", markup=False)
    return EXIT_INPUT


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        app(args=argv, prog_name="clinicflow", standalone_mode=True)
    except (InputError, InfeasibleError, ClinicflowError) as err:
        sys.exit(report_error(err))
