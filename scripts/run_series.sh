#!/usr/bin/env bash
# Set up (if needed) and execute the notebook series 00-07 with papermill.
# Usage: bash scripts/run_series.sh [--preset ci|laptop|paper] [--out DIR] [--only 00 03] [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m mlib.series "$@"
