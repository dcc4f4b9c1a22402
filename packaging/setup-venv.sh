#!/usr/bin/env bash
# Create .venv with AstroExplorer installed (editable). EXTRAS=test adds the test tools.
# torch is pinned first: a bare "torch>=2.2" in a fresh venv resolves to a multi-GB
# CUDA build on CPU-only machines; 2.13.0 takes the local CPU wheel here and the
# CUDA build on a GPU workstation.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
