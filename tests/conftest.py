"""Shared fixtures: the example scenarios, a tiny clinic, and a runner for the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FAMILY = SCENARIOS / "family-practice.yaml"
ORTHO = SCENARIOS / "orthopedic-practice.yaml"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> CliResult:
    """Run ``python -m clinicflow`` in a subprocess, as a user would run the command."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    proc = subprocess.run(
        [sys.executable, "-m", "clinicflow", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def run_main(*args) -> CliResult:
    """``clinicflow ARGS`` in this process: exit code, stdout, stderr (a subprocess per command
    would double the time of tests that run many)."""
    import io

    from clinicflow.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
    finally:
        sys.stdout, sys.stderr = old
    return CliResult(info.value.code, out.getvalue(), err.getvalue())


def one_line(r: CliResult) -> str:
    """The single stderr line of a run that exited 2 without a traceback."""
    assert r.code == 2, (r.code, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture(scope="session")
def family():
    from clinicflow import load_scenario

    return load_scenario(FAMILY)


@pytest.fixture(scope="session")
def ortho():
    from clinicflow import load_scenario

    return load_scenario(ORTHO)


TINY_YAML = """\
clinic: {name: Tiny Clinic, timezone: America/Denver, days_open: [mon, tue]}
appointment_types:
  - {id: visit, name: Visit, scheduled_min: 20, duration: {dist: exponential, mean: 15}, no_show: 0.1}
  - {id: long, name: Long visit, scheduled_min: 40, duration: {dist: lognormal, mean: 35, sd: 10},
     rooming_min: 5}
providers:
  - id: doc
    name: Dr. Doc
    role: MD
    appointment_types: [visit, long]
    sessions:
      mon: [{start: "08:00", end: "12:00", breaks: [{start: "10:00", end: "10:15"}], holds: 1}]
      tue: [{start: "13:00", end: "17:00"}]
rooms: {count: 2, turnover_min: 2}
staff:
  front_desk: {count: 1, hourly_cost: 18}
  medical_assistants: {count: 1, hourly_cost: 21}
demand:
  - {type: visit, weekly: 12}
  - {type: long, weekly: 3}
"""


@pytest.fixture()
def tiny_yaml(tmp_path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY_YAML)
    return p


@pytest.fixture()
def tiny(tiny_yaml):
    from clinicflow import load_scenario

    return load_scenario(tiny_yaml)
