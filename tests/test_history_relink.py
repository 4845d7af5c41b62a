"""``clinicflow history relink``: a booked week's pseudonyms back to the practice's record numbers,
for the EHR — exact ids on exactly the booked rows, a Bundle that still validates and is otherwise
the same, and a refused (never partial) file when an id, the key or the file is wrong."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle

from clinicflow import scenario_from_dict
from clinicflow.data.pseudonym import Pseudonymizer, load_or_create_key
from clinicflow.domain.requests import parse_requests
from clinicflow.domain.schedule import write_schedule_csv
from clinicflow.exports.common import FHIR_SYSTEMS
from clinicflow.exports.fhir import write_fhir_bundle
from clinicflow.exports.relink import relink_table
from clinicflow.solver.booking import apply_booking, book_requests
from clinicflow.solver.plan import plan_week
from conftest import one_line, run_main
from tests_helpers import tiny_data

MONDAY = dt.date(2026, 11, 30)
#: Raw record numbers as an EHR export spells them: leading zeros, one through a spreadsheet.
RAW = ["000123456", "98765432.0", "44556677"]
MRN_SYSTEM = "urn:oid:2.16.840.1.113883.3.4242.1"


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """A tiny practice's planned week with three pseudonymized requests booked, written as plan
    writes it, and the raw export the requests came from."""
    folder = tmp_path_factory.mktemp("relink")
    key_file = folder / "key"
    pseudo = Pseudonymizer(load_or_create_key(key_file))
    s = scenario_from_dict(tiny_data(), "tiny.yaml")
    plan = plan_week(s, MONDAY, time_limit=10, samples=10)
    rows = [
        {
            "patient_id": raw,
            "appointment_type": kind,
            "preferred_provider": "",
            "earliest_date": "2026-11-30",
            "latest_date": "2026-12-01",
            "time_of_day": "any",
            "urgency": "routine",
        }
        for raw, kind in zip(RAW, ("visit", "long", "visit"), strict=True)
    ]
    raw_file = folder / "requests-raw.csv"
    pd.DataFrame(rows).to_csv(raw_file, index=False)
    refs = pd.DataFrame(rows).rename(columns={"patient_id": "patient_ref"})
    refs["patient_ref"] = pseudo.patients(refs["patient_ref"])
    reqs = parse_requests(refs, s)
    sched = apply_booking(s, plan.schedule, reqs, book_requests(s, plan.schedule, reqs))
    assert (sched["kind"] == "booked").sum() == 3
    write_schedule_csv(sched, folder / "schedule.csv")
    write_fhir_bundle(sched, s, folder / "fhir-bundle.json")
    return (
        folder,
        key_file,
        raw_file,
        dict(zip(refs["patient_ref"], ["000123456", "98765432", "44556677"], strict=True)),
    )


def test_schedule_csv_gets_the_record_numbers_on_exactly_the_booked_rows(week):
    folder, key_file, raw_file, ref_to_id = week
    out = folder / "schedule-ehr.csv"
    r = run_main(
        "history", "relink", folder / "schedule.csv", "--ids", raw_file, "--out", out, "--key-file", key_file
    )
    assert r.code == 0, r.stderr
    assert "3 patient references replaced" in r.stdout and "(3 patients)" in r.stdout
    before = pd.read_csv(folder / "schedule.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(out, dtype=str, keep_default_na=False)
    # the id column takes the reference's place; every other column is as it was
    assert list(after.columns) == [("patient_id" if c == "patient_ref" else c) for c in before.columns]
    assert after.drop(columns="patient_id").equals(before.drop(columns="patient_ref"))
    booked = before["kind"] == "booked"
    assert (
        after.loc[booked, "patient_id"].tolist() == before.loc[booked, "patient_ref"].map(ref_to_id).tolist()
    )
    assert set(after.loc[booked, "patient_id"]) == {"000123456", "98765432", "44556677"}
    assert (after.loc[~booked, "patient_id"] == "").all()
    for raw in ("000123456", "98765432", "44556677"):  # PHI goes to the file, never to the terminal
        assert raw not in r.stdout + r.stderr


def test_fhir_bundle_names_patients_by_record_number_and_is_otherwise_unchanged(week):
    folder, key_file, raw_file, ref_to_id = week
    out = folder / "fhir-ehr.json"
    r = run_main(
        "history", "relink", folder / "fhir-bundle.json", "--ids", raw_file, "--out", out,
        "--system", MRN_SYSTEM, "--key-file", key_file,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    before = json.loads((folder / "fhir-bundle.json").read_text())
    after = json.loads(out.read_text())
    Bundle.model_validate(after)
    seen = {}
    for b, a in zip(before["entry"], after["entry"], strict=True):
        assert a["fullUrl"] == b["fullUrl"] and a["resource"]["id"] == b["resource"]["id"]
        for pb, pa in zip(
            b["resource"].get("participant", []), a["resource"].get("participant", []), strict=True
        ):
            ib, ia = pb["actor"]["identifier"], pa["actor"]["identifier"]
            if ib["system"] == FHIR_SYSTEMS["Patient"]:
                assert ia == {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                                "display": "Medical record number",
                            }
                        ]
                    },
                    "system": MRN_SYSTEM,
                    "value": ref_to_id[ib["value"]],
                }
                assert "display" not in pa["actor"]
                seen[ib["value"]] = ia["value"]
            else:  # providers and rooms keep their references
                assert pa == pb
        a_rest = {k: v for k, v in a["resource"].items() if k != "participant"}
        b_rest = {k: v for k, v in b["resource"].items() if k != "participant"}
        assert a_rest == b_rest
    assert seen == ref_to_id


def test_a_patient_missing_from_the_ids_refuses_the_whole_file(week):
    folder, key_file, raw_file, _ = week
    partial = folder / "two-of-three.csv"
    pd.read_csv(raw_file, dtype=str).iloc[:2].to_csv(partial, index=False)
    for target in ("schedule.csv", "fhir-bundle.json"):
        out = folder / f"partial-{target}"
        r = run_main(
            "history", "relink", folder / target, "--ids", partial, "--out", out, "--key-file", key_file
        )
        assert r.code == 2
        what = "rows with a patient" if target.endswith(".csv") else "patient references"
        assert one_line(r) == (
            f"error: {folder / target}: 1 of 3 {what} are not pseudonyms of any id in {partial}'s column "
            "patient_id (expected the raw file the references were made from, and the same key)"
        )
        assert not out.exists()
        assert "p_" not in r.stderr  # not even the pseudonym is printed


def test_another_key_or_no_key_matches_nobody_and_creates_no_key(week, tmp_path):
    folder, _, raw_file, _ = week
    other = tmp_path / "other-key"
    load_or_create_key(other)
    out = tmp_path / "x.csv"
    r = run_main(
        "history", "relink", folder / "schedule.csv", "--ids", raw_file, "--out", out, "--key-file", other
    )
    assert r.code == 2 and "3 of 3 rows with a patient are not pseudonyms" in r.stderr
    absent = tmp_path / "no-key"
    r = run_main(
        "history", "relink", folder / "schedule.csv", "--ids", raw_file, "--out", out, "--key-file", absent
    )
    assert r.code == 2
    assert one_line(r) == (
        f"error: {absent}: no key file here; expected the key the references were made with (--key-file)"
    )
    assert not absent.exists() and not out.exists()


def test_bad_files_and_paths_get_one_line(week, tmp_path):
    folder, key_file, raw_file, _ = week
    sched = folder / "schedule.csv"

    def relink(file, *extra):
        return run_main("history", "relink", file, "--ids", raw_file, "--key-file", key_file, *extra)

    r = relink(sched, "--out", sched)
    assert r.code == 2 and one_line(r) == f"error: --out: {sched} is an input file; expected a new path"
    r = relink(sched, "--out", tmp_path / "o.csv", "--column", "mrn")
    assert r.code == 2 and one_line(r).startswith(f"error: {raw_file}: column mrn: no such column (columns: ")
    no_ref = tmp_path / "no-ref.csv"
    no_ref.write_text("date,provider\n2026-11-30,doc\n")
    r = relink(no_ref, "--out", tmp_path / "o.csv")
    assert (
        r.code == 2
        and one_line(r) == f"error: {no_ref}: column patient_ref: no such column (columns: date, provider)"
    )
    r = relink(sched, "--out", tmp_path / "o.csv", "--as", "provider")
    assert r.code == 2 and "--as: the file already has a column 'provider'" in one_line(r)
    not_json = tmp_path / "b.json"
    not_json.write_text('{"resourceType": "Bundle",\n "entry": [}\n')
    r = relink(not_json, "--out", tmp_path / "o.json")
    assert r.code == 2 and one_line(r).startswith(f"error: {not_json}:2: not JSON (")
    patient = tmp_path / "p.json"
    patient.write_text('{"resourceType": "Patient"}')
    r = relink(patient, "--out", tmp_path / "o.json")
    assert r.code == 2 and one_line(r) == (
        f"error: {patient}: resourceType: expected a FHIR Bundle (as plan and surgery write)"
    )
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.json").exists()


def test_relink_table_and_the_id_table_by_hand(tmp_path):
    pseudo = Pseudonymizer(load_or_create_key(tmp_path / "key"))
    table = pseudo.patient_table(["  0042 ", "17.0", ""])
    assert table == {pseudo.patient("0042"): "0042", pseudo.patient("17"): "17"}
    df = pd.DataFrame(
        {"kind": ["booked", "hold", "booked"], "patient_ref": [pseudo.patient("17"), "", "p_unknown"]}
    )
    out, result = relink_table(df, "patient_ref", table, "mrn")
    assert out["mrn"].tolist() == ["17", "", ""]
    assert (result.replaced, result.missing, result.patients) == (1, 1, 1)
