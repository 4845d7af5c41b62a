"""Scenario files: strict validation with one-line errors, and a lossless round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from clinicflow import InputError, dump_scenario, load_scenario, scenario_from_dict
from clinicflow.scenario_file import format_path
from conftest import FAMILY, ORTHO, ROOT, TINY_YAML, run_cli, run_main

BROKEN = sorted((ROOT / "tests" / "data" / "broken").glob("*.yaml"))


def _expectation(path: Path) -> tuple[str | None, str]:
    lines = path.read_text().splitlines()
    where = lines[0].removeprefix("# expect-path: ").strip()
    message = lines[1].removeprefix("# expect-message: ").strip()
    return (None if where == "-" else where), message


def test_corpus_is_large_and_varied():
    assert len(BROKEN) >= 15
    assert len({_expectation(p) for p in BROKEN}) == len(BROKEN)  # each a different mistake


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_file_gives_field_path_and_message(path):
    where, message = _expectation(path)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    err = info.value
    assert err.file == str(path)
    assert err.where == where
    assert message in err.message
    text = str(err)
    assert "\n" not in text
    assert text.startswith(str(path))


def test_broken_files_via_cli_one_line_exit_2():
    # the first as a user runs it (its own process), the rest in this one (2 s of imports each)
    for k, path in enumerate(BROKEN[:6]):
        res = run_cli("validate", path) if k == 0 else run_main("validate", path)
        assert res.code == 2, res
        assert "Traceback" not in res.stderr
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, res.stderr
        assert lines[0].startswith(f"error: {path}")
        _where, message = _expectation(path)
        assert message in lines[0]
        assert res.stdout == ""


def test_line_numbers_point_at_the_field(tmp_path):
    text = TINY_YAML.replace("no_show: 0.1", "no_show: 2")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(p)
    expected_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "no_show: 2" in ln)
    assert info.value.line == expected_line


def test_many_problems_are_counted_in_the_one_line(tmp_path):
    text = TINY_YAML.replace("no_show: 0.1", "no_show: 2").replace("role: MD", "role: XX")
    p = tmp_path / "s.yaml"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        load_scenario(p)
    assert "(and 1 more problem)" in str(info.value)


def test_missing_file_is_an_input_error(tmp_path):
    res = run_cli("validate", tmp_path / "nope.yaml")
    assert res.code == 2
    assert res.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"


@pytest.mark.parametrize("path", [FAMILY, ORTHO], ids=["family", "ortho"])
def test_round_trip_is_lossless(path, tmp_path):
    s = load_scenario(path)
    out = tmp_path / "again.yaml"
    out.write_text(dump_scenario(s))
    again = load_scenario(out)
    assert again == s
    assert dump_scenario(again) == dump_scenario(s)


def test_scenario_is_immutable(family):
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        family.providers[0].rooms_at_once = 9


def test_format_path():
    assert format_path(("providers", 2, "sessions", "tue", 0, "end")) == "providers[2].sessions.tue[0].end"
    assert format_path(()) == ""


@settings(max_examples=40, deadline=None)
@given(
    no_show=st.floats(min_value=0, max_value=1),
    scheduled=st.integers(min_value=5, max_value=120),
    mean=st.floats(min_value=1, max_value=120),
    rooms=st.integers(min_value=1, max_value=20),
)
def test_valid_values_round_trip(no_show, scheduled, mean, rooms):
    data = yaml.safe_load(TINY_YAML)
    data["appointment_types"][0].update(no_show=no_show, scheduled_min=scheduled)
    data["appointment_types"][0]["duration"] = {"dist": "exponential", "mean": mean}
    data["rooms"]["count"] = rooms
    data["providers"][0]["rooms_at_once"] = min(rooms, 2)
    s = scenario_from_dict(data)
    assert scenario_from_dict(yaml.safe_load(dump_scenario(s))) == s


@settings(max_examples=40, deadline=None)
@given(p=st.floats(min_value=1.0001, max_value=1e6) | st.floats(max_value=-1e-9, min_value=-1e6))
def test_probabilities_outside_unit_interval_rejected(p):
    data = yaml.safe_load(TINY_YAML)
    data["appointment_types"][1]["no_show"] = p
    with pytest.raises(InputError) as info:
        scenario_from_dict(data, "x.yaml")
    assert info.value.where == "appointment_types[1].no_show"


@pytest.mark.parametrize(
    ("edit", "where", "got"),
    [
        (
            lambda d: d["appointment_types"][0].update(scheduled_min=True),
            "appointment_types[0].scheduled_min",
            "true",
        ),
        (lambda d: d["appointment_types"][0].update(no_show=False), "appointment_types[0].no_show", "false"),
        (lambda d: d["staff"]["front_desk"].update(count=True), "staff.front_desk.count", "true"),
        (
            lambda d: d["providers"][0]["sessions"]["mon"][0].update(holds=True),
            "providers[0].sessions.mon[0].holds",
            "true",
        ),
        (
            lambda d: d["appointment_types"][0].update(duration={"dist": "exponential", "mean": True}),
            "appointment_types[0].duration",
            "true",
        ),
    ],
)
def test_a_yaml_boolean_where_a_number_belongs_is_refused(edit, where, got):
    """Pydantic's lax mode would read ``true`` as 1: a typo that runs as a one-minute visit."""
    data = yaml.safe_load(TINY_YAML)
    edit(data)
    with pytest.raises(InputError) as e:
        scenario_from_dict(data, "tiny.yaml")
    assert e.value.where == where
    assert f"expected a number, got {got}" in e.value.message
    data = yaml.safe_load(TINY_YAML)
    data["appointment_types"][0]["scheduled_min"] = "20"  # a quoted number, as spreadsheets write them
    assert scenario_from_dict(data, "tiny.yaml").appointment_types[0].scheduled_min == 20
