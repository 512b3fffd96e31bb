#!/usr/bin/env bash
# Create .venv and install everything the project needs (idempotent; package registries only).
# TORCH_SPEC selects the torch build: the default pin takes the local CPU wheel on machines that
# carry one; on a GPU machine use e.g. TORCH_SPEC="torch>=2.2" to get the CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
.venv/bin/python -m pip install -q "$TORCH_SPEC" 2>&1 | grep -v "is ignored" || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import torch, mlib; print('torch', torch.__version__, '| mlib ready')"
# The kernel papermill runs the notebooks with, installed inside the venv (no user kernelspec needed).
.venv/bin/python -m ipykernel install --sys-prefix --name murauer --display-name "MURAUER (.venv)" >/dev/null
