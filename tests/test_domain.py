"""The domain model's own rules and derived numbers."""

from __future__ import annotations

import pytest

from clinicflow import summarize
from clinicflow.domain import WEEKDAYS, format_hhmm, parse_hhmm


def test_clock_parsing():
    assert parse_hhmm("08:30") == 510
    assert parse_hhmm("0:05") == 5
    assert parse_hhmm("24:00") == 1440
    assert format_hhmm(510) == "08:30"
    for bad in ("8.30", "25:00", "12:60", "", True):
        with pytest.raises(ValueError):
            parse_hhmm(bad)


def test_tiny_summary_numbers(tiny):
    sm = summarize(tiny)
    # mon 08:00-12:00 less a 15-min break, tue 13:00-17:00
    assert sm.provider_minutes == 225 + 240
    assert sm.sessions_per_week == 2
    assert sm.hold_slots == 1
    assert sm.demand_visits == 15
    assert sm.demand_min == 12 * 20 + 3 * 40
    assert sm.load == pytest.approx(360 / 465)


def test_family_practice_matches_the_issue(family):
    sm = summarize(family)
    assert sm.providers == 6
    assert sm.rooms == 12
    assert family.staff.front_desk.count == 2
    assert family.staff.medical_assistants.count == 4
    assert 6 <= len(family.appointment_types) <= 8
    ids = {t.id for t in family.appointment_types}
    assert {"new_patient", "annual_physical", "follow_up", "sick_visit", "procedure", "telehealth"} <= ids
    assert sm.load < 1.0  # demand fits the template at scheduled lengths
    assert family.staff.mas_on("wed") == 3 and family.staff.mas_on("mon") == 4


def test_orthopedic_practice_has_surgeons_with_blocks_at_two_facilities(ortho):
    surgeons = [p for p in ortho.providers if p.role == "surgeon"]
    assert len(surgeons) >= 3
    kinds = {f.kind for f in ortho.surgery.facilities}
    assert kinds == {"hospital", "asc"}
    for p in surgeons:
        assert p.sessions, f"{p.id} holds clinic sessions"
        assert p.or_days
        for d in p.or_days:
            assert any(b.surgeon == p.id and b.day == d for b in ortho.surgery.blocks)
    assert any(b.surgeon is None for b in ortho.surgery.blocks)  # released/open time exists


def test_provider_duration_override(family):
    assert family.visit_duration("dr_lindqvist", "follow_up").mean == pytest.approx(18)
    assert family.visit_duration("dr_okafor", "follow_up").mean == pytest.approx(16)


def test_weekdays_in_order():
    assert WEEKDAYS[0] == "mon" and WEEKDAYS[-1] == "sun"
