"""Errors that reach a person: one line naming the file, the place in it and what was expected.

Every input problem in clinicflow is raised as an ``InputError``. The CLI prints ``str(err)``
alone and exits with code 2, so nothing here may carry a traceback's worth of text, and
nothing may quote a patient identifier.
"""

from __future__ import annotations

from pathlib import Path


class ClinicflowError(Exception):
    """Base class of every error clinicflow raises on purpose."""


class InputError(ClinicflowError):
    """Bad input: a malformed file, an unknown id, an impossible value.

    ``where`` is a field path (``providers[2].sessions.tue[0].end``), a row (``row 14``) or a
    column; ``line`` is the line in the file when known.
    """

    def __init__(self, file: str | Path | None, where: str | None, message: str, line: int | None = None):
        self.file = str(file) if file is not None else None
        self.where = where
        self.message = message
        self.line = line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file:line: where: message``; without a file (a command-line option, an API argument)
        the line starts at ``where`` (``--week: expected a Monday, …``)."""
        parts = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.where:
            parts.append(self.where)
        if not parts:
            parts.append("<input>")
        return ": ".join([*parts, self.message])


class InfeasibleError(ClinicflowError):
    """The constraints cannot all hold. ``reasons`` are plain-words explanations, one per line."""

    def __init__(self, summary: str, reasons: list[str] | None = None):
        self.summary = summary
        self.reasons = list(reasons or [])
        text = summary if not self.reasons else summary + "\n" + "\n".join(f"  - {r}" for r in self.reasons)
        super().__init__(text)
