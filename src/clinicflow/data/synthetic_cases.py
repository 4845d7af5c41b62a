"""Synthetic surgical case lists: realistic, reproducible, and free of patient data.

Used for the shipped example (``scenarios/orthopedic-cases.csv``), the tests' randomized
instances and the benchmark. Each case is drawn from its own keyed stream
(``keyed_generator(seed, "synthetic_case", i)``), so case 7 is the same case whether 60 or 150
are generated.

What the mix reflects (orthopaedic practice figures, see the scenario's sources):
- surgeons operate within their specialty (joint replacement, sports, hand, trauma);
- most cases are elective with approved prior authorization; about one in eight is still
  pending with the payer and a few are denied (CAQH/AMA prior-authorization surveys report
  most requests decided within days, a minority pending for weeks);
- fractures carry a clinical deadline one to two weeks from injury and a higher priority;
- about two thirds of patients are cleared for an ambulatory surgery center (ASA I–II);
- some surgeons give their own duration estimate for a case.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from ..domain.cases import SurgicalCase, write_cases_csv
from ..domain.scenario import Scenario
from ..domain.surgery_schedule import week_start_of
from ..streams import keyed_generator

#: Case-type mix per surgeon for the orthopedic example practice (relative weights).
ORTHO_MIX: dict[str, dict[str, float]] = {
    "dr_nakamura": {"tka": 5, "tha": 4, "uka": 2, "knee_scope": 1},
    "dr_osei": {"acl": 4, "knee_scope": 5, "rotator_cuff": 3, "uka": 1},
    "dr_fischer": {"carpal_tunnel": 6, "trigger_finger": 4, "orif_radius": 2},
    "dr_alvarez": {"orif_ankle": 3, "orif_radius": 3, "hip_fracture": 2, "knee_scope": 2, "rotator_cuff": 1},
}
#: Share of cases per surgeon (hand surgery has many short cases).
ORTHO_SHARE = {"dr_nakamura": 0.22, "dr_osei": 0.25, "dr_fischer": 0.30, "dr_alvarez": 0.23}
_FRACTURES = {"orif_radius", "orif_ankle", "hip_fracture"}


def _mix(scenario: Scenario) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """The ortho mix when the scenario has those surgeons and case types; otherwise every surgeon
    with a block gets every case type equally."""
    assert scenario.surgery is not None
    types = {ct.id for ct in scenario.surgery.case_types}
    surgeons = {p.id for p in scenario.providers if p.role == "surgeon"}
    if set(ORTHO_MIX) <= surgeons and all(set(m) <= types for m in ORTHO_MIX.values()):
        return ORTHO_MIX, ORTHO_SHARE
    with_blocks = sorted({b.surgeon for b in scenario.surgery.blocks if b.surgeon} or surgeons)
    mix = {s: dict.fromkeys(sorted(types), 1.0) for s in with_blocks}
    return mix, dict.fromkeys(with_blocks, 1 / len(with_blocks))


def generate_cases(scenario: Scenario, week: dt.date, n: int, seed: int = 0) -> list[SurgicalCase]:
    """``n`` synthetic cases waiting to be booked in the week containing ``week``."""
    if scenario.surgery is None:
        raise ValueError("the scenario has no surgery section")
    monday = week_start_of(week)
    mix, share = _mix(scenario)
    surgeons = sorted(mix)
    p_surgeon = np.array([share[s] for s in surgeons], dtype=float)
    p_surgeon /= p_surgeon.sum()
    ctypes = {ct.id: ct for ct in scenario.surgery.case_types}
    equipment = sorted({e for f in scenario.surgery.facilities for e, k in f.equipment.items() if k > 0})
    root = np.random.SeedSequence(seed)
    out = []
    for i in range(n):
        g = keyed_generator(root, "synthetic_case", i)
        surgeon = surgeons[g.choice(len(surgeons), p=p_surgeon)]
        names = sorted(mix[surgeon])
        w = np.array([mix[surgeon][t] for t in names], dtype=float)
        ctype = names[g.choice(len(names), p=w / w.sum())]
        fracture = ctype in _FRACTURES
        # patient window: most are free through the week; some only part of it
        earliest = monday + dt.timedelta(days=int(g.integers(-14, 3)))
        latest = earliest + dt.timedelta(days=int(g.integers(3, 40)))
        requested = monday - dt.timedelta(days=int(g.integers(2, 45)))
        u = g.random()
        if u < 0.80 or fracture:
            status = "approved"
            auth = monday + dt.timedelta(days=int(g.integers(-20, 2)))
        elif u < 0.94:
            status = "pending"
            auth = monday + dt.timedelta(days=int(g.integers(1, 12))) if g.random() < 0.7 else None
        else:
            status, auth = "denied", None
        deadline = None
        priority = int(g.choice([1, 1, 1, 2, 2, 3]))
        if fracture:
            injury = monday - dt.timedelta(days=int(g.integers(0, 6)))
            deadline = injury + dt.timedelta(days=int(g.integers(7, 15)))
            priority = int(g.choice([3, 4, 4, 5]))
            earliest = min(earliest, monday)
            latest = max(latest, deadline)
            requested = injury
        expected = None
        if g.random() < 0.3:
            expected = float(5 * round(ctypes[ctype].duration.mean * g.uniform(0.85, 1.2) / 5))
        extra: tuple[str, ...] = ()
        if equipment and "c_arm" in equipment and ctype in ("acl", "knee_scope") and g.random() < 0.1:
            extra = ("c_arm",)
        out.append(
            SurgicalCase(
                case_id=f"C{i + 1:04d}",
                surgeon=surgeon,
                case_type=ctype,
                patient_ref=f"PT-{g.integers(0, 16**8):08x}",
                expected_duration=expected,
                earliest_date=earliest,
                latest_date=latest,
                auth_status=status,
                auth_date=auth,
                priority=priority,
                deadline=deadline,
                asc_ok=bool(g.random() < 0.65),
                equipment=extra,
                requested_date=requested,
                order=i,
            )
        )
    return out


def write_synthetic_cases(scenario: Scenario, week: dt.date, n: int, path: str | Path, seed: int = 0) -> None:
    write_cases_csv(generate_cases(scenario, week, n, seed), path)
