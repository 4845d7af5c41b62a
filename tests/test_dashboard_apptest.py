"""Every dashboard page driven headless with Streamlit's AppTest, asserting real values."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT

PAGES = ROOT / "dashboards" / "pages"


def _run(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_practice_page_family():
    at = _run("practice.py")
    assert at.title[0].value == "Maple Street Family Medicine"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Providers"] == "6"
    assert metrics["Sessions / week"] == "54"
    assert metrics["Exam rooms"] == "12"
    assert metrics["Provider minutes / week"] == "12,285"
    assert metrics["Demand load"] == "79%"
    df = at.dataframe[0].value
    assert set(df["provider"]) >= {"dr_okafor", "pa_brooks"}


@pytest.mark.parametrize("name, providers", [("orthopedic-practice.yaml", "6")])
def test_practice_page_switches_scenario(name, providers):
    at = _run("practice.py")
    at.sidebar.selectbox(key="scenario_file").select(name).run()
    assert not at.exception
    assert at.title[0].value == "Riverside Orthopaedics"
    assert {m.label: m.value for m in at.metric}["Providers"] == providers


def test_flow_page_simulates_and_names_the_bottleneck():
    at = _run("flow.py", flow_reps=5)
    assert at.title[0].value == "Patient flow"
    assert at.info[0].value.startswith("The bottleneck is ")
    metrics = {m.label: m.value for m in at.metric}
    wait = float(metrics["Mean wait"].split()[0])
    assert 0 < wait < 30
    seen = float(metrics["Patients seen / week"].replace(",", ""))
    assert 350 < seen < 520  # ~430 booked visits less no-shows, plus walk-ins
    assert len(at.get("plotly_chart")) == 6
