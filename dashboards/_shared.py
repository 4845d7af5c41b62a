"""What every page shares: the scenario picker and cached loading. No modelling logic here."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import streamlit as st

from clinicflow import InputError, load_scenario

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEFAULT = SCENARIOS / "family-practice.yaml"
#: Scenario files named on ``clinicflow dashboard``'s command line (a JSON list of absolute paths, checked by the CLI before the server starts): a practice's own scenarios are
#: listed first, and the first is the one every page opens on.
GIVEN = "CLINICFLOW_SCENARIOS"


@st.cache_resource(show_spinner=False)
def cached_scenario(path: str, mtime: float):
    return load_scenario(path)


def given_files() -> list[Path]:
    """The practice's own scenario files, in the order given (those since deleted are left out)."""
    try:
        given = json.loads(os.environ.get(GIVEN) or "[]")
    except ValueError:  # set by hand to something else: the bundled examples still open
        given = []
    return [Path(e) for e in given if isinstance(e, str) and e and Path(e).is_file()]


def default_file() -> Path:
    given = given_files()
    return given[0] if given else DEFAULT


def warm() -> None:
    """Load the default scenario into the cache; ``clinicflow.dashboard_server`` calls this at start-up,
    so the first visitor does not wait for its YAML to be parsed and validated."""
    path = default_file()
    if path.is_file():
        cached_scenario(str(path), path.stat().st_mtime)


def scenario_files() -> list[Path]:
    """The given files first, then the bundled examples (history mapping files are not scenarios)."""
    bundled = sorted(p for p in SCENARIOS.glob("*.yaml") if "mapping" not in p.name)
    given = given_files()
    files = given + [p for p in bundled if p not in given]
    return files or [DEFAULT]


def scenario_choices(files: list[Path]) -> dict[str, Path]:
    """Picker labels: the file name, or the whole path where two files share a name (a practice's
    own ``family-practice.yaml`` beside the bundled one)."""
    names = [p.name for p in files]
    return {(p.name if names.count(p.name) == 1 else str(p)): p for p in files}


#: The scenario last picked, by path: a page's widgets are its own (Streamlit drops a widget's value
#: when another page is shown), so the picker of the next page opens on this one.
CHOSEN = "scenario_chosen"


def chosen_index(choices: dict[str, Path]) -> int:
    """Where a picker over ``choices`` opens: the scenario picked last on any page, else the first
    given scenario, else the bundled family practice (else the first choice)."""
    paths = list(choices.values())
    for want in (st.session_state.get(CHOSEN), str(default_file())):
        for i, p in enumerate(paths):
            if str(p) == want:
                return i
    return 0


def remember(path: Path) -> None:
    st.session_state[CHOSEN] = str(path)


def load_or_stop(path: Path):
    """The scenario in ``path``, or its one-line error and the page stopped (a file checked when the
    server started may have been edited since)."""
    try:
        return cached_scenario(str(path), path.stat().st_mtime)
    except InputError as err:
        st.error(str(err))
        st.stop()


def pick_scenario(clinic: bool = True):
    """Sidebar picker; opens on the scenario picked last (on any page), at first on the first given
    scenario, else the bundled family practice.

    A page that simulates or plans clinic sessions (``clinic``) stops with a note on a surgery-only
    scenario, as the CLI's clinic commands refuse it."""
    choices = scenario_choices(scenario_files())
    labels = list(choices)
    name = st.sidebar.selectbox("Scenario", labels, index=chosen_index(choices), key="scenario_file")
    path = choices[name]
    remember(path)
    scenario = load_or_stop(path)
    if clinic and not scenario.has_clinic_sessions:
        st.warning(f"{name} has no clinic sessions (surgery only): its OR blocks are on the Surgery page.")
        st.stop()
    return path, scenario


def fresh_for(path: Path, prefix: str, keep: tuple[str, ...] = ()) -> None:
    """Reset the page's widgets whose keys start with ``prefix`` (but not those in ``keep``) when
    the scenario is another than the one they were set for: changes made to one practice's staff
    and providers are not carried over to the next practice picked. Call before the widgets."""
    mark = f"{prefix}_scenario_"
    if st.session_state.get(mark, str(path)) != str(path):
        for k in [k for k in st.session_state if k.startswith(prefix) and k != mark and k not in keep]:
            del st.session_state[k]
    st.session_state[mark] = str(path)


def read_upload(name: str, data: bytes, read: Callable[[Path], T]) -> T:
    """``read`` an uploaded file, saved under its own name in a private temporary folder.

    The readers name the file in their one-line errors; a person who uploaded ``requests.csv`` should
    read ``requests.csv: row 3, …``, not the temporary folder's path.

    The saved copy is deleted once read, whatever happened: an appointment export carries raw patient
    identifiers, which only its pseudonymized import may keep. (What ``read`` writes beside it, such
    as the import's store, stays with the folder.)
    """
    folder = Path(tempfile.mkdtemp(prefix="clinicflow-upload-"))
    f = folder / Path(name).name
    try:
        f.write_bytes(data)
        return read(f)
    except InputError as err:
        if err.file != str(f):
            raise
        # a reader quoting a library's message may repeat the path: the person's file name there too
        message = err.message.replace(str(f), name).replace(str(f.parent), "")
        raise InputError(name, err.where, message, err.line) from None
    finally:
        f.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # left when the reader wrote something there
            folder.rmdir()
