"""The case file: validated reading, one-line errors naming file, row and column."""

import datetime as dt

import pytest

from clinicflow.domain.cases import COLUMNS, read_cases_csv, write_cases_csv
from clinicflow.errors import InputError
from conftest import ROOT, run_cli

HEADER = ",".join(COLUMNS)
GOOD = "C1,dr_osei,acl,PT-0001,,2026-11-30,2026-12-20,approved,2026-11-20,2,,yes,,2026-11-01"


def _write(tmp_path, *rows, header=HEADER):
    p = tmp_path / "cases.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


def test_reads_a_good_row(tmp_path, ortho):
    (c,) = read_cases_csv(_write(tmp_path, GOOD), ortho)
    assert c.case_id == "C1" and c.priority == 2 and c.asc_ok and c.auth_date == dt.date(2026, 11, 20)
    assert c.duration(ortho).mean == pytest.approx(100)
    assert c.needs(ortho) == ()


def test_surgeon_estimate_keeps_the_type_cv(tmp_path, ortho):
    row = GOOD.replace("PT-0001,,", "PT-0001,130,")
    (c,) = read_cases_csv(_write(tmp_path, row), ortho)
    d = c.duration(ortho)
    assert d.mean == pytest.approx(130) and d.sd / d.mean == pytest.approx(22 / 100)


def test_case_equipment_adds_to_the_type(tmp_path, ortho):
    row = "C2,dr_alvarez,orif_ankle,,,2026-11-30,2026-12-20,approved,2026-11-20,3,2026-12-05,no,robot,"
    (c,) = read_cases_csv(_write(tmp_path, row), ortho)
    assert c.needs(ortho) == ("c_arm", "robot") and c.last_date == dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        (
            GOOD.replace("2026-11-30", "30/11/2026"),
            "row 2, column earliest_date",
            "expected a date like 2026-11-30",
        ),
        (GOOD.replace("dr_osei", "dr_who"), "row 2, column surgeon", "unknown surgeon 'dr_who'"),
        (GOOD.replace("dr_osei", "pa_kowalski"), "row 2, column surgeon", "is a PA, not a surgeon"),
        (GOOD.replace(",acl,", ",tkr,"), "row 2, column case_type", "unknown case type 'tkr'"),
        (
            GOOD.replace("approved,2026-11-20", "approved,"),
            "row 2, column auth_approved_date",
            "needs its approval date",
        ),
        (
            GOOD.replace("approved", "maybe"),
            "row 2, column auth_status",
            "expected approved, pending or denied",
        ),
        (GOOD.replace(",2,,yes", ",9,,yes"), "row 2, column priority", "expected a whole number 1-5, got 9"),
        (GOOD.replace(",yes,", ",perhaps,"), "row 2, column asc_ok", "expected yes or no"),
        (GOOD.replace("2026-12-20", "2026-11-01"), "row 2, column latest_date", "on or after earliest_date"),
        (GOOD.replace(",yes,,", ",yes,laser,"), "row 2, column equipment", "unknown equipment 'laser'"),
        (GOOD.replace("PT-0001,,", "PT-0001,-5,"), "row 2, column expected_duration", "between 0 and 1440"),
        (
            GOOD.replace("PT-0001", "PT-0001 Smith"),
            "row 2, column patient_ref",
            "expected a pseudonymous reference",
        ),
        (
            GOOD.replace("PT-0001", "=PT-0001"),
            "row 2, column patient_ref",
            "expected a pseudonymous reference",
        ),
    ],
)
def test_bad_cells_name_row_and_column(tmp_path, ortho, row, where, message):
    p = _write(tmp_path, row)
    with pytest.raises(InputError) as e:
        read_cases_csv(p, ortho)
    assert e.value.where == where
    assert message in e.value.message
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    assert "PT-0001" not in str(e.value) and "Smith" not in str(e.value)  # never quote a patient reference


def test_duplicate_ids_and_columns(tmp_path, ortho):
    with pytest.raises(InputError, match=r"row 3, column case_id: duplicate case id 'C1' \(first on row 2\)"):
        read_cases_csv(_write(tmp_path, GOOD, GOOD), ortho)
    with pytest.raises(InputError, match="column colour: unknown column"):
        read_cases_csv(_write(tmp_path, GOOD + ",x", header=HEADER + ",colour"), ortho)
    with pytest.raises(InputError, match="column auth_status: missing column"):
        read_cases_csv(
            _write(tmp_path, "C1", header="case_id,surgeon,case_type,earliest_date,latest_date"), ortho
        )


def test_round_trip(tmp_path, ortho):
    from clinicflow.data.synthetic_cases import generate_cases

    cases = generate_cases(ortho, dt.date(2026, 11, 30), 30, seed=5)
    p = tmp_path / "rt.csv"
    write_cases_csv(cases, p)
    assert read_cases_csv(p, ortho) == cases


def test_cli_bad_case_file_is_one_line(tmp_path):
    p = _write(tmp_path, GOOD.replace("dr_osei", "dr_who"))
    r = run_cli(
        "surgery",
        ROOT / "scenarios/orthopedic-practice.yaml",
        "--week",
        "2026-11-30",
        "--cases",
        p,
        "--out",
        tmp_path / "o",
    )
    assert r.code == 2
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines == [
        f"error: {p}: row 2, column surgeon: unknown surgeon 'dr_who' (expected one of: dr_nakamura, dr_osei, dr_fischer, dr_alvarez)"
    ]
    assert not (tmp_path / "o").exists()


def test_dated_block_replaces_the_weekly_one(ortho):
    import yaml

    from clinicflow.domain.surgery_schedule import week_room_days
    from clinicflow.scenario_file import scenario_from_dict

    data = yaml.safe_load((ROOT / "scenarios/orthopedic-practice.yaml").read_text())
    # Dr. Nakamura swaps Monday's OR3 block for a short afternoon one that week
    data["surgery"]["blocks"].append(
        {
            "facility": "stluke",
            "room": "OR3",
            "date": "2026-11-30",
            "start": "12:00",
            "end": "16:00",
            "surgeon": "dr_osei",
        }
    )
    sc = scenario_from_dict(data)
    mon = [r for r in week_room_days(sc, dt.date(2026, 12, 2)) if r.date == dt.date(2026, 11, 30)]
    assert [(r.room, r.start, r.end, r.owner) for r in mon] == [("OR3", 720, 960, "dr_osei")]
    assert len(week_room_days(ortho, dt.date(2026, 12, 6))) == 9  # a Sunday belongs to the week before it


def test_cli_missing_case_file(tmp_path):
    r = run_cli(
        "surgery",
        ROOT / "scenarios/orthopedic-practice.yaml",
        "--week",
        "2026-11-30",
        "--cases",
        tmp_path / "no.csv",
    )
    assert r.code == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"error: {tmp_path / 'no.csv'}: file not found"
