"""Consoles for command output: wide enough for tables when output goes to a file or pipe."""

from __future__ import annotations

from rich.console import Console


def stdout_console() -> Console:
    c = Console(highlight=False)
    if not c.is_terminal:
        c = Console(highlight=False, width=120)
    return c
