"""What every page shares: the scenario picker and cached loading. No modelling logic here."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clinicflow import InputError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DEFAULT = SCENARIOS / "family-practice.yaml"


@st.cache_resource(show_spinner=False)
def cached_scenario(path: str, mtime: float):
    return load_scenario(path)


def warm() -> None:
    """Load the default scenario into the cache; ``clinicflow.dashboard_server`` calls this at start-up,
    so the first visitor does not wait for its YAML to be parsed and validated."""
    if DEFAULT.is_file():
        cached_scenario(str(DEFAULT), DEFAULT.stat().st_mtime)


def scenario_files() -> list[Path]:
    files = sorted(p for p in SCENARIOS.glob("*.yaml") if "mapping" not in p.name)
    return files or [DEFAULT]


def pick_scenario():
    """Sidebar picker; opens on the bundled family practice with nothing to configure."""
    files = scenario_files()
    names = [p.name for p in files]
    default = names.index(DEFAULT.name) if DEFAULT.name in names else 0
    name = st.sidebar.selectbox("Scenario", names, index=default, key="scenario_file")
    path = files[names.index(name)]
    try:
        return path, cached_scenario(str(path), path.stat().st_mtime)
    except InputError as err:
        st.error(str(err))
        st.stop()
