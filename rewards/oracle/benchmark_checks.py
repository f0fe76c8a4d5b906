"""The benchmarks' own pass rules, computed beside our verdict so eval can print numbers comparable with
published ones. Our verdict (`rewards.oracle.compare`, calibrated bounds) stays the reward; these never decide it.

* `kernelbench-head`: KernelBench's `run_and_check_correctness` at its current head (ScalingIntelligence/
  KernelBench commit 423217d, `src/kernelbench/eval.py`): per trial, same shape, then
  `torch.allclose(output, output_new, atol=tol, rtol=tol)` with `get_tolerance_for_precision`: fp32 1e-4,
  fp16 / bf16 1e-2 (we take the precision from the reference output's dtype; float64, which KernelBench does
  not list, gets fp32's). NaN anywhere fails (allclose's equal_nan=False).
* `kernelbench-v0.1`: the same with atol = rtol = 1e-2 whatever the precision, as KernelBench v0 and v0.1
  ran (the comment at that same place in eval.py).
* `tritonbench-printed`: TritonBench's `EVAL/eval_G|T/1_exe_acc.py` runs the gold file and the model's file
  and requires byte-equal stdout. Its tests return their results rather than print them in most files, so
  there the published rule only asks that the code ran. We hold every result the replayed test produced, and
  compare them as `print` shows them (torch's default print options: 4 significant digits, large tensors
  summarised by their edges): what equal stdout would be if the test printed its results. Stricter than the
  published rule where a test prints nothing, looser than ours.

Each check is over every trial and every output leaf; a structural difference (leaf count, shape, dtype)
fails all of them.
"""

from __future__ import annotations

from typing import Any

import torch

KERNELBENCH_HEAD = "kernelbench-head"
KERNELBENCH_V01 = "kernelbench-v0.1"
TRITONBENCH_PRINTED = "tritonbench-printed"
# What each check is, in one line (eval's column headers and the README cite these).
DESCRIPTIONS = {
    KERNELBENCH_HEAD: "KernelBench head (423217d) allclose, atol=rtol=1e-4 fp32, 1e-2 fp16/bf16",
    KERNELBENCH_V01: "KernelBench v0/v0.1 allclose, atol=rtol=1e-2",
    TRITONBENCH_PRINTED: "TritonBench exe_acc: results equal as printed",
}
_KERNELBENCH_HEAD_TOL = {torch.float16: 1e-2, torch.bfloat16: 1e-2}


def _allclose(ref: Any, cand: Any, tol: float | None) -> bool:
    """KernelBench's test for one leaf; `tol` None: by the reference's precision (head)."""
    if isinstance(ref, torch.Tensor):
        if not isinstance(cand, torch.Tensor) or tuple(cand.shape) != tuple(ref.shape) or cand.dtype != ref.dtype:
            return False
        if not (ref.is_floating_point() or ref.is_complex()):
            return torch.equal(ref, cand)
        t = tol if tol is not None else _KERNELBENCH_HEAD_TOL.get(ref.dtype, 1e-4)
        return bool(torch.allclose(ref, cand, atol=t, rtol=t))
    if isinstance(ref, float) and isinstance(cand, (int, float)) and not isinstance(cand, bool):
        t = tol if tol is not None else 1e-4
        return abs(cand - ref) <= t + t * abs(ref)
    return type(ref) is type(cand) and ref == cand


def _printed(x: Any) -> str:
    return repr(x.detach().cpu()) if isinstance(x, torch.Tensor) else repr(x)


def benchmark_checks(ref_trials: list[list[Any]], cand_trials: list[list[Any]]) -> dict[str, bool]:
    """Each benchmark rule's pass/fail on a candidate's flattened outputs of every trial."""
    same_structure = len(ref_trials) == len(cand_trials) and all(
        isinstance(c, (list, tuple)) and len(r) == len(c) for r, c in zip(ref_trials, cand_trials, strict=False))
    if not same_structure:
        return {KERNELBENCH_HEAD: False, KERNELBENCH_V01: False, TRITONBENCH_PRINTED: False}
    pairs = [(r, c) for rt, ct in zip(ref_trials, cand_trials, strict=True) for r, c in zip(rt, ct, strict=True)]
    rules = {KERNELBENCH_HEAD: lambda r, c: _allclose(r, c, None), KERNELBENCH_V01: lambda r, c: _allclose(r, c, 1e-2),
             TRITONBENCH_PRINTED: lambda r, c: _printed(r) == _printed(c)}
    out = {}
    for name, rule in rules.items():
        try:
            out[name] = all(rule(r, c) for r, c in pairs)
        except Exception:  # a candidate's leaf the rule cannot even compare fails it, as it would there
            out[name] = False
    return out
