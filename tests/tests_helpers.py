"""Small helpers shared by the planner's tests."""

from __future__ import annotations

import yaml

from conftest import TINY_YAML


def tiny_data() -> dict:
    """The tiny clinic of ``conftest.TINY_YAML`` as a dict to modify."""
    return yaml.safe_load(TINY_YAML)


def booked_week(week, n: int | None = None, scores: tuple[float, float] | None = None):
    """``week`` with its first ``n`` template rows (all when None) booked by made-up patients
    P000000, P000001, …, scored evenly from ``scores[0]`` to ``scores[1]`` when given: a week as
    ``plan`` books it from requests scored by ``calibrate --requests``."""
    import numpy as np

    out = week.copy()
    rows = out.index[out["kind"] == "template"][:n]
    out.loc[rows, "kind"] = "booked"
    out.loc[rows, "patient_ref"] = [f"P{i:06d}" for i in range(len(rows))]
    if scores is not None:
        out.loc[rows, "no_show_prob"] = np.round(np.linspace(*scores, len(rows)), 4)
    return out
