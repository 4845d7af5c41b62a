"""Appointment history: import (CSV, Excel, Parquet, FHIR, the public no-show layout) into a
pseudonymized DuckDB store, no-show analytics and model, duration fits, and calibration of a
scenario. See docs/history.md.

The public entry points are re-exported here lazily, so that importing one light module of this
package (the CLI does) does not load scikit-learn.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "import_history": "store",
    "open_store": "store",
    "ImportResult": "store",
    "BadRowsError": "store",
    "history_report": "report",
    "fit_noshow": "noshow",
    "NoShowModel": "noshow",
    "fit_durations": "durations",
    "calibrate_scenario": "calibrate",
    "score_schedule": "calibrate",
    "score_requests": "calibrate",
    "generate_history": "synthetic",
    "load_mapping": "mapping",
    "Pseudonymizer": "pseudonym",
    "load_or_create_key": "pseudonym",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
