#!/usr/bin/env bash
# The main job at toy scale on the embedded default model, on CPU: data build -> SFT -> GRPO -> eval of
# base/SFT/GRPO -> release folder. Sets itself up on a fresh machine first. Resumable: rerun to continue.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec .venv/bin/tritonforge pipeline --preset tiny --out "${1:-runs/tiny}"
