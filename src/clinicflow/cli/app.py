"""The ``clinicflow`` command: finds the command modules and turns clinicflow errors into one
line on stderr with exit code 2 (never a traceback)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer
from rich.console import Console

from .. import __version__
from ..errors import ClinicflowError, InfeasibleError

app = typer.Typer(
    name="clinicflow",
    help="Schedule optimization and patient-flow simulation for medical practices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
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
    "book": "Coordinator",
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


def _click_exceptions() -> tuple[type, type, type, type]:
    """(ClickException, BadParameter, NoArgsIsHelpError, Abort) of the click that typer runs on.

    Typer ≥ 0.16 carries its own copy of click (``typer._click``); older ones use click itself.
    """
    try:
        from typer._click import exceptions as ce
    except ImportError:  # pragma: no cover - typer < 0.16
        from click import exceptions as ce
    no_args = getattr(ce, "NoArgsIsHelpError", None) or type("_NeverRaised", (Exception,), {})
    return ce.ClickException, ce.BadParameter, no_args, typer.Abort


def _given_value(param, args: list[str]) -> str | None:
    """What the user typed for an option (the last occurrence), to quote it back in the error."""
    opts = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
    if not opts or getattr(param, "param_type_name", "") != "option":
        return None
    found = None
    for i, tok in enumerate(args):
        for opt in opts:
            if tok == opt and i + 1 < len(args):
                found = args[i + 1]
            elif opt.startswith("--") and tok.startswith(opt + "="):
                found = tok[len(opt) + 1 :]
    return found


def usage_line(err: Exception, args: list[str]) -> str:
    """A command-line usage error (bad option value, missing argument, unknown option) as one line:
    the option, what was expected and what was given — not click's boxed usage block."""
    _, bad_parameter, _, _ = _click_exceptions()
    ctx = getattr(err, "ctx", None)
    command = ctx.command_path if ctx is not None else "clinicflow"
    param = getattr(err, "param", None)
    message = str(getattr(err, "message", "") or err).strip().rstrip(".")
    message = message[:1].lower() + message[1:]
    if (
        isinstance(err, bad_parameter)
        and param is not None
        and message
        and type(err).__name__ == "BadParameter"
    ):
        names = [*getattr(param, "opts", [])] if getattr(param, "param_type_name", "") == "option" else []
        where = " / ".join(names) or (param.human_readable_name or param.name or "argument")
        given = _given_value(param, args)
        return f"{where}: {message}" + (f", got {given!r}" if given is not None else "")
    text = err.format_message().strip().rstrip(".") if hasattr(err, "format_message") else message
    text = text[:1].lower() + text[1:]
    return f"{text} (see '{command} --help')"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every error ends as one line on stderr and exit code 2."""
    click_exception, _, no_args_is_help, abort = _click_exceptions()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name="clinicflow", standalone_mode=False)
    except ClinicflowError as err:
        sys.exit(report_error(err))
    except no_args_is_help as err:  # ``clinicflow history`` alone: the help is the answer
        err.show()
        sys.exit(err.exit_code)
    except click_exception as err:
        err_console.print(f"error: {usage_line(err, args)}", markup=False)
        sys.exit(err.exit_code if err.exit_code else EXIT_INPUT)
    except abort:
        err_console.print("Aborted.", markup=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
