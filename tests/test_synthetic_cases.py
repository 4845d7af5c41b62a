"""The synthetic case generator and the shipped example file."""

import datetime as dt

from clinicflow.data.synthetic_cases import generate_cases
from clinicflow.domain.cases import read_cases_csv
from conftest import ROOT

WEEK = dt.date(2026, 11, 30)


def test_shipped_example_is_the_generator_output(ortho):
    shipped = read_cases_csv(ROOT / "scenarios" / "orthopedic-cases.csv", ortho)
    assert len(shipped) >= 60
    assert shipped == generate_cases(ortho, WEEK, len(shipped), seed=1)


def test_keyed_streams_make_case_i_stable(ortho):
    a = generate_cases(ortho, WEEK, 20, seed=3)
    b = generate_cases(ortho, WEEK, 50, seed=3)
    assert a == b[:20]
    assert generate_cases(ortho, WEEK, 20, seed=4) != a


def test_realistic_mix(ortho):
    cases = generate_cases(ortho, WEEK, 400, seed=0)
    by_surgeon = {c.surgeon for c in cases if c.case_type == "tka"}
    assert by_surgeon == {"dr_nakamura"}  # surgeons stay in their specialty
    approved = sum(c.auth_status == "approved" for c in cases) / len(cases)
    assert 0.75 < approved < 0.92
    fractures = [c for c in cases if c.case_type in ("orif_ankle", "orif_radius", "hip_fracture")]
    assert all(c.deadline is not None and c.priority >= 3 for c in fractures)
    assert all(c.patient_ref.startswith("PT-") and len(c.patient_ref) == 11 for c in cases)
