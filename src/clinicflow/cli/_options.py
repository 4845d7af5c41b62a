"""Errors about API arguments, told in the command line's words.

The library names the argument it was given (``days``, ``engine``, ``cluster``); a person at the
command line typed ``--days``. Commands whose options share the arguments' names wrap the call in
:func:`named_as_options` so the one-line error names what the person can change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import InputError


@contextlib.contextmanager
def named_as_options(*names: str) -> Iterator[None]:
    """Re-raise an ``InputError`` about argument ``name`` (no file) as one about ``--name``."""
    try:
        yield
    except InputError as err:
        if err.file is None and err.where in names:
            raise InputError(None, f"--{err.where}", err.message, line=err.line) from None
        raise
