#!/usr/bin/env bash
# Set up (if needed) and run the linter and the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
