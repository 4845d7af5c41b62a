"""Variant files: typed changes to a base scenario, validated with one-line errors."""

from __future__ import annotations

import pytest

from clinicflow import InputError
from clinicflow.domain.capacity import weekly_staff_cost
from clinicflow.whatif import Variant, apply_variant, load_variant
from conftest import ROOT

VARIANTS = ROOT / "scenarios" / "variants"


def test_empty_variant_is_the_base(family):
    v = Variant(name="same")
    assert v.is_identity
    assert apply_variant(family, v) == family


def test_extra_ma_on_two_days(family):
    _v, base, s = load_variant(VARIANTS / "extra-ma-tue-thu.yaml")
    assert base == family
    assert [s.staff.mas_on(d) for d in ("mon", "tue", "wed", "thu", "fri")] == [4, 5, 3, 5, 4]
    # two more MA-days of 10.5 opening hours at $21/h
    assert weekly_staff_cost(s)["total"] - weekly_staff_cost(family)["total"] == pytest.approx(2 * 10.5 * 21)


def test_two_more_rooms_keeps_procedure_rooms(family):
    _, _, s = load_variant(VARIANTS / "two-more-rooms.yaml")
    assert s.rooms.n == 14
    assert s.rooms.procedure_rooms == family.rooms.procedure_rooms
    assert set(family.rooms.room_ids) < set(s.rooms.room_ids)


def test_provider_off_friday(family):
    _, _, s = load_variant(VARIANTS / "okafor-off-friday.yaml")
    assert "fri" not in s.provider("dr_okafor").sessions
    assert s.provider("dr_okafor").weekly_minutes == family.provider("dr_okafor").weekly_minutes - 420


def test_reminders_scale_no_shows(family):
    v, _, s = load_variant(VARIANTS / "reminders.yaml")
    assert not v.changes_capacity
    for t in family.appointment_types:
        assert s.appointment_type(t.id).no_show == pytest.approx(0.7 * t.no_show)


def test_add_provider_and_set_patch(family):
    v = Variant.model_validate(
        {
            "name": "new NP + longer follow-ups",
            "add_providers": [
                {
                    "id": "np_new",
                    "name": "New NP",
                    "role": "NP",
                    "appointment_types": ["follow_up", "sick_visit"],
                    "sessions": {
                        "mon": [{"start": "08:00", "end": "12:00"}],
                        "wed": [{"start": "13:00", "end": "17:00"}],
                        "fri": [{"start": "08:00", "end": "12:00"}],
                    },
                }
            ],
            "set": {"costs": {"wait_per_min": 1.5}},
        }
    )
    s = apply_variant(family, v)
    assert s.provider("np_new").weekly_sessions == 3
    assert s.costs.wait_per_min == 1.5 and s.costs.idle_per_min == family.costs.idle_per_min


@pytest.mark.parametrize(
    "text, where, message",
    [
        (
            "name: x\nbase: ../family-practice.yaml\nproviders_off: {dr_nobody: [fri]}\n",
            "providers_off.dr_nobody",
            "unknown provider 'dr_nobody'",
        ),
        (
            "name: x\nbase: ../family-practice.yaml\nextra_mas_on: {sat: 1}\n",
            "extra_mas_on.sat",
            "the clinic is not open on sat",
        ),
        (
            "name: x\nbase: ../family-practice.yaml\nextra_romos: 2\n",
            "extra_romos",
            "unknown field 'extra_romos' (did you mean 'extra_rooms'?)",
        ),
        (
            "name: x\nbase: ../family-practice.yaml\nno_show_scale: -1\n",
            "no_show_scale",
            "greater than or equal to 0",
        ),
        (
            "name: x\nbase: ../family-practice.yaml\nset: {rooms: {count: 0}}\n",
            "rooms.count",
            "the variant makes the scenario invalid",
        ),
        ("name: x\nbase: ../nope.yaml\n", "base", "base scenario not found"),
    ],
)
def test_bad_variants_one_line(tmp_path, text, where, message):
    d = tmp_path / "variants"
    d.mkdir()
    (tmp_path / "family-practice.yaml").write_text((ROOT / "scenarios" / "family-practice.yaml").read_text())
    p = d / "v.yaml"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_variant(p)
    assert info.value.where == where
    assert message in info.value.message
    assert str(info.value).startswith(str(p))


def test_every_example_variant_loads(family):
    files = sorted(VARIANTS.glob("*.yaml"))
    assert len(files) >= 7
    for f in files:
        v, base, _s = load_variant(f)
        assert base == family
        assert v.is_identity is False


def test_extra_session_for_a_provider(family):
    v = Variant.model_validate(
        {
            "name": "Dr. Chen on Friday morning",
            "extra_sessions": {"dr_chen": {"fri": [{"start": "08:00", "end": "12:00"}]}},
        }
    )
    s = apply_variant(family, v)
    assert s.provider("dr_chen").weekly_minutes == family.provider("dr_chen").weekly_minutes + 240
    clash = Variant.model_validate(
        {"name": "overlap", "extra_sessions": {"dr_okafor": {"mon": [{"start": "11:00", "end": "12:30"}]}}}
    )
    with pytest.raises(InputError) as info:
        apply_variant(family, clash, "v.yaml")
    assert "sessions on mon overlap" in info.value.message


def test_the_dashboards_variant_file_loads_back_and_runs_in_compare(family, tmp_path):
    """``variant_text`` (the What-if page's download): beside a copy of its base it loads as the
    same variant and scenario as the form's fields, and ``clinicflow compare`` runs it; a field
    the form could never produce is refused before any file is offered."""
    import shutil

    from clinicflow.whatif.variants import variant_from_dict, variant_text
    from conftest import SCENARIOS, run_main

    fields = {
        "front_desk": 1,
        "extra_shifts": [{"days": ["mon", "wed"], "start": "13:00", "end": "17:00", "medical_assistants": 1}],
        "providers_off": {"dr_okafor": ["fri"]},
        "no_show_scale": 0.7,
    }
    shutil.copy(SCENARIOS / "family-practice.yaml", tmp_path / "family-practice.yaml")
    f = tmp_path / "variant.yaml"
    f.write_text(variant_text(fields, "Desk of one, Okafor off Friday", "family-practice.yaml"))
    v, _base, scen = load_variant(f)
    assert v == variant_from_dict(
        {"name": "Desk of one, Okafor off Friday", "base": "family-practice.yaml", **fields}
    )
    assert scen == apply_variant(family, variant_from_dict({"name": "x", **fields}))
    r = run_main("compare", str(tmp_path / "family-practice.yaml"), str(f), "-n", "3", "--json")
    assert r.code == 0, r.output
    with pytest.raises(InputError, match="front_desk"):
        variant_text({"front_desk": -1}, "bad")
