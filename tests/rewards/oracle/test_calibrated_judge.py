"""The judge's calibrated tolerances, benchmark rules and informativeness probe, through the real engine (CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rewards import Engine, Status, VerifyConfig
from rewards.oracle.compare import compare_outputs
from rewards.oracle.informative import uninformative

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
TASK = (HERE / "tasks" / "gemm_sum_cancelling.py").read_text()
HONEST = (HERE / "candidates" / "gemm_divide_sum_scaling_ok.py").read_text()
# The honest kernel with one bug each: the fixed bounds catch them, and the calibration must not let them pass.
BUGS = {
    "fp16 accumulation": [("acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)",
                           "acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float16)"),
                          ('acc += tl.dot(a, b, input_precision="ieee")',
                           'acc += tl.dot(a, b, input_precision="ieee").to(tl.float16)')],
    "dropped tile": [("for k0 in range(0, K, BLOCK_K):", "for k0 in range(0, K - BLOCK_K, BLOCK_K):")],
    "missing scale": [("tl.sum(acc, axis=0) * scale)", "tl.sum(acc, axis=0))")],
}


def _with_bug(edits: list[tuple[str, str]]) -> str:
    code = HONEST
    for old, new in edits:
        assert old in code, old
        code = code.replace(old, new)
    return code


@pytest.fixture(scope="module")
def verdicts():
    zeros_task = (HERE / "tasks" / "zeros_out.py").read_text()
    pairs = [(TASK, HONEST)] + [(TASK, _with_bug(e)) for e in BUGS.values()] + [(zeros_task, zeros_task + "\nModelNew = Model\n")]
    with Engine(VerifyConfig(device="cpu", workers=2, trials=2, timeout_s=120, strict_rules=False)) as eng:
        return eng.verify_many(pairs)


def test_an_honest_kernel_passes_where_the_reference_cancels(verdicts):
    r = verdicts[0]
    assert r.status is Status.OK, r.log
    assert r.tolerance == "calibrated" and "float64 shadow" in r.tolerance_reason
    # the fixed bounds refuse it (that is what the calibration mends): the error is above atol + rtol |ref|
    assert r.max_abs_err is not None and r.max_abs_err > 1e-3
    checks = dict(r.benchmark_checks)
    assert set(checks) == {"kernelbench-head", "kernelbench-v0.1", "tritonbench-printed"}
    assert dict(r.extra)["reference_shadow_s"] >= 0


@pytest.mark.parametrize("i,bug", list(enumerate(BUGS, 1)))
def test_bugs_stay_mismatches(verdicts, i, bug):
    r = verdicts[i]
    assert r.status is Status.MISMATCH, (bug, r.summary(), r.log[:500])
    assert r.tolerance == "calibrated"
    assert not dict(r.benchmark_checks)["kernelbench-head"]


def test_a_task_whose_outputs_ignore_its_inputs_is_flagged(verdicts):
    r = verdicts[-1]
    assert r.status is Status.OK
    assert "all zeros" in dict(r.extra)["uninformative"]
    assert "uninformative" not in dict(verdicts[0].extra)


def _judge(outputs: list[list[torch.Tensor]]):
    return lambda t, answer: compare_outputs(outputs[t], answer, None, None, "probe").ok


def test_probe_names_each_trivial_answer_and_passes_informative_tasks() -> None:
    g = torch.Generator().manual_seed(0)
    xs = [[torch.randn(4, 8, generator=g)] for _ in range(2)]
    cases = {
        "all zeros": [[torch.zeros(4, 8)] for _ in xs],
        "constant": [[torch.ones(4, 8) * 3] for _ in xs],
        "input passed through": [[x[0].clone()] for x in xs],
        None: [[x[0] * 2 + 1] for x in xs],
    }
    for expected, outputs in cases.items():
        got = uninformative(outputs, xs, _judge(outputs))
        assert (got is None) if expected is None else (got is not None and expected in got), (expected, got)
