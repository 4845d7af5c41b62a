"""The data layer's names the command line shows before it runs anything: option defaults and the
choices its help lists.

They live here, in a module that imports nothing, so that ``clinicflow --help`` (and every other
command's start-up) need not load DuckDB, pandas and SciPy with the modules that use them; those
modules re-export them, so ``from clinicflow.data.store import DEFAULT_DB`` keeps working.
"""

from __future__ import annotations

#: The history store's file when no ``--db`` is given (``store.open_store``).
DEFAULT_DB = "clinicflow.duckdb"

#: Fewest visits for a duration fit, and to replace a scenario's value by a fitted one (``durations``).
MIN_VISITS = 30

#: The history file formats ``importers.read_history`` reads ("auto": by the file's name and content).
FORMATS: tuple[str, ...] = ("auto", "csv", "excel", "parquet", "fhir", "noshow-kaggle")

#: The column layouts of a synthetic history (``synthetic.to_noshow_kaggle``, ``synthetic.to_generic``).
LAYOUTS = ("noshow-kaggle", "generic")
