"""Small helpers shared by the planner's tests."""

from __future__ import annotations

import yaml

from conftest import TINY_YAML


def tiny_data() -> dict:
    """The tiny clinic of ``conftest.TINY_YAML`` as a dict to modify."""
    return yaml.safe_load(TINY_YAML)
