"""The scenario-format document names every field the model accepts."""

from __future__ import annotations

import typing

from pydantic import BaseModel

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
