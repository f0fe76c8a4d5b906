#!/usr/bin/env bash
# The prepared GPU check for a session that has a GPU box (device tool): everything the CPU machines
# cannot check, in one run, logs under $OUT (or ./gpu_check_out). Needs torch + triton with CUDA on the box;
# trl/datasets are not needed for these checks. Usage on the box, from the repo root:
#   bash scripts/gpu_check.sh            # ~3-5 minutes on one H100/H200
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu_check_out}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
PY="${PYTHON:-python3}"
W="${WORKERS:-$(nproc)}"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, 'cuda', torch.version.cuda)"
} 2>&1 | tee "$OUT/env.txt"

echo "== honest candidates on CUDA (timed) ==" | tee "$OUT/verify.txt"
for t in add relu softmax layernorm rowsum matmul; do
  $PY -m tritonforge.cli verify "tests/rewards/tasks/$t.py" "tests/rewards/candidates/${t}_ok.py" --device cuda --verify_trials 3 \
    2>&1 | tee -a "$OUT/verify.txt"
done

echo "== GPU tests (timed honest cases, CUDA fault contained, hidden torch compute caught by the op record + profiler) ==" | tee "$OUT/gpu_tests.txt"
if $PY -c "import pytest" 2>/dev/null; then
  $PY -m pytest -q -m gpu tests/rewards/test_gpu.py -p no:cacheprovider 2>&1 | tee -a "$OUT/gpu_tests.txt"
else
  echo "pytest missing on this box: skipped" | tee -a "$OUT/gpu_tests.txt"
fi

echo "== adversarial suite on CUDA (hostile + honest cases; runtime enforcement, supervisor-checked timing) ==" | tee "$OUT/adversarial.txt"
if $PY -c "import pytest" 2>/dev/null; then
  TRITONFORGE_ADVERSARIAL_DEVICE=cuda $PY -m pytest -q tests/rewards/test_adversarial.py -p no:cacheprovider -x 2>&1 | tail -40 | tee -a "$OUT/adversarial.txt"
fi

echo "== bench verify (target >= 10 candidates/s for small kernels; prints the runtime-record overhead) ==" | tee "$OUT/bench.txt"
$PY -m tritonforge.cli bench verify --device cuda --verify_workers "$W" --n 200 --verify_trials 3 2>&1 | tee -a "$OUT/bench.txt"

echo "== engine on CPU interpreter, same box, for comparison ==" | tee -a "$OUT/bench.txt"
$PY -m tritonforge.cli bench verify --device cpu --verify_workers "$W" --n 100 --verify_trials 3 2>&1 | tee -a "$OUT/bench.txt"
echo "done: $OUT"
