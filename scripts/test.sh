#!/usr/bin/env bash
# Install clinicflow with its development extras and run the whole test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e ".[dev]"
python3 -m ruff check .
python3 -m pytest -q -n 2 "$@"
