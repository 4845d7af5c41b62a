"""The scenario-format document names every field the model accepts."""

from __future__ import annotations

import typing

from pydantic import BaseModel

from clinicflow.backtest import KPIS
from clinicflow.domain import Scenario
from conftest import ROOT


def _models(model: type[BaseModel], seen: set) -> None:
    if model in seen:
        return
    seen.add(model)
    for f in model.model_fields.values():
        stack = [f.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _models(tp, seen)
            stack.extend(typing.get_args(tp))


def test_every_field_is_documented():
    doc = (ROOT / "docs" / "scenario-format.md").read_text()
    seen: set = set()
    _models(Scenario, seen)
    missing = []
    for m in seen:
        for name, f in m.model_fields.items():
            key = f.alias or name
            if key == "dist":
                continue
            if f"`{key}`" not in doc and f".{key}`" not in doc:
                missing.append(f"{m.__name__}.{key}")
    assert not missing, missing


def test_the_readme_python_api_example_runs(monkeypatch, tmp_path):
    """The README's Python API block, run as written but for smaller budgets (time limit, sampled
    days and replications) and a small history store of its own, so a renamed function or argument
    fails here, not on a reader's machine."""
    import re

    from clinicflow import load_scenario
    from clinicflow.data.store import import_history
    from clinicflow.data.synthetic import to_generic, write_history
    from clinicflow.synthetic_flow import generate_flow_history

    frame, _ = generate_flow_history(
        2000, seed=3, weeks=4, scenario=load_scenario(ROOT / "scenarios/family-practice.yaml")
    )
    write_history(to_generic(frame), tmp_path / "history.csv")
    import_history(tmp_path / "history.csv", db=tmp_path / "h.duckdb", key_file=tmp_path / "key")

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    smaller = {
        "time_limit=60": "time_limit=1, samples=8, search_days=20, validation_days=20",
        "replications=100": "replications=3",
        "replications=30": "replications=3",
        "replications=200": "replications=19",
        '"clinicflow.duckdb"': repr(str(tmp_path / "h.duckdb")),
    }
    for old, new in smaller.items():
        assert old in code, old  # the block still reads as the README's numbers say
        code = code.replace(old, new)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md (Python API)", "exec"), scope)
    assert len(scope["plan"].schedule) > 300
    assert set(scope["cmp"].table()["arm"]) == {"base", "Text reminders (no-shows x 0.7)"}
    assert scope["cmp"].base.policy == "planned week"
    assert list(scope["bt"].summary["kpi"]) == list(KPIS) and scope["bt"].arrivals == "recorded"


def test_every_command_is_in_the_readme_tour_with_its_output():
    """The README's tour shows every command run (``$ clinicflow CMD``), sub-commands of ``history``
    too: a command added without its block is not done. The list comes from the CLI itself."""
    from clinicflow.cli.app import app

    commands = [c.name for c in app.registered_commands]
    for group in app.registered_groups:
        commands += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    assert len(commands) >= 15 and "history relink" in commands
    readme = (ROOT / "README.md").read_text()
    assert [c for c in commands if f"$ clinicflow {c}" not in readme] == []
