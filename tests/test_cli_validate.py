"""``clinicflow validate`` and ``--version`` as a user runs them."""

import json

from clinicflow import __version__
from conftest import FAMILY, ORTHO, run_cli


def test_version():
    res = run_cli("--version")
    assert res.code == 0
    assert res.stdout.strip() == f"clinicflow {__version__}"


def test_validate_examples_prints_summaries():
    res = run_cli("validate", FAMILY, ORTHO)
    assert res.code == 0, res.stderr
    assert "Maple Street Family Medicine" in res.stdout
    assert "Riverside Orthopaedics" in res.stdout
    assert "6 providers, 54 sessions/week, 12 exam rooms (2 procedure)" in res.stdout
    assert "capacity 12,285 provider-min/week" in res.stdout
    assert "9 OR blocks" in res.stdout


def test_validate_json():
    res = run_cli("validate", "--json", FAMILY)
    assert res.code == 0
    data = json.loads(res.stdout)
    assert data[0]["providers"] == 6
    assert data[0]["provider_minutes"] == 12285
    assert {r["provider"] for r in data[0]["by_provider"]} >= {"dr_okafor", "pa_brooks"}


def test_first_bad_file_stops_with_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clinic: {}\n")
    res = run_cli("validate", FAMILY, bad)
    assert res.code == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith(f"error: {bad}:1: clinic.name: required field is missing")


def test_dashboard_binds_to_localhost_by_default():
    from clinicflow.cli.dashboard import APP, streamlit_command

    cmd = streamlit_command(APP, "127.0.0.1", 8501)
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    res = run_cli("dashboard", "--help")
    assert res.code == 0 and "127.0.0.1" in res.stdout


def test_help_lists_every_command_by_role():
    res = run_cli("--help")
    assert res.code == 0
    for panel in ("Scenario", "Coordinator", "Practice manager", "Analyst", "Everyone"):
        assert panel in res.stdout
    for cmd in (
        "validate",
        "plan",
        "surgery",
        "simulate",
        "compare",
        "sweep",
        "history",
        "calibrate",
        "dashboard",
    ):
        assert f" {cmd} " in res.stdout


def test_help_reflows_docstring_lines():
    """A docstring's line breaks are source wrapping, not the reader's: the help reflows them to the
    terminal (they cut the surgery summary after "room-day," before), and keeps file patterns."""
    res = run_cli("--help")
    flat = " ".join(res.stdout.split())
    assert "sequence each room-day, simulate the week" in flat
    assert "room-day,  " not in res.stdout
    plan = run_cli("plan", "--help")
    assert "one ics/PROVIDER.ics per provider" in plan.stdout


def test_validate_checks_variant_files_with_their_base(tmp_path):
    """A what-if variant (a ``base:`` and no ``clinic:``) is checked as a variant, with its base and the
    scenario it makes, not rejected as a scenario missing its clinic."""
    from conftest import ROOT

    variants = sorted((ROOT / "scenarios" / "variants").glob("*.yaml"))
    r = run_cli("validate", FAMILY, *variants)
    assert r.code == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert (
        f"ok {ROOT / 'scenarios' / 'variants' / 'reminders.yaml'}: variant Text reminders (no-shows x 0.7) "
        "(base ../family-practice.yaml)" in text
    )
    assert text.count(": variant ") == len(variants) and "Maple Street Family Medicine" in text
    bad = tmp_path / "v.yaml"
    bad.write_text(f"name: bad\nbase: {FAMILY}\nproviders_off: {{dr_nobody: [fri]}}\n")
    r = run_cli("validate", bad)
    assert r.code == 2 and r.stderr.strip().startswith(
        f"error: {bad}: providers_off.dr_nobody: unknown provider 'dr_nobody'"
    )
    r = run_cli("validate", "--json", variants[0])
    assert r.code == 2 and r.stderr.strip() == "error: --json: summarizes scenarios; leave variant files out"
