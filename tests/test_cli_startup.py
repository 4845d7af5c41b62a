"""The command line's start-up: loading ``clinicflow`` and its commands imports none of the heavy
libraries (the planner, the simulator, the store, the exports); a command imports what it uses when
it runs. Every command, ``--help`` too, paid ~2 s for them before. Checked on the modules loaded,
in a fresh interpreter, not on timings (those depend on the machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import FAMILY, ROOT

#: Top-level packages none of which ``clinicflow --help`` needs (numpy, pydantic and PyYAML are the
#: domain model's; typer and rich the command line's).
HEAVY = {
    "ortools",
    "simpy",
    "numba",
    "scipy",
    "pandas",
    "pyarrow",
    "duckdb",
    "openpyxl",
    "fhir",
    "icalendar",
    "plotly",
    "kaleido",
    "dask",
    "distributed",
    "sklearn",
    "streamlit",
}


def _loaded(code: str) -> tuple[list[str], str]:
    """The heavy packages loaded once ``code`` has run in a fresh interpreter, and its ``FIRST``
    line if it printed one (for a failure's message: which command loaded which first)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COLUMNS", "120")
    probe = (
        f"{code}\n"
        "import json, sys\n"
        f"heavy = {sorted(HEAVY)!r}\n"
        "print('\\nLOADED ' + json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("LOADED "), proc.stdout
    printed = next((ln for ln in lines if ln.startswith("FIRST ")), "")
    return json.loads(lines[-1].removeprefix("LOADED ")), printed


def _run(*commands: tuple[str, ...]) -> str:
    """``clinicflow ARGS`` for each of ``commands`` through the console script's ``main``, in one
    interpreter; exit code 0 expected. Prints (``FIRST``) the heavy packages each one loaded first,
    so a failure names the command."""
    return (
        "import sys\n"
        "from clinicflow.cli.app import main\n"
        f"heavy = {sorted(HEAVY)!r}\n"
        "first = {}\n"
        f"for args in {[list(c) for c in commands]!r}:\n"
        "    before = {m.split('.')[0] for m in sys.modules}\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), (args, e.code)\n"
        "    new = {m.split('.')[0] for m in sys.modules} - before\n"
        "    if new & set(heavy):\n"
        "        first[' '.join(args)] = sorted(new & set(heavy))\n"
        "print('\\nFIRST', first)\n"
    )


def test_importing_clinicflow_loads_no_heavy_library():
    assert _loaded("import clinicflow")[0] == []


def test_loading_the_command_line_loads_no_heavy_library():
    assert _loaded("import clinicflow.cli.app")[0] == []


def test_help_loads_no_heavy_library():
    """``plan --help`` does not load the planner (OR-Tools, numba), nor ``compare --help`` the
    simulator, though their help lists choices the what-ifs define (``POLICIES``)."""
    commands = [("--help",), ("history", "--help")]
    commands += [(c, "--help") for c in ("plan", "book", "simulate", "compare", "sweep", "calibrate")]
    commands += [(c, "--help") for c in ("surgery", "validate", "dashboard")]
    commands += [("history", c, "--help") for c in ("import", "report", "fit", "synthesize", "pseudonymize")]
    commands += [("history", c, "--help") for c in ("draft", "backtest", "relink")]
    loaded, printed = _loaded(_run(*commands))
    assert loaded == [], printed


def test_validate_loads_pandas_for_the_summary_and_nothing_heavier():
    loaded, printed = _loaded(_run(("validate", str(FAMILY))))
    assert loaded == ["pandas", "pyarrow"], printed
