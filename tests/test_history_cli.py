"""The ``clinicflow history`` and ``clinicflow calibrate`` commands, run as a user runs them."""

from __future__ import annotations

import itertools
import json

import pandas as pd
import pytest

from clinicflow import load_scenario
from clinicflow.domain.schedule import read_schedule_csv
from conftest import FAMILY, run_cli, run_main
from history_helpers import _key_in_tmp, generic_file, snapshot  # noqa: F401

#: One worker runs this module, so its module fixture (a solve or a CLI chain) is computed once, not
#: on each xdist worker (``--dist loadgroup``).
pytestmark = pytest.mark.xdist_group("history_cli")


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """synthesize → import → import again → report → fit → calibrate, once for the module. The imports
    run in a subprocess, as a user runs them (nothing they print may hold a raw id); the rest in this
    process (``run_main``: the same entry point without two seconds of start-up each)."""
    tmp = tmp_path_factory.mktemp("cli")
    key = tmp / "key"
    db = tmp / "h.duckdb"
    csv = tmp / "fam.csv"
    out = {}
    out["synth"] = run_main(
        "history", "synthesize", csv, "--rows", "6000", "--scenario", FAMILY, "--weeks", "16", "--seed", "5"
    )
    out["import"] = run_cli("history", "import", csv, "--db", db, "--key-file", key, "--json")
    out["again"] = run_cli("history", "import", csv, "--db", db, "--key-file", key)
    out["report"] = run_main("history", "report", "--db", db, "--json")
    out["report_text"] = run_main("history", "report", "--db", db, "--no-model")
    out["fit"] = run_main("history", "fit", "--db", db)
    sched = tmp / "sched.csv"
    refs = pd.read_csv(csv, dtype=str)["patient_id"]  # raw ids: must never be printed
    out["raw_ids"] = set(refs)
    pd.DataFrame(
        {
            "date": ["2025-05-05", "2025-05-05"],
            "provider": ["dr_okafor", "dr_okafor"],
            "start": ["09:00", "09:20"],
            "appointment_type": ["follow_up", "follow_up"],
            "kind": ["booked", "template"],
            "patient_ref": ["p_00000000000000000000", ""],
        }
    ).to_csv(sched, index=False)
    out["calibrate"] = run_main(
        "calibrate",
        FAMILY,
        "--db",
        db,
        "--out",
        tmp / "cal.yaml",
        "--schedule",
        sched,
        "--schedule-out",
        tmp / "scored.csv",
        "--json",
    )
    out["tmp"], out["db"], out["key"] = tmp, db, key
    return out


def test_synthesize_and_import(flow):
    assert flow["synth"].code == 0, flow["synth"].stderr
    assert "wrote 6,000 synthetic appointments (generic layout)" in flow["synth"].stdout
    r = flow["import"]
    assert r.code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["rows_read"], summary["rows_added"], summary["rows_quarantined"]) == (6000, 6000, 0)
    assert flow["again"].code == 0 and "already imported (import #1); 0 rows added" in flow["again"].stdout


def test_report_json_has_rates_model_and_durations(flow):
    r = flow["report"]
    assert r.code == 0, r.stderr
    rep = json.loads(r.stdout)
    raw = pd.read_csv(flow["tmp"] / "fam.csv", dtype=str)
    booked = (raw["status"] != "cancelled").sum()
    assert rep["overall"]["booked"] == booked
    assert rep["overall"]["no_show_rate"] == pytest.approx((raw["status"] == "no_show").sum() / booked)
    assert set(rep["by"]) == {
        "weekday",
        "hour",
        "lead_band",
        "age_band",
        "appointment_type",
        "provider",
        "reminder",
        "prior_no_shows",
    }
    m = rep["no_show_model"]
    assert 0.55 < m["test"]["roc_auc"] < 0.9 and m["test"]["brier"] < m["test"]["brier_base_rate"] + 0.002
    table = m["calibration_table"]  # tenths, with rows of one prediction kept in one bin
    assert 2 <= len(table) <= 10 and sum(b["n"] for b in table) == m["rows"]["test"]
    assert all(a["p_max"] < b["p_min"] for a, b in itertools.pairwise(table))
    assert any(d["appointment_type"] == "new_patient" and d["provider"] is None for d in rep["durations"])
    text = flow["report_text"].stdout
    assert "by lead_band" in text and "no-show rate" in text


def test_fit_prints_model_and_durations(flow):
    r = flow["fit"]
    assert r.code == 0, r.stderr
    assert "no-show model:" in r.stdout and "test ROC AUC" in r.stdout
    assert "calibration on the test set" in r.stdout and "visit durations" in r.stdout
    assert "by weekday" not in r.stdout


def test_calibrate_writes_a_valid_scenario_and_scored_schedule(flow):
    r = flow["calibrate"]
    assert r.code == 0, r.stderr
    payload = json.loads(r.stdout)
    assert payload["schedule"]["scored_rows"] == 1
    cal = load_scenario(flow["tmp"] / "cal.yaml")
    changed = {c["field"]: c for c in payload["changes"]}
    assert cal.type_by_id["new_patient"].no_show == changed["appointment_types[new_patient].no_show"]["new"]
    scored = read_schedule_csv(flow["tmp"] / "scored.csv", cal)  # the schedule contract still holds
    assert 0 <= scored.loc[0, "no_show_prob"] <= 1 and pd.isna(scored.loc[1, "no_show_prob"])


def test_no_patient_identifier_in_any_output(flow):
    text = "".join(
        flow[k].stdout + flow[k].stderr
        for k in ("synth", "import", "again", "report", "report_text", "fit", "calibrate")
    )
    assert not [i for i in flow["raw_ids"] if i in text]


def _one_line_exit_2(r):
    assert r.code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_bad_file_one_line_exit_2_and_store_unchanged(flow, tmp_path):
    raw = pd.read_csv(flow["tmp"] / "fam.csv", dtype=str, keep_default_na=False).head(300)
    raw.loc[10, "age"] = "-3"
    raw.loc[40, "status"] = "Vanished"
    bad = tmp_path / "bad.csv"
    raw.to_csv(bad, index=False)
    before = snapshot(flow["db"])
    line = _one_line_exit_2(run_main("history", "import", bad, "--db", flow["db"], "--key-file", flow["key"]))
    assert line == (
        f"error: {bad}:12: negative age -3 (and 1 more bad row, at line 42); nothing was imported "
        "(--skip-bad-rows loads the good rows and quarantines the rest)"
    )
    assert snapshot(flow["db"]) == before
    r = run_main(
        "history", "import", bad, "--db", tmp_path / "q.duckdb", "--key-file", flow["key"], "--skip-bad-rows"
    )
    assert r.code == 0 and "2 bad rows quarantined" in r.stdout and "negative age" in r.stdout


def test_bad_invocations(tmp_path):
    line = _one_line_exit_2(run_main("history", "import", tmp_path / "x.csv", "--format", "xml"))
    assert (
        line == "error: --format: expected one of: auto, csv, excel, parquet, fhir, noshow-kaggle, got 'xml'"
    )
    line = _one_line_exit_2(
        run_main("history", "import", tmp_path / "missing.csv", "--db", tmp_path / "h.duckdb")
    )
    assert line == f"error: {tmp_path / 'missing.csv'}: file not found"
    m = tmp_path / "m.yaml"
    m.write_text("columns: [a, b]\n")
    line = _one_line_exit_2(run_main("history", "import", tmp_path / "x.csv", "--mapping", m))
    assert line.startswith(f"error: {m}:1: columns:")
    line = _one_line_exit_2(run_main("history", "report", "--db", tmp_path / "none.duckdb"))
    assert "no history store here" in line
    assert not (tmp_path / "none.duckdb").exists()
    line = _one_line_exit_2(run_main("history", "synthesize", tmp_path / "x.txt"))
    assert "expected a .csv, .xlsx or .parquet file name" in line


def test_pseudonymize_a_schedule_then_score_it(flow, tmp_path):
    raw = pd.read_csv(flow["tmp"] / "fam.csv", dtype=str)
    pid = raw["patient_id"].iloc[0]
    sched = tmp_path / "raw-schedule.csv"
    pd.DataFrame(
        {
            "date": ["2025-05-05", "2025-05-05"],
            "provider": ["dr_okafor", "dr_okafor"],
            "start": ["09:00", "09:20"],
            "appointment_type": ["follow_up", "follow_up"],
            "kind": ["booked", "template"],
            "patient_id": [pid, ""],
        }
    ).to_csv(sched, index=False)
    out = tmp_path / "schedule.csv"
    r = run_main("history", "pseudonymize", sched, "--out", out, "--key-file", flow["key"])
    assert r.code == 0, r.stderr
    assert "1 ids replaced" in r.stdout and pid not in r.stdout
    text = out.read_text()
    assert pid not in text
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns)[-1] == "patient_ref" and df["patient_ref"].iloc[0].startswith("p_")
    assert df["patient_ref"].iloc[1] == ""
    from clinicflow.data.pseudonym import Pseudonymizer, load_or_create_key

    assert df["patient_ref"].iloc[0] == Pseudonymizer(load_or_create_key(flow["key"])).patient(pid)
    line = _one_line_exit_2(run_main("history", "pseudonymize", sched, "--out", out, "--column", "mrn"))
    assert "column mrn: no such column" in line


def test_import_summary_says_which_stored_fields_a_thinner_export_kept(tmp_path):
    """A later export without ``age``: the summary counts the rows that kept their stored age (field
    names and counts only, never an id), and ``--json`` carries the same."""
    f, frame = generic_file(tmp_path / "full.csv", rows=300)
    db, key = tmp_path / "h.duckdb", tmp_path / "key"
    assert run_main("history", "import", f, "--db", db, "--key-file", key).code == 0
    later = frame.drop(columns=["age"])
    changed = later.index[later["status"] == "no_show"][:12]
    later.loc[changed, "status"] = "attended"
    later.to_csv(tmp_path / "thin.csv", index=False)
    r = run_main("history", "import", tmp_path / "thin.csv", "--db", db, "--key-file", key)
    assert r.code == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "300 rows read, 0 added, 12 updated, 288 unchanged" in text
    assert "12 updated rows keep their stored age, age_band: the file has no column for them" in text
    ids = set(frame["patient_id"].astype(str)) | set(frame["appointment_id"].astype(str))
    assert not any(i in r.stdout + r.stderr for i in ids)
    later.iloc[::-1].to_csv(tmp_path / "thin-again.csv", index=False)
    r = run_main("history", "import", tmp_path / "thin-again.csv", "--db", db, "--key-file", key, "--json")
    summary = json.loads(r.stdout)
    assert (summary["rows_updated"], summary["rows_unchanged"], summary["rows_merged"]) == (0, 300, 0)
    assert summary["fields_kept"] == []
