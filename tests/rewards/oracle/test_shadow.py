"""Tolerances calibrated on the reference's own rounding (`rewards.oracle.shadow` + `rewards.oracle.compare`), in-process.

The task is KernelBench level-2 14_Gemm_Divide_Sum_Scaling's computation (x @ W.T, / 2, row sum, * 1.5) with
its input distribution: row sums of a few thousand that cancel to near zero on some rows, where the fixed
bound |cand - ref| <= 1e-4 + 1e-4 |ref| is far below the fp32 reference's own error."""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn as nn

from rewards.oracle.compare import compare_outputs
from rewards.oracle.shadow import CALIBRATED, FIXED, calibrate


class GemmDivideSumScaling(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, scaling_factor: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(hidden_size, input_size))
        self.scaling_factor = scaling_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (torch.matmul(x, self.weight.T) / 2).sum(dim=1, keepdim=True) * self.scaling_factor


def _run(model: nn.Module, inp: list[Any]) -> list[Any]:
    with torch.no_grad():
        return [model(*[x.clone() for x in inp])]


def _blocked(x: torch.Tensor, w: torch.Tensor, block_k: int = 128) -> torch.Tensor:
    """An honest fp32 answer summed in another order (a tiled kernel's K loop)."""
    acc = torch.zeros(x.shape[0], w.shape[0])
    for k in range(0, x.shape[1], block_k):
        acc += x[:, k:k + block_k] @ w[:, k:k + block_k].T
    return (acc / 2).sum(dim=1, keepdim=True) * 1.5


def _fixed_rejects_exact(seeds: range) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A trial (model, input, reference output) where the fixed bounds refuse the float64 answer rounded to
    fp32: searched, not assumed (about one trial in three at this size)."""
    for seed in seeds:
        torch.manual_seed(seed)
        model = GemmDivideSumScaling(1024, 1024, 1.5).eval()
        x = torch.rand(256, 1024)
        ref = _run(model, [x])[0]
        exact32 = _run(copy.deepcopy(model).double(), [x.double()])[0].float()
        if not compare_outputs([ref], [exact32], None, None, "probe").ok:
            return model, x, ref
    raise AssertionError("no trial where the fixed bounds refuse the exact answer: the premise changed")


def test_exact_and_reordered_answers_pass_where_fixed_bounds_refuse_them() -> None:
    model, x, ref = _fixed_rejects_exact(range(40))
    cal = calibrate(model, [[x]], [[ref]], _run, None, seed=1)
    assert cal.mode == CALIBRATED, cal.reason
    exact32 = cal.trials[0][0].exact.float()
    assert not compare_outputs([ref], [exact32], None, None, "fixed").ok
    assert compare_outputs([ref], [exact32], None, None, "calibrated", calibration=cal.for_trial(0)).ok
    reordered = _blocked(x, model.weight.detach())
    assert compare_outputs([ref], [reordered], None, None, "calibrated", calibration=cal.for_trial(0)).ok


def test_bugs_stay_rejected_with_calibration() -> None:
    model, x, ref = _fixed_rejects_exact(range(40))
    cal = calibrate(model, [[x]], [[ref]], _run, None, seed=2).for_trial(0)
    w = model.weight.detach()
    fp16_accumulation = ((x.half() @ w.half().T) / 2).sum(dim=1, keepdim=True, dtype=torch.float16).float() * 1.5
    dropped_tile = (((x @ w.T) / 2).index_fill(1, torch.arange(128), 0.0)).sum(dim=1, keepdim=True) * 1.5
    missing_scale = ((x @ w.T) / 2).sum(dim=1, keepdim=True)
    for name, bad in (("fp16 accumulation", fp16_accumulation), ("dropped tile", dropped_tile),
                      ("missing scale", missing_scale)):
        cmp = compare_outputs([ref], [bad], None, None, name, calibration=cal)
        assert not cmp.ok, name
        assert "reference's own rounding" in cmp.reason, cmp.reason


class _RandomInForward(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.randn_like(x)


class _Float32Only(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float32:
            raise TypeError("this kernel takes float32 only")
        return x * 2


class _Argmax(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.argmax(dim=1)


class _CastsBack(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 3).float()


def test_tasks_that_cannot_run_in_float64_keep_the_fixed_bounds_with_the_reason() -> None:
    x = torch.rand(8, 16)
    cases = {
        "random op, flagged by the rerun": (_RandomInForward(), "not reproducible", "rerun differs"),
        "random op, not flagged": (_RandomInForward(), "disagrees", None),
        "float32-only code": (_Float32Only(), "does not run in float64", None),
        "integer output": (_Argmax(), "no floating-point output", None),
        "casts to float32 itself": (_CastsBack(), "no float64 output", None),
    }
    for name, (model, why, nondet) in cases.items():
        outs = _run(model, [x]) if not isinstance(model, _RandomInForward) else [x + 1.0]
        cal = calibrate(model, [[x]], [outs], _run, nondet, seed=3)
        assert cal.mode == FIXED and why in cal.reason, (name, cal.reason)
        assert cal.for_trial(0) is None


def test_a_reference_with_its_own_triton_kernels_keeps_the_fixed_bounds(tmp_path) -> None:
    """TritonBench references are Triton code: a kernel handed float64 may fail or compute at its own precision,
    so the shadow is not tried there, and the verdict says so."""
    import importlib.util

    from rewards.oracle.shadow import defines_triton_kernels

    src = tmp_path / "tb_reference.py"
    src.write_text("import triton\nimport triton.language as tl\n\n\n@triton.jit\ndef double_kernel(x_ptr, n, BLOCK: tl.constexpr):\n"
                   "    pass\n")
    spec = importlib.util.spec_from_file_location("tb_reference", src)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert defines_triton_kernels(vars(mod)) and not defines_triton_kernels({"torch": torch, "nn": nn})
    x = torch.rand(8, 16)
    cal = calibrate(_CastsBack(), [[x]], [_run(_CastsBack(), [x])], _run, None, seed=4, own_kernels=True)
    assert cal.mode == FIXED and "Triton kernels of its own" in cal.reason
