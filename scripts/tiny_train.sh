#!/usr/bin/env bash
# Tiny end-to-end training on CPU: SFT then GRPO on the embedded default model (SmolLM2-135M-Instruct).
# Minutes on a 2-core laptop; both stages checkpoint, and re-running this script after a kill resumes.
#
#   scripts/tiny_train.sh [CORPUS_DIR] [RUN_DIR]
#
# CORPUS_DIR defaults to out/tiny; it is built first (the packaged `tiny` data recipe) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CORPUS="${1:-out/tiny}"
RUNS="${2:-out/runs}"
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TOKENIZERS_PARALLELISM=false

if [ ! -d "$CORPUS" ]; then
  echo "no corpus at $CORPUS: building it (data recipe tiny)" >&2
  "$PY" -m tritonforge.cli data build --config tiny --out "$CORPUS"
fi

t0=$(date +%s)
"$PY" -m sft.cli --config tiny --corpus "$CORPUS" --output_dir "$RUNS/sft-tiny"
t1=$(date +%s)
"$PY" -m grpo.cli --config tiny --corpus "$CORPUS" --output_dir "$RUNS/grpo-tiny" \
  --model_name_or_path "$RUNS/sft-tiny"
t2=$(date +%s)

echo "tiny SFT:  $((t1 - t0)) s -> $RUNS/sft-tiny"
echo "tiny GRPO: $((t2 - t1)) s -> $RUNS/grpo-tiny (completions + verdicts: $RUNS/grpo-tiny/completions_audit.jsonl)"
