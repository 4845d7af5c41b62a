"""Sweep grids: ``--vary rooms=8..14 --vary mas=2..5`` turned into variants, and the cost-versus-wait
frontier of the results.

Knobs are the staffing levers a practice manager actually pulls. Each maps a value onto a
``Variant`` so a sweep point validates (and is priced) exactly like a hand-written variant file.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..domain import Scenario
from ..errors import InputError
from .variants import Variant

#: knob -> (description, function(base, value) -> Variant fields)
KNOBS: dict[str, tuple[str, Callable[[Scenario, float], dict]]] = {
    "rooms": ("exam rooms", lambda s, v: {"extra_rooms": int(v) - s.rooms.n}),
    "mas": ("medical assistants on every day", lambda s, v: {"medical_assistants": int(v)}),
    "desk": ("front-desk clerks on every day", lambda s, v: {"front_desk": int(v)}),
    "noshow": ("no-show scale (1 = as is)", lambda s, v: {"no_show_scale": float(v)}),
    "walkins": ("walk-in scale (1 = as is)", lambda s, v: {"walk_in_scale": float(v)}),
    "demand": ("demand scale (1 = as is)", lambda s, v: {"demand_scale": float(v)}),
}
INTEGER_KNOBS = {"rooms", "mas", "desk"}
#: Most values one knob may take in a sweep (every point is a simulation of the week).
MAX_VALUES = 200

_RANGE = re.compile(r"^(?P<a>-?\d+(?:\.\d+)?)\.\.(?P<b>-?\d+(?:\.\d+)?)(?::(?P<step>\d+(?:\.\d+)?))?$")


def parse_vary(text: str) -> tuple[str, list[float]]:
    """``rooms=8..14`` → ("rooms", [8, …, 14]); ``noshow=0.6..1:0.1``; ``mas=2,3,5``."""
    if "=" not in text:
        raise InputError(
            None, f"--vary {text}", f"expected KNOB=VALUES, e.g. rooms=8..14 (knobs: {', '.join(KNOBS)})"
        )
    knob, values = (part.strip() for part in text.split("=", 1))
    if knob not in KNOBS:
        raise InputError(
            None, f"--vary {text}", f"unknown knob {knob!r} (expected one of: {', '.join(KNOBS)})"
        )
    m = _RANGE.match(values)
    try:
        if m:
            a, b = float(m["a"]), float(m["b"])
            step = float(m["step"]) if m["step"] else 1.0
            if b < a or step <= 0:
                raise ValueError
            count = math.floor((b - a) / step + 0.5) + 1
            if count > MAX_VALUES:  # counted before it is built: desk=1..100000000 took 45 s to refuse
                raise InputError(
                    None,
                    f"--vary {text}",
                    f"expected at most {MAX_VALUES} values per knob, got {count:,} (narrow the range or "
                    "give a larger step, A..B:STEP)",
                )
            out = list(np.round(np.arange(a, b + step / 2, step), 6))
        else:
            out = [float(x) for x in values.split(",") if x.strip()]
    except ValueError:
        raise InputError(
            None, f"--vary {text}", "expected a range A..B (optionally A..B:STEP) or a list A,B,C with A <= B"
        ) from None
    if not out:
        raise InputError(None, f"--vary {text}", "expected at least one value")
    if len(out) > MAX_VALUES:
        raise InputError(
            None, f"--vary {text}", f"expected at most {MAX_VALUES} values per knob, got {len(out):,}"
        )
    if knob in INTEGER_KNOBS:
        if any(v != int(v) or v < 0 for v in out):
            raise InputError(None, f"--vary {text}", f"expected non-negative whole numbers for {knob}")
        out = [int(v) for v in out]
    return knob, out


def grid_variants(base: Scenario, varies: list[tuple[str, list[float]]]) -> list[tuple[dict, Variant]]:
    """Every combination of the knobs' values as (settings, Variant)."""
    knobs = [k for k, _ in varies]
    if len(set(knobs)) != len(knobs):
        raise InputError(None, "--vary", "each knob may be varied once")
    out = []
    for combo in itertools.product(*(vals for _, vals in varies)):
        settings = dict(zip(knobs, combo, strict=True))
        fields: dict = {}
        for k, v in settings.items():
            fields.update(KNOBS[k][1](base, v))
        label = ", ".join(f"{k}={v}" for k, v in settings.items())
        try:
            variant = Variant(name=label, **fields)
        except ValidationError as e:  # a value outside what a variant allows (noshow=-1, rooms=+51)
            err = e.errors(include_url=False)[0]
            field = str(err["loc"][0]) if err["loc"] else "?"
            knob = next((k for k in knobs if field in KNOBS[k][1](base, settings[k])), knobs[0])
            msg = err["msg"][:1].lower() + err["msg"][1:]
            raise InputError(
                None, f"--vary {knob}", f"{knob}={settings[knob]} means {field}={err.get('input')!r}: {msg}"
            ) from None
        out.append((settings, variant))
    return out


def pareto_front(df: pd.DataFrame, cost: str, wait: str) -> pd.Series:
    """True for rows not dominated: no other row is at most as costly and waits at most as long,
    and strictly better in one of the two. A row without a wait (nobody seen: NaN) is not on the
    front: NaN compares false, so it would otherwise never be dominated and read as efficient."""
    c = df[cost].to_numpy(dtype=float)
    w = df[wait].to_numpy(dtype=float)
    dominated = ~(np.isfinite(c) & np.isfinite(w))
    for i in np.flatnonzero(~dominated):
        better_or_equal = (c <= c[i]) & (w <= w[i])
        strictly = (c < c[i]) | (w < w[i])
        dominated[i] = bool(np.any(better_or_equal & strictly))
    return pd.Series(~dominated, index=df.index, name="efficient")


def cheapest_meeting(df: pd.DataFrame, cost: str, metric: str, limit: float) -> pd.Series | None:
    """The cheapest row whose ``metric`` is at most ``limit`` (None when no row meets it)."""
    ok = df[df[metric] <= limit]
    if ok.empty:
        return None
    return ok.sort_values([cost, metric]).iloc[0]
