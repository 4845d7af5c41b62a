"""The bad-input rule, command by command: one line naming the file, the row or field and what was
expected; exit code 2; no traceback; nothing written half-way.

Each case runs the real ``clinicflow`` entry point (``clinicflow.cli.app.main``) in this process —
one import for the whole table instead of one interpreter per case — and a few run it as a user
does, in a subprocess, to show the same line reaches the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import FAMILY, ORTHO, ROOT, TINY_YAML, one_line, run_cli, run_main

REQ_HEADER = "patient_ref,appointment_type,preferred_provider,earliest_date,latest_date,time_of_day,urgency\n"
REQ_ROW = "P1,visit,doc,2026-11-30,2026-12-01,any,routine\n"
HISTORY_HEADER = "appointment_id,patient_id,provider,appointment_type,start_at,status\n"


def listing(folder) -> list[str]:
    """Every entry under ``folder``, hidden ones included (a temporary folder left behind shows)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture()
def tiny_yaml(tmp_path):
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY_YAML)
    return p


# ---------------------------------------------------------------------------------------------
# Option values: click's usage errors become one line naming the option


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ["simulate", FAMILY, "-n", "0"],
            "error: --replications / -n: input should be greater than or equal to 1, got '0'",
        ),
        (
            ["plan", FAMILY, "--week", "2026-11-30", "--seed", "-1"],
            "error: --seed: input should be greater than or equal to 0, got '-1'",
        ),
        (
            ["simulate", FAMILY, "--seed", "-1"],
            "error: --seed: input should be greater than or equal to 0, got '-1'",
        ),
        (
            ["compare", FAMILY, FAMILY, "--seed", "-1"],
            "error: --seed: input should be greater than or equal to 0, got '-1'",
        ),
        (
            ["sweep", FAMILY, "--vary", "desk=1", "--seed", "-1"],
            "error: --seed: input should be greater than or equal to 0, got '-1'",
        ),
        (
            ["dashboard", "--port", "70000"],
            "error: --port: input should be less than or equal to 65535, got '70000'",
        ),
        (
            ["history", "report", "--min-n", "0"],
            "error: --min-n: input should be greater than or equal to 5, got '0'",
        ),
    ],
    ids=["replications-0", "plan-seed", "simulate-seed", "compare-seed", "sweep-seed", "port", "min-n"],
)
def test_bad_option_values_are_one_line(args, expected):
    assert one_line(run_main(*args)) == expected


def test_non_numbers_missing_arguments_and_unknown_options_are_one_line():
    line = one_line(run_main("simulate", FAMILY, "--seed", "abc"))
    assert line.startswith("error: --seed: ") and line.endswith(", got 'abc'")
    line = one_line(run_main("simulate"))
    assert line.lower().startswith("error: missing argument 'scenario'")
    assert line.endswith("(see 'clinicflow simulate --help')")
    line = one_line(run_main("simulate", FAMILY, "--bogus"))
    assert line == "error: no such option: --bogus (see 'clinicflow simulate --help')"


def test_usage_error_reaches_the_terminal_as_one_line():
    r = run_cli("plan", FAMILY, "--week", "2026-11-30", "--time-limit", "-1")
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.strip() == "error: --time-limit: input should be greater than or equal to 1, got '-1'"


def test_help_and_no_arguments_still_show_help():
    r = run_main("history")
    assert r.code == 2 and "import" in r.stderr + r.stdout and "Traceback" not in r.stderr
    assert run_main("validate", "--help").code == 0


# ---------------------------------------------------------------------------------------------
# Dates out of range, --days, --engine, --cluster


def test_dates_out_of_range_are_one_line(tmp_path, tiny_yaml):
    out = tmp_path / "o"
    assert one_line(run_main("plan", tiny_yaml, "--week", "0001-01-01", "--out", out)) == (
        "error: --week: expected a date between 1900-01-01 and 2999-12-31, got 0001-01-01"
    )
    assert one_line(run_main("plan", tiny_yaml, "--week", "9999-12-27", "--out", out)) == (
        "error: --week: expected a date between 1900-01-01 and 2999-12-31, got 9999-12-27"
    )
    assert one_line(
        run_main("surgery", ORTHO, "--week", "9999-12-31", "--cases", tmp_path / "c.csv", "--out", out)
    ) == ("error: --week: expected a date between 1900-01-01 and 2999-12-31, got 9999-12-31")
    synth = tmp_path / "h.csv"
    assert one_line(run_main("history", "synthesize", synth, "--start", "9999-01-01")) == (
        "error: --start: expected a date between 1900-01-01 and 2999-12-31, got 9999-01-01"
    )
    assert one_line(run_main("simulate", tiny_yaml, "-n", "2", "--days", "0001-01-01")) == (
        "error: --days: expected dates between 1900-01-01 and 2999-12-31, got 0001-01-01"
    )
    assert not out.exists() and not synth.exists()


def test_days_engine_and_cluster_name_the_option(tmp_path, tiny_yaml):
    assert one_line(run_main("simulate", tiny_yaml, "-n", "2", "--days", ",")) == (
        "error: --days: expected weekdays (mon, tue, …) or dates like 2026-01-05, got ','"
    )
    assert one_line(run_main("simulate", tiny_yaml, "-n", "2", "--days", "sun")) == (
        "error: --days: no day to simulate (the schedule has no row on the chosen days)"
    )
    line = one_line(run_main("simulate", tiny_yaml, "-n", "2", "--cluster", "not an address"))
    assert line.startswith("error: --cluster: could not reach the Dask scheduler at not an address (")
    variant = tmp_path / "v.yaml"
    variant.write_text("name: reminders\nno_show_scale: 0.7\n")
    line = one_line(run_main("compare", tiny_yaml, variant, "-n", "2", "--cluster", "nope"))
    assert line.startswith("error: --cluster: could not reach the Dask scheduler at nope (")


# ---------------------------------------------------------------------------------------------
# Output places: refused before the work, never left half-written


def test_out_naming_a_file_or_a_path_through_one(tmp_path, tiny_yaml):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    before = listing(tmp_path)
    cases = [
        ("plan", tiny_yaml, "--week", "2026-11-30", "--out", afile),
        ("surgery", ORTHO, "--week", "2026-11-30", "--cases", tmp_path / "none.csv", "--out", afile),
        ("compare", tiny_yaml, tiny_yaml, "-n", "2", "--out", afile),
        ("sweep", tiny_yaml, "--vary", "desk=1", "-n", "2", "--out", afile),
    ]
    for args in cases:
        assert one_line(run_main(*args)) == (
            f"error: {afile}: expected a folder for the output files, but it is a file"
        ), args
    assert one_line(run_main("plan", tiny_yaml, "--week", "2026-11-30", "--out", afile / "sub")) == (
        f"error: {afile / 'sub'}: cannot create the output folder: {afile} is a file, not a folder"
    )
    assert listing(tmp_path) == before and afile.read_text() == "keep me"


def test_output_files_naming_a_folder(tmp_path, tiny_yaml):
    folder = tmp_path / "folder"
    folder.mkdir()
    afile = tmp_path / "afile"
    afile.write_text("x")
    before = listing(tmp_path)
    assert one_line(run_main("simulate", tiny_yaml, "-n", "2", "--days", "mon", "--events", folder)) == (
        f"error: {folder}: expected a file name, but it is a folder"
    )
    assert one_line(run_main("history", "synthesize", afile / "h.csv", "--rows", "10")) == (
        f"error: {afile / 'h.csv'}: cannot create the file: {afile} is a file, not a folder"
    )
    assert one_line(run_main("calibrate", FAMILY, "--db", tmp_path / "none.duckdb", "--out", folder)) == (
        f"error: {folder}: expected a file name, but it is a folder"
    )
    assert listing(tmp_path) == before


def test_calibrate_checks_both_outputs_before_fitting(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = tmp_path / "cal.yaml"
    r = run_main(
        "calibrate",
        FAMILY,
        "--db",
        tmp_path / "none.duckdb",
        "--out",
        out,
        "--schedule",
        tmp_path / "s.csv",
        "--schedule-out",
        afile / "scored.csv",
    )
    assert (
        one_line(r)
        == f"error: {afile / 'scored.csv'}: cannot create the file: {afile} is a file, not a folder"
    )
    assert not out.exists()  # the scenario is not written when its partner cannot be


def test_atomic_write_files_writes_both_or_neither(tmp_path):
    from clinicflow.errors import InputError
    from clinicflow.exports.common import atomic_write_files

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")

    def fail(p):
        raise OSError(28, "No space left on device")

    with pytest.raises(InputError) as info:
        atomic_write_files({a: lambda p: p.write_text("new a"), b: fail})
    assert str(info.value) == f"{b}: cannot write here (No space left on device)"
    assert a.read_text() == "old a" and not b.exists()
    assert listing(tmp_path) == ["a.txt"]
    atomic_write_files({a: lambda p: p.write_text("new a"), b: lambda p: p.write_text("b")})
    assert (a.read_text(), b.read_text()) == ("new a", "b")


def test_pseudonymize_refuses_to_overwrite_a_column(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("patient_id,provider\n123,doc\n")
    out = tmp_path / "p.csv"
    assert (
        one_line(
            run_main(
                "history", "pseudonymize", src, "--as", "provider", "--out", out, "--key-file", tmp_path / "k"
            )
        )
        == "error: --as: the file already has a column 'provider'; expected a new column name"
    )
    assert not out.exists()


def test_pseudonymize_refuses_to_write_over_its_input(tmp_path, monkeypatch):
    """Pseudonyms cannot be undone: written over the input (by either spelling of its path), the
    raw ids would be gone for good, with the wrong key as well as the right one."""
    src = tmp_path / "s.csv"
    src.write_text("patient_id,provider\n123,doc\n")
    monkeypatch.chdir(tmp_path)
    for same in (src, "s.csv", tmp_path / "." / "s.csv"):
        r = run_main("history", "pseudonymize", src, "--out", same, "--key-file", tmp_path / "k")
        assert one_line(r) == (
            f"error: --out: {same} is the input file; expected another path (delete the raw file once checked)"
        )
    assert src.read_text() == "patient_id,provider\n123,doc\n"
    assert not (tmp_path / "k").exists()  # refused before a key was made


# ---------------------------------------------------------------------------------------------
# CSV files: ragged rows, repeated columns, encodings, quotes, empty files


@pytest.mark.parametrize(
    "content, expected",
    [
        (
            REQ_HEADER + "P1,visit,doc,2026-11-30,2026-12-01,any,routine,x,y\n",
            "row 2: expected 7 cells as in the header, got 9",
        ),
        (
            REQ_HEADER.strip() + ",urgency\n" + REQ_ROW.strip() + ",routine\n",
            "column urgency: the column appears twice in the header",
        ),
        ("", "empty file (expected a header row naming the columns)"),
        (
            REQ_HEADER + 'P1,"visit,doc,2026-11-30,2026-12-01,any,routine\n',
            "row 2: a quoted cell starts here and is never closed",
        ),
        ((REQ_HEADER + "Pé1,visit,doc,2026-11-30,2026-12-01,any,routine\n").encode("latin-1"), None),
        ((REQ_HEADER + REQ_ROW).encode("utf-16"), None),
    ],
    ids=["ragged", "repeated-column", "empty", "unclosed-quote", "latin-1", "utf-16"],
)
def test_bad_requests_csv(tmp_path, tiny_yaml, content, expected):
    req = tmp_path / "req.csv"
    if isinstance(content, bytes):
        req.write_bytes(content)
        line = 2 if b"P\xe91" in content else 1
        byte = 0xE9 if line == 2 else 0xFF
        expected_line = (
            f"error: {req}:{line}: expected UTF-8 text, got byte 0x{byte:02x} (save the file as UTF-8)"
        )
    else:
        req.write_text(content)
        expected_line = f"error: {req}: {expected}"
    out = tmp_path / "o"
    r = run_main("plan", tiny_yaml, "--week", "2026-11-30", "--requests", req, "--out", out)
    assert one_line(r) == expected_line
    assert not out.exists()


def test_trailing_empty_cells_are_not_a_shifted_row(tmp_path, tiny_yaml):
    from clinicflow import load_scenario
    from clinicflow.domain.requests import read_requests_csv

    req = tmp_path / "req.csv"
    req.write_text(REQ_HEADER + REQ_ROW.strip() + ",,\n")
    [r] = read_requests_csv(req, load_scenario(tiny_yaml))
    assert (r.patient_ref, r.appointment_type, r.preferred_provider, r.urgency) == (
        "P1",
        "visit",
        "doc",
        "routine",
    )


def test_schedule_without_rows_names_the_file(tmp_path, tiny_yaml):
    sched = tmp_path / "s.csv"
    sched.write_text("date,provider,start,appointment_type\n")
    assert one_line(run_main("simulate", tiny_yaml, "-n", "2", "--schedule", sched)) == (
        f"error: {sched}: no rows (expected a slot per row: date, provider, start, appointment_type, …)"
    )


def test_history_csv_with_a_ragged_row_and_a_non_store_db(tmp_path):
    hist = tmp_path / "h.csv"
    hist.write_text(HISTORY_HEADER + "A1,P1,doc,visit,2025-01-06T08:00,attended,extra\n")
    db = tmp_path / "h.duckdb"
    assert one_line(run_main("history", "import", hist, "--db", db, "--key-file", tmp_path / "k")) == (
        f"error: {hist}:2: expected 6 cells as in the header, got 7"
    )
    assert not db.exists()
    good = tmp_path / "g.csv"
    good.write_text(HISTORY_HEADER + "A1,P1,doc,visit,2025-01-06T08:00,attended\n")
    before = good.read_bytes()
    line = one_line(run_main("history", "import", good, "--db", good, "--key-file", tmp_path / "k"))
    assert line == (
        f"error: {good}: not a clinicflow history store (expected a DuckDB file; give --db a new or a store file)"
    )
    assert good.read_bytes() == before


def _write_empty_history(path):
    """A history file of ``path``'s format with its columns (or bundle) but no appointment."""
    import json

    import pandas as pd

    if path.suffix == ".csv":
        path.write_text(HISTORY_HEADER + "\n")
    elif path.suffix == ".parquet":
        columns = HISTORY_HEADER.strip().split(",")
        pd.DataFrame({c: pd.Series([], dtype=str) for c in columns}).to_parquet(path)
    else:  # a bundle with a Patient and no Appointment
        patient = {"resource": {"resourceType": "Patient"}}
        path.write_text(json.dumps({"resourceType": "Bundle", "entry": [patient]}))


@pytest.mark.parametrize(
    "name, expected",
    [
        ("h.csv", "no data rows (expected one appointment per row below the header)"),
        ("h.parquet", "no rows (expected one appointment per row)"),
        ("h.json", "no Appointment entries (expected a Bundle with at least one Appointment resource)"),
    ],
    ids=["header-only-csv", "empty-parquet", "bundle-without-appointments"],
)
def test_history_file_without_appointments_is_refused(tmp_path, name, expected):
    hist = tmp_path / name
    _write_empty_history(hist)
    db, key = tmp_path / "h.duckdb", tmp_path / "k"
    before = listing(tmp_path)
    assert one_line(run_main("history", "import", hist, "--db", db, "--key-file", key)) == (
        f"error: {hist}: {expected}"
    )
    assert listing(tmp_path) == before  # no store, no key, no leftovers


def test_header_only_history_leaves_an_existing_store_as_it_was(tmp_path):
    key, db = tmp_path / "k", tmp_path / "h.duckdb"
    good = tmp_path / "g.csv"
    good.write_text(HISTORY_HEADER + "A1,P1,doc,visit,2025-01-06T08:00,attended\n")
    assert run_main("history", "import", good, "--db", db, "--key-file", key).code == 0
    stored = db.read_bytes()
    empty = tmp_path / "e.csv"
    empty.write_text(HISTORY_HEADER)
    assert one_line(run_main("history", "import", empty, "--db", db, "--key-file", key)) == (
        f"error: {empty}: no data rows (expected one appointment per row below the header)"
    )
    assert db.read_bytes() == stored


def test_key_file_that_cannot_be_created(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    hist = tmp_path / "h.csv"
    hist.write_text(HISTORY_HEADER + "A1,P1,doc,visit,2025-01-06T08:00,attended\n")
    db = tmp_path / "h.duckdb"
    line = one_line(run_main("history", "import", hist, "--db", db, "--key-file", afile / "key"))
    assert line.startswith(f"error: {afile / 'key'}: cannot create the key file here (")
    assert not db.exists()


# ---------------------------------------------------------------------------------------------
# clinicflow dashboard --host: checked before the server is started


@pytest.fixture()
def served(monkeypatch):
    """The server command lines ``clinicflow dashboard`` would have run (nothing is started)."""
    from clinicflow.cli import dashboard

    calls: list[list[str]] = []
    monkeypatch.setattr(dashboard, "_serve", lambda cmd, env: calls.append(cmd) or 0)
    return calls


HOST_EXPECTED = "expected a host name or IP address, e.g. 127.0.0.1, 0.0.0.0 or clinic-pc.local"


@pytest.mark.parametrize(
    "host, hint",
    [
        ("", ""),
        ("  ", ""),
        ("clinic pc", ""),
        ("http://x", " (not a URL: leave out the scheme)"),
        ("0.0.0.0:80", " (give the port with --port)"),
        ("[::1]:8501", " (give the port with --port)"),
        ("999.1.1.1", ""),
        ("-clinic", ""),
        ("clinic_pc", ""),
    ],
    ids=[
        "empty",
        "spaces",
        "inner-space",
        "url",
        "port",
        "ipv6-port",
        "bad-ipv4",
        "leading-hyphen",
        "underscore",
    ],
)
def test_dashboard_host_is_checked_before_anything_starts(served, host, hint):
    assert (
        one_line(run_main("dashboard", "--host", host))
        == f"error: --host: {HOST_EXPECTED}{hint}, got {host!r}"
    )
    assert served == []


@pytest.mark.parametrize(
    "host, warns",
    [
        (None, False),
        ("localhost", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("0.0.0.0", True),
        ("::", True),
        ("clinic-pc.local", True),
        ("10.1.2.3", True),
    ],
)
def test_dashboard_hosts_that_bind_and_the_phi_warning(served, host, warns):
    r = run_main("dashboard", *(["--host", host] if host is not None else []))
    assert r.code == 0, r.stderr
    [cmd] = served
    assert cmd[cmd.index("--server.address") + 1] == (host or "127.0.0.1")
    warning = f"warning: serving on {host}: anyone who can reach it sees practice data"
    assert r.stderr.strip() == (warning if warns else "")


def test_dashboard_scenario_files_are_checked_before_anything_starts(served, tmp_path):
    missing = tmp_path / "nope.yaml"
    assert one_line(run_main("dashboard", FAMILY, missing)) == (
        f"error: {missing}: no such scenario file (expected a scenario YAML file)"
    )
    broken = ROOT / "tests" / "data" / "broken" / "unknown_type_ref.yaml"
    line = one_line(run_main("dashboard", broken))
    assert line == one_line(run_main("validate", broken))  # the same line validate gives
    assert line.startswith(f"error: {broken}:")
    assert served == []


def test_dashboard_hands_the_given_scenarios_to_the_pages(monkeypatch, tiny_yaml):
    from clinicflow.cli import dashboard

    envs: list[dict] = []
    monkeypatch.setattr(dashboard, "_serve", lambda cmd, env: envs.append(env) or 0)
    monkeypatch.chdir(tiny_yaml.parent)
    assert run_main("dashboard", "tiny.yaml", FAMILY, "tiny.yaml").code == 0
    assert run_main("dashboard").code == 0
    given, none = (env["CLINICFLOW_SCENARIOS"] for env in envs)
    # absolute (the server runs from the checkout, not from here), in order, each once
    assert json.loads(given) == [str(tiny_yaml), str(FAMILY)]
    assert json.loads(none) == []


# ---------------------------------------------------------------------------------------------
# Scenario and variant files


def _scenario(tmp_path, text: str, name: str = "s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_recursive_yaml_alias_is_one_line(tmp_path):
    p = _scenario(tmp_path, "a: &a [*a]\n")
    assert one_line(run_main("validate", p)).startswith(f"error: {p}:1: clinic: required field is missing")
    data = yaml.safe_load(TINY_YAML)
    text = yaml.safe_dump(data) + "extra: &e [*e]\n"
    p = _scenario(tmp_path, text, "t.yaml")
    assert one_line(run_main("validate", p)).startswith(f"error: {p}:")


@pytest.mark.parametrize(
    "old, new, where, message",
    [
        (
            "mean: 15}",
            "mean: .inf}",
            "appointment_types[0].duration.mean",
            "input should be a finite number, got inf",
        ),
        (
            "no_show: 0.1",
            "no_show: .nan",
            "appointment_types[0].no_show",
            "input should be a finite number, got nan",
        ),
        (
            "      mon: [",
            "      2026-01-05: [",
            "providers[0].sessions.2026-01-05",
            "expected 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun', got '2026-01-05'",
        ),
        (
            "clinic: {name: Tiny Clinic, timezone: America/Denver, days_open: [mon, tue]}",
            "clinic: 12",
            "clinic",
            "expected a mapping of fields (name: value), got 12",
        ),
    ],
    ids=["inf", "nan", "date-key", "clinic-not-a-mapping"],
)
def test_scenario_values(tmp_path, old, new, where, message):
    assert old in TINY_YAML
    text = TINY_YAML.replace(old, new)
    p = _scenario(tmp_path, text)
    line_no = next(i for i, ln in enumerate(text.splitlines(), 1) if new.split(":")[0].strip() in ln)
    assert one_line(run_main("validate", p)) == f"error: {p}:{line_no}: {where}: {message}"


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        (
            "name: closed\nproviders_off: {doc: [mon, tue]}\n",
            "providers_off: the variant leaves no provider session in the week (nothing to schedule or simulate)",
        ),
        (
            "name: no MAs\nmedical_assistants: 0\n",
            "medical_assistants: would leave no medical assistant on duty all week, while long needs MA "
            "rooming (rooming_min); expected at least 1",
        ),
    ],
    ids=["no-session", "no-ma"],
)
def test_variant_the_practice_cannot_run_names_the_file_and_field(tmp_path, tiny_yaml, variant, message):
    v = _scenario(tmp_path, variant, "v.yaml")
    out = tmp_path / "o"
    assert one_line(run_main("compare", tiny_yaml, v, "-n", "2", "--out", out)) == f"error: {v}: {message}"
    assert not out.exists()


@pytest.mark.parametrize(
    "vary, expected",
    [
        (
            "noshow=-1",
            "error: --vary noshow: noshow=-1.0 means no_show_scale=-1.0: input should be greater than or equal to 0",
        ),
        (
            "rooms=53",
            "error: --vary rooms: rooms=53 means extra_rooms=51: input should be less than or equal to 50",
        ),
        (
            "rooms=0",
            "error: --vary rooms: rooms=0: would leave no exam room (expected at least 1)",
        ),
        (
            "rooms=1",
            "error: --vary rooms: rooms=1: providers[0].rooms_at_once: expected at most the clinic's 1 rooms, got 2",
        ),
        (
            "mas=0",
            "error: --vary mas: mas=0: would leave no medical assistant on duty all week, while long needs "
            "MA rooming (rooming_min); expected at least 1",
        ),
        ("mas=-1", "error: --vary mas=-1: expected non-negative whole numbers for mas"),
        ("desk=-1..2", "error: --vary desk=-1..2: expected non-negative whole numbers for desk"),
    ],
    ids=[
        "noshow-negative",
        "too-many-rooms",
        "no-rooms-left",
        "rooms-at-once",
        "no-mas",
        "mas-neg",
        "desk-neg",
    ],
)
def test_sweep_values_a_variant_cannot_take(tmp_path, tiny_yaml, vary, expected):
    out = tmp_path / "o"
    assert one_line(run_main("sweep", tiny_yaml, "--vary", vary, "-n", "2", "--out", out)) == expected
    assert not out.exists()


def test_sweep_names_the_knob_that_breaks_a_point_of_a_grid(tmp_path, tiny_yaml):
    out = tmp_path / "o"
    # mas=0 is the second value of the second knob: found before anything is simulated
    r = run_main("sweep", tiny_yaml, "--vary", "desk=1..2", "--vary", "mas=1,0", "-n", "2", "--out", out)
    assert one_line(r) == (
        "error: --vary mas: mas=0: would leave no medical assistant on duty all week, while long needs "
        "MA rooming (rooming_min); expected at least 1"
    )
    assert r.stdout.strip() == "" and not out.exists()


def test_no_ma_is_fine_when_no_type_needs_rooming(tmp_path):
    from clinicflow import scenario_from_dict
    from clinicflow.whatif import sweep
    from clinicflow.whatif.grid import parse_vary

    data = yaml.safe_load(TINY_YAML)
    for t in data["appointment_types"]:
        t.pop("rooming_min", None)
    base = scenario_from_dict(data, "no-rooming.yaml")
    res = sweep(base, [parse_vary("mas=0,1")], replications=2, seed=3)
    # without rooming an MA changes nothing but the payroll: 1 MA × 10.5 open hours × 2 days × $21
    t = res.table.set_index("mas")
    assert list(t.index) == [0, 1]
    assert t.loc[1, "staff_cost_week"] - t.loc[0, "staff_cost_week"] == pytest.approx(441.0)
    for kpi in ("mean_wait_min", "p90_wait_min", "patients_seen", "provider_overtime_min"):
        assert t.loc[0, kpi] == t.loc[1, kpi], kpi
    assert t.loc[1, "patients_seen"] > 0


def test_sweep_wait_kpi_is_named_as_itself(tiny_yaml):
    line = one_line(run_main("sweep", tiny_yaml, "--vary", "desk=1", "--wait-kpi", "foo"))
    assert line.startswith("error: --wait-kpi: unknown KPI 'foo' (expected one of: mean_wait_min, ")


def test_missing_chrome_for_png_is_one_clinicflow_error(tmp_path, monkeypatch):
    import plotly.graph_objects as go

    from clinicflow.errors import ClinicflowError
    from clinicflow.viz import whatif

    # the drawing child fails as Kaleido does without a browser
    no_chrome = "raise RuntimeError('Kaleido requires Google Chrome to be installed.')"
    monkeypatch.setattr(whatif, "_PNG_SCRIPT", no_chrome)
    with pytest.raises(ClinicflowError) as info:
        whatif.write_figure(go.Figure(), tmp_path / "differences")
    assert str(info.value) == (
        "cannot draw differences.png: Kaleido requires Google Chrome to be installed. "
        "(install Chrome or Chromium, or run plotly_get_chrome)"
    )


def test_a_wedged_png_drawing_is_killed_with_its_browser_and_tried_again(tmp_path, monkeypatch):
    """Seen in CI: Kaleido's Chromium never answered and ``compare --out`` waited 12 minutes. The
    drawing child and everything it started are killed at the deadline; a second try, then one line."""
    import time

    import plotly.graph_objects as go

    from clinicflow.errors import ClinicflowError
    from clinicflow.viz import whatif

    pids = tmp_path / "pids"
    wedged = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pids)!r}, 'a').write(str(p.pid) + '\\n')\n"
        "time.sleep(120)\n"
    )
    monkeypatch.setattr(whatif, "_PNG_SCRIPT", wedged)
    t0 = time.monotonic()
    with pytest.raises(ClinicflowError) as info:
        whatif.write_png(go.Figure(), str(tmp_path / "x.png"), width=100, height=100, timeout_s=2, attempts=2)
    assert str(info.value) == (
        "cannot draw x.png: Chromium did not draw it within 2 s (install Chrome or Chromium, or run plotly_get_chrome)"
    )
    assert time.monotonic() - t0 < 20
    started = [int(x) for x in pids.read_text().split()]
    assert len(started) == 2  # tried twice
    time.sleep(0.5)

    def alive(pid: int) -> bool:  # a killed process may linger as a zombie until something reaps it
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    assert [pid for pid in started if alive(pid)] == []  # each try's "browser" went with it


def test_unknown_case_type_lists_the_scenario_types_in_order(tmp_path, ortho):
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "case_id,surgeon,case_type,earliest_date,latest_date,auth_status\n"
        "C1,dr_alvarez,heart_transplant,2026-11-20,2026-12-13,approved\n"
    )
    out = tmp_path / "o"
    line = one_line(run_main("surgery", ORTHO, "--week", "2026-11-30", "--cases", cases, "--out", out))
    expected = ", ".join(ct.id for ct in ortho.surgery.case_types)
    assert line == (
        f"error: {cases}: row 2, column case_type: unknown case type 'heart_transplant' (expected one of: {expected})"
    )
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Files found by mutating the bundled examples (tests/data/broken/): each once printed a traceback,
# a second line, a line naming no file, or a message about the wrong thing

BROKEN = ROOT / "tests" / "data" / "broken"
FILES = BROKEN / "files"
NOT_IMPORTED = "; nothing was imported (--skip-bad-rows loads the good rows and quarantines the rest)"


@pytest.mark.parametrize(
    "args, file, expected",
    [
        (
            ["validate", BROKEN / "deeply_nested.yaml"],
            BROKEN / "deeply_nested.yaml",
            "not valid YAML: nested too deeply (expected a few levels of mappings and lists)",
        ),
        (
            ["validate", BROKEN / "demand_twice.yaml"],  # was summed by validate, last-wins in plan
            BROKEN / "demand_twice.yaml",
            ":23: demand[2].type: demand for 'visit' is already given in demand[0] (expected one row per "
            "type and provider)",
        ),
        (
            ["simulate", BROKEN / "no_sessions.yaml", "-n", "2"],
            BROKEN / "no_sessions.yaml",
            ":9: providers: no provider has a session in the week (expected at least one under "
            "providers[].sessions)",
        ),
        (
            [
                "surgery",
                BROKEN / "overtime_target_zero.yaml",  # the solver asked for a 100th percentile
                "--week",
                "2026-11-30",
                "--cases",
                ROOT / "scenarios" / "orthopedic-cases.csv",
            ],
            BROKEN / "overtime_target_zero.yaml",
            ":184: surgery.overtime_target: input should be greater than 0, got 0",
        ),
        (
            ["plan", FAMILY, "--week", "2026-11-30", "--requests", FILES / "requests_semicolons.csv"],
            FILES / "requests_semicolons.csv",
            "expected columns separated by commas, but the header row is separated by ';'",
        ),
        (
            ["surgery", ORTHO, "--week", "2026-11-30", "--cases", FILES / "cases_semicolons.csv"],
            FILES / "cases_semicolons.csv",
            "expected columns separated by commas, but the header row is separated by ';'",
        ),
        (
            ["history", "import", FILES / "history_year_one.csv"],
            FILES / "history_year_one.csv",
            ":3: checkin_at: expected a date between 1900-01-01 and 2262-04-11, got '0001-01-01T08:15'"
            + NOT_IMPORTED,
        ),
        (
            ["history", "import", FILES / "history_day_first.csv"],  # pandas' dayfirst warning was a 2nd line
            FILES / "history_day_first.csv",
            ":2: negative age -2" + NOT_IMPORTED,
        ),
        (
            ["history", "import", FILES / "bundle_deeply_nested.json"],
            FILES / "bundle_deeply_nested.json",
            "not valid JSON: nested too deeply (expected a FHIR Bundle of Appointment resources)",
        ),
        (
            ["history", "import", FILES / "bundle_year_9999.json"],
            FILES / "bundle_year_9999.json",
            ": entry 1: start_at: expected a date between 1900-01-01 and 2262-04-11, got "
            "'9999-12-31T09:00:00-06:00'" + NOT_IMPORTED,
        ),
        (
            [
                "history",
                "import",
                FILES / "history_mapped.csv",
                "--mapping",
                FILES / "mapping_time_only_format.yaml",
            ],
            FILES / "mapping_time_only_format.yaml",
            ":6: datetime_format: expected a strftime format of a date and time, e.g. '%m/%d/%Y %H:%M', "
            "got '%H:%M'",
        ),
    ],
    ids=[
        "yaml-nested-too-deeply",
        "demand-twice",
        "scenario-without-sessions",
        "overtime-target-zero",
        "requests-semicolons",
        "cases-semicolons",
        "history-year-1",
        "history-day-first-date",
        "bundle-nested-too-deeply",
        "bundle-year-9999",
        "mapping-format-without-date",
    ],
)
def test_fuzzed_files_are_one_line_and_leave_nothing(tmp_path, args, file, expected):
    extra = ["--db", tmp_path / "h.duckdb", "--key-file", tmp_path / "key"] if args[0] == "history" else []
    extra += ["--out", tmp_path / "out"] if args[0] in ("plan", "surgery") else []
    line = one_line(run_main(*args, *extra))
    sep = "" if expected.startswith(":") else ": "
    assert line == f"error: {file}{sep}{expected}"
    assert listing(tmp_path) == []  # no output folder, no store, and no key file for a refused import


def test_too_little_history_names_the_store(tmp_path):
    hist = tmp_path / "h.csv"
    hist.write_text(HISTORY_HEADER + "A1,P1,doc,visit,2025-01-06T08:00,attended\n")
    db, key = tmp_path / "h.duckdb", tmp_path / "k"
    assert run_main("history", "import", hist, "--db", db, "--key-file", key).code == 0
    assert one_line(run_main("history", "fit", "--db", db)) == (
        f"error: {db}: too little history for a no-show model (need 200+ kept appointments on 10+ dates, "
        "have 1 on 1)"
    )


def test_calibrate_names_the_store_when_the_fits_make_the_scenario_invalid(tmp_path):
    # every follow_up a no-show, and no cancellation in the history to fit late_cancel from: the
    # scenario's late_cancel is kept beside a no-show rate of 1 (the line said '<calibrated scenario>')
    hist = tmp_path / "h.csv"
    rows = "".join(f"A{i},P{i},dr_chen,follow_up,2025-01-{6 + i % 20:02d}T08:00,no_show\n" for i in range(40))
    hist.write_text(HISTORY_HEADER + rows)
    db, out = tmp_path / "h.duckdb", tmp_path / "cal.yaml"
    assert run_main("history", "import", hist, "--db", db, "--key-file", tmp_path / "k").code == 0
    assert one_line(run_main("calibrate", FAMILY, "--db", db, "--out", out)) == (
        f"error: {db}: appointment_types[3].late_cancel: the fitted values make the scenario invalid: "
        "expected no_show + late_cancel <= 1"
    )
    assert not out.exists()


def test_import_into_another_duckdb_or_under_a_lost_key_writes_nothing(tmp_path):
    import duckdb

    hist = tmp_path / "h.csv"
    hist.write_text(HISTORY_HEADER + "A1,P1,doc,visit,2025-01-06T08:00,attended\n")
    theirs = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(theirs)) as con:
        con.execute("CREATE TABLE sales (a INTEGER)")
    before = theirs.read_bytes()
    key = tmp_path / "k"
    assert one_line(run_main("history", "import", hist, "--db", theirs, "--key-file", key)) == (
        f"error: {theirs}: not a clinicflow history store (a DuckDB file with other tables: sales; "
        "give --db a new or a store file)"
    )
    assert theirs.read_bytes() == before and not key.exists()
    store = tmp_path / "h.duckdb"
    assert run_main("history", "import", hist, "--db", store, "--key-file", key).code == 0
    lost = tmp_path / "lost-key"  # a store built under `key`, imported into with no key file
    line = one_line(run_main("history", "import", hist, "--db", store, "--key-file", lost))
    assert line.startswith(f"error: {store}: this store was built with a different pseudonymization key")
    assert not lost.exists()


def _surgery_only(tmp_path, *, demand: bool) -> Path:
    """The orthopedic practice with its clinic sessions removed: OR blocks only."""
    data = yaml.safe_load(ORTHO.read_text())
    for p in data["providers"]:
        p.pop("sessions", None)
    if not demand:
        data.pop("demand", None)
    path = tmp_path / ("or-demand.yaml" if demand else "or-only.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("simulate", "{f}", "-n", "2"),
        ("compare", "{f}", "{variant}", "-n", "2"),
        ("sweep", "{f}", "--vary", "mas=1..2", "-n", "2"),
        ("plan", "{f}", "--week", "2026-11-30", "--out", "{out}"),
    ],
    ids=["simulate", "compare", "sweep", "plan"],
)
def test_a_surgery_only_scenario_is_refused_by_the_clinic_commands_naming_the_file(tmp_path, args):
    f = _surgery_only(tmp_path, demand=False)
    variant = ROOT / "scenarios" / "variants" / "reminders.yaml"
    out = tmp_path / "out"
    line = one_line(run_main(*(a.format(f=f, variant=variant, out=out) for a in args)))
    assert line == (
        f"error: {f}: providers: no provider has a clinic session (expected sessions under "
        "providers[].sessions; a surgery-only scenario's OR blocks are planned with clinicflow surgery)"
    )
    assert not out.exists()
    # ... while validate accepts it and says what it is, with no "load inf%"
    r = run_main("validate", f)
    assert r.code == 0 and "no clinic sessions (surgery only); 9 OR blocks" in r.stdout
    assert "inf" not in r.stdout


def test_clinic_demand_without_a_clinic_session_is_one_line(tmp_path):
    f = _surgery_only(tmp_path, demand=True)
    line = one_line(run_main("validate", f))
    assert line.startswith(f"error: {f}:")
    assert line.endswith(
        "demand: 6 demand row(s) ask for clinic visits but no provider has a clinic session (expected "
        "sessions under providers[].sessions, or no demand rows in a surgery-only scenario)"
    )


# ---------------------------------------------------------------------------------------------
# Values too large for the models' arithmetic, and weeks with nothing in them (once tracebacks, or
# an error about the wrong thing)


@pytest.mark.parametrize(
    "old, new, where, message",
    [
        (
            "mean: 15}",
            "mean: 1e308}",
            "appointment_types[0].duration",
            "expected minutes: a mean and sd of at most 1440 (a day), got mean 1e+308 and sd 1e+308",
        ),
        (
            "mean: 35, sd: 10}",
            "mean: 35, sd: 1e308}",
            "appointment_types[1].duration",
            "expected minutes: a mean and sd of at most 1440 (a day), got mean 35 and sd 1e+308",
        ),
        (
            "mean: 35, sd: 10}",
            "mu: 800, sigma: 1}",
            "appointment_types[1].duration",
            "expected minutes: a mean and sd of at most 1440 (a day), got mean inf and sd inf",
        ),
        (
            "rooming_min: 5}",
            "rooming_min: {dist: empirical, values: [4, 1e300]}}",
            "appointment_types[1].rooming_min",
            "expected values in minutes, at most 1440 (a day), got 1e+300",
        ),
        (
            "{type: visit, weekly: 12}",
            "{type: visit, weekly: 1e308}",
            "demand[0].weekly",
            "input should be less than or equal to 100000, got '1e308'",
        ),
    ],
    ids=["mean-1e308", "sd-1e308", "lognormal-mu-800", "empirical-1e300", "demand-1e308"],
)
def test_numbers_beyond_a_practice_are_refused_before_they_overflow(tmp_path, old, new, where, message):
    # plan and simulate raised OverflowError / TypeError deep in the timing model and the sampler
    assert old in TINY_YAML
    text = TINY_YAML.replace(old, new)
    p = _scenario(tmp_path, text)
    line_no = next(i for i, ln in enumerate(text.splitlines(), 1) if new in ln)
    expected = f"error: {p}:{line_no}: {where}: {message}"
    out = tmp_path / "o"
    assert one_line(run_main("plan", p, "--week", "2026-11-30", "--out", out)) == expected
    assert one_line(run_main("simulate", p, "-n", "2")) == expected
    assert not out.exists()


def test_demand_beyond_the_template_variables_old_bounds_is_not_called_infeasible():
    # 20,000 follow-ups a week met the template's |slots - share| variable bounded at 10,000: the
    # week was "infeasible" with holds and session lengths named as the conflict
    import datetime as dt

    from clinicflow import scenario_from_dict
    from clinicflow.solver.template import solve_template
    from clinicflow.solver.week import provider_sessions

    data = yaml.safe_load(TINY_YAML)
    data["demand"][0]["weekly"] = 20_000
    s = scenario_from_dict(data, "big.yaml")
    res = solve_template(s, provider_sessions(s, dt.date(2026, 11, 30)), time_limit=2)
    assert res.status in ("optimal", "feasible")
    assert res.coverage[0]["weekly"] == 20_000 and 0 < res.coverage[0]["planned"] < 100


def test_a_week_where_no_visit_fits_is_explained_in_words(tmp_path):
    text = TINY_YAML.replace(
        'mon: [{start: "08:00", end: "12:00", breaks: [{start: "10:00", end: "10:15"}], holds: 1}]',
        'mon: [{start: "08:00", end: "08:10"}]',
    ).replace('tue: [{start: "13:00", end: "17:00"}]', 'tue: [{start: "13:00", end: "13:15"}]')
    p = _scenario(tmp_path, text)
    out = tmp_path / "o"
    r = run_main("plan", p, "--week", "2026-11-30", "--out", out)
    assert r.code == 2 and "Traceback" not in r.stderr
    # was: "error: schedule: no slot to simulate (the schedule is empty: no provider session?)"
    assert r.stderr.splitlines() == [
        "error: the week cannot be built: no visit fits in any session",
        "  - doc's Monday 2026-11-30 session 08:00-08:10 has at most 10 working minutes in a row, shorter "
        "than doc's shortest visit (visit, 20 min)",
        "  - doc's Tuesday 2026-12-01 session 13:00-13:15 has at most 15 working minutes in a row, shorter "
        "than doc's shortest visit (visit, 20 min)",
    ]
    assert not out.exists()
    data = yaml.safe_load(TINY_YAML)
    data.pop("demand")
    data["providers"][0]["sessions"]["mon"][0]["holds"] = 0
    p = _scenario(tmp_path, yaml.safe_dump(data), "nothing.yaml")
    r = run_main("plan", p, "--week", "2026-11-30", "--out", out)
    assert r.code == 2 and r.stderr.splitlines() == [
        "error: the week cannot be built: there is nothing to schedule",
        "  - no demand row asks for a visit (demand[].weekly) and no session keeps same-day holds",
    ]
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Options that ran away: a fork per --workers, a list of 10^12 replications, a grid built before it
# was refused, a "scheduler" that answers garbage


def test_replications_and_workers_have_a_ceiling(tiny_yaml):
    # -n 10^12 built its list of chunks until memory ran out; --workers 100000 forked thousands
    assert one_line(run_main("simulate", tiny_yaml, "-n", "1000000000000")) == (
        "error: --replications / -n: input should be less than or equal to 100000, got '1000000000000'"
    )
    assert one_line(run_main("simulate", tiny_yaml, "-n", "2", "--workers", "100000")) == (
        "error: --workers: input should be less than or equal to 128, got '100000'"
    )
    assert one_line(run_main("sweep", tiny_yaml, "--vary", "desk=1", "--workers", "129")) == (
        "error: --workers: input should be less than or equal to 128, got '129'"
    )


def test_a_process_pool_is_no_larger_than_its_work(monkeypatch, tiny):
    from concurrent.futures import ThreadPoolExecutor

    from clinicflow.sim import replications
    from clinicflow.sim import simulate as run

    sizes: list[int] = []

    class Recording(ThreadPoolExecutor):
        def __init__(self, max_workers, mp_context=None, initializer=None, initargs=()):
            sizes.append(max_workers)
            super().__init__(max_workers, initializer=initializer, initargs=initargs)

    monkeypatch.setattr(replications, "ProcessPoolExecutor", Recording)
    run(tiny, None, replications=3, seed=0, workers=64)
    assert sizes == [3]  # was 64 processes (all started at once under fork) for 3 replications


def test_sweep_grid_is_counted_before_it_is_built(tiny_yaml):
    import time

    t0 = time.monotonic()
    line = one_line(run_main("sweep", tiny_yaml, "--vary", "desk=1..100000000", "-n", "2"))
    assert line == (
        "error: --vary desk=1..100000000: expected at most 200 values per knob, got 100,000,000 (narrow the "
        "range or give a larger step, A..B:STEP)"
    )
    assert time.monotonic() - t0 < 10  # was 45 s, building 10^8 values and variants up to desk=51
    assert one_line(run_main("sweep", tiny_yaml, "--vary", "mas=" + ",".join(["1"] * 201))).endswith(
        "expected at most 200 values per knob, got 201"
    )


def test_cluster_address_where_something_else_answers_is_one_line(tiny_yaml):
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    port = srv.getsockname()[1]

    def serve():  # a web server, say: its reply read as Dask's frame sizes asked numpy for exabytes
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        line = one_line(run_main("simulate", tiny_yaml, "-n", "2", "--cluster", f"tcp://127.0.0.1:{port}"))
    finally:
        srv.close()
    assert line == (
        f"error: --cluster: could not reach the Dask scheduler at tcp://127.0.0.1:{port} (something answered "
        "there, but not a Dask scheduler; expected the address the scheduler prints, e.g. tcp://host:8786)"
    )
