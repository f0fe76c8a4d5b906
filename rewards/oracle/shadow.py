"""The float64 shadow of a reference: the exact answer, and how far the reference's own rounding is from it.

Why: a fixed bound |cand - ref| <= atol + rtol * |ref| is wrong wherever the reference itself is inexact. A
KernelBench row sum of values around +-2400 that cancels to near zero carries ~5e-3 of fp32 rounding in the
reference, while the bound allows 2e-4 there: an exact honest answer (even the float64 result rounded to
fp32) is rejected. The shadow runs the same module and inputs cast to float64 in the trusted reference
process and gives, per floating output element:

* `exact`: the float64 answer;
* `scale`: the reference's own fp32 error at that element, |ref - exact|, taken as the larger of two
  independent samples: the trial itself, and the reference rerun (fp32 and float64) on the trial's inputs
  nudged by a relative 2**-20. Rounding errors are chaotic in the input bits, so the nudge draws a fresh
  error of the same size. Two samples at one element are still both near zero by luck now and then, so the
  scale is raised towards the leaf's RMS scale, capped at SMOOTHING_CAP times the element's own samples
  (`smoothed`).

`rewards.oracle.compare` then accepts an element within atol + rtol * |exact| + CALIBRATED_MULTIPLE * scale of the
exact answer (and the output within a norm bound of the same kind), besides what the fixed bounds accept.
A bug (fp16 accumulation of an fp32 task, a dropped tile, a missing scale) is thousands of times the
reference's own error and stays rejected.

Where the shadow cannot stand for the exact answer the fixed bounds stay, with the reason: the module or its
inputs do not run in float64, the reference is not reproducible (random ops), the shadow disagrees with the
reference beyond the fixed norm bound (dtype-dependent code, a Triton kernel inside the reference that
computes at its own precision), or no output is a floating tensor the shadow returns in float64.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

CALIBRATED = "calibrated"
FIXED = "fixed"
NUDGE = 2.0 ** -20  # relative input nudge for the second error sample: many ulps of fp32, far below any tolerance
# An element's scale is raised towards its leaf's RMS scale, but never above SMOOTHING_CAP times its own
# samples: two samples at one element are both tiny by luck often enough (a leaf where every element cancels
# showed it), while an element whose own rounding is genuinely tiny (small values beside large ones in one
# leaf) keeps a bound within ~1e3 ulps of itself, i.e. about today's rtol.
SMOOTHING_CAP = 1000.0


@dataclass(frozen=True)
class LeafCalibration:
    """The exact answer of one floating output leaf and the reference's own error scale there (float64)."""

    exact: torch.Tensor
    scale: torch.Tensor


@dataclass(frozen=True)
class Calibration:
    """What the judge uses: per trial, per output leaf, a LeafCalibration or None (fixed bounds there)."""

    mode: str  # CALIBRATED | FIXED
    reason: str  # why fixed, or what was calibrated
    trials: tuple[tuple[LeafCalibration | None, ...], ...] = ()

    def for_trial(self, t: int) -> tuple[LeafCalibration | None, ...] | None:
        return self.trials[t] if self.mode == CALIBRATED and t < len(self.trials) else None


def cast_floats(obj: Any, dtype: torch.dtype) -> Any:
    """`obj` with every floating tensor (nested in lists, tuples, dicts) cast to `dtype`; the rest as is."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to(dtype) if obj.is_floating_point() else obj
    if isinstance(obj, list):
        return [cast_floats(o, dtype) for o in obj]
    if isinstance(obj, tuple):
        return tuple(cast_floats(o, dtype) for o in obj)
    if isinstance(obj, dict):
        return {k: cast_floats(v, dtype) for k, v in obj.items()}
    return obj


def nudge(obj: Any, generator: torch.Generator) -> Any:
    """`obj` with every floating tensor multiplied by (1 + NUDGE * u), u standard normal per element."""
    if isinstance(obj, torch.Tensor):
        if not obj.is_floating_point():
            return obj
        u = torch.randn(obj.shape, generator=generator, dtype=torch.float64).to(obj.device)
        return (obj.double() * (1.0 + NUDGE * u)).to(obj.dtype)
    if isinstance(obj, list):
        return [nudge(o, generator) for o in obj]
    if isinstance(obj, tuple):
        return tuple(nudge(o, generator) for o in obj)
    if isinstance(obj, dict):
        return {k: nudge(v, generator) for k, v in obj.items()}
    return obj


def _has_float_tensor(obj: Any) -> bool:
    if isinstance(obj, torch.Tensor):
        return obj.is_floating_point()
    if isinstance(obj, (list, tuple)):
        return any(_has_float_tensor(o) for o in obj)
    if isinstance(obj, dict):
        return any(_has_float_tensor(o) for o in obj.values())
    return False


def _agrees(ref: torch.Tensor, exact: torch.Tensor) -> bool:
    """Whether a float64 shadow leaf is the same computation as the reference leaf: within the fixed norm bound
    (random ops or dtype-dependent code differ by far more) and with NaN/inf at the same places."""
    from rewards.oracle.compare import NORM_RTOL

    r, e = ref.detach().double().cpu(), exact.detach().double().cpu()
    if r.shape != e.shape or not torch.equal(torch.isnan(r), torch.isnan(e)) or not torch.equal(torch.isinf(r), torch.isinf(e)):
        return False
    fin = torch.isfinite(r)
    if not fin.any():
        return True
    d = float(torch.linalg.vector_norm(r[fin] - e[fin]))
    return d <= NORM_RTOL.get(ref.dtype, 1e-3) * float(torch.linalg.vector_norm(e[fin])) + 1e-12 * math.sqrt(int(fin.sum()))


def _error(ref: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    """|ref - exact| on CPU in float64, 0 where either is not finite (those positions are compared exactly)."""
    r, e = ref.detach().double().cpu(), exact.detach().double().cpu()
    d = (r - e).abs()
    return torch.where(torch.isfinite(d), d, torch.zeros_like(d))


def smoothed(scale: torch.Tensor) -> torch.Tensor:
    """Per-element error scale raised towards the leaf's RMS scale, at most SMOOTHING_CAP times its own."""
    if not scale.numel():
        return scale
    rms = torch.sqrt(torch.mean(scale * scale))
    return torch.maximum(scale, torch.minimum(rms.expand_as(scale), SMOOTHING_CAP * scale))


RunFn = Callable[[Any, list[Any]], list[Any]]


def defines_triton_kernels(namespace: dict[str, Any]) -> bool:
    """Whether a reference module holds Triton kernels of its own (TritonBench's references are Triton code):
    a kernel handed float64 may fail, or compute at the precision it was written for."""
    try:
        from triton.runtime.jit import KernelInterface
    except ImportError:
        return False
    return any(isinstance(v, KernelInterface) for v in list(namespace.values()))


def calibrate(model: torch.nn.Module, inputs: list[list[Any]], outputs: list[list[Any]], run: RunFn,
              nondeterministic: str | None, seed: int, own_kernels: bool = False) -> Calibration:
    """The float64 shadow of `model` on every trial's `inputs`, checked against the reference's `outputs`.

    `run(model, inputs)` is the reference process's own forward (copies, gradients where the task has them),
    returning the flattened output leaves. `own_kernels`: the reference runs Triton kernels of its own
    (`defines_triton_kernels`): fixed bounds, not tried. Never raises: any failure of the shadow is a reason
    to keep the fixed bounds."""
    if nondeterministic:
        return Calibration(FIXED, "the reference is not reproducible (random ops?), so a float64 rerun is no exact answer")
    if own_kernels:
        return Calibration(FIXED, "the reference runs Triton kernels of its own, which may fail on float64 or compute "
                                  "at the precision they were written for")
    float_leaves = [i for i, leaf in enumerate(outputs[0] if outputs else [])
                    if isinstance(leaf, torch.Tensor) and leaf.is_floating_point()]
    if not float_leaves:
        return Calibration(FIXED, "no floating-point output to calibrate (integers, booleans or numbers are compared exactly)")
    if all(outputs[0][i].dtype == torch.float64 for i in float_leaves):
        return Calibration(FIXED, "the reference already computes in float64")
    try:
        shadow = copy.deepcopy(model).double()
    except Exception as e:
        return Calibration(FIXED, f"the module does not convert to float64 ({type(e).__name__}: {str(e)[:200]})")
    gen = torch.Generator().manual_seed(seed)
    trials: list[tuple[LeafCalibration | None, ...]] = []
    try:
        for inp, outs in zip(inputs, outputs, strict=True):
            exact = run(shadow, cast_floats(inp, torch.float64))
            if len(exact) != len(outs):
                return Calibration(FIXED, f"the float64 shadow returns {len(exact)} outputs, the reference {len(outs)}")
            nudged = nudge(inp, gen) if _has_float_tensor(inp) else None
            if nudged is not None:
                ref2, exact2 = run(model, nudged), run(shadow, cast_floats(nudged, torch.float64))
            leaves: list[LeafCalibration | None] = [None] * len(outs)
            for i in float_leaves:
                r, e = outs[i], exact[i]
                if not (isinstance(e, torch.Tensor) and e.dtype == torch.float64):
                    continue  # the reference casts to a fixed precision here: its shadow is no exact answer
                if not _agrees(r, e):
                    return Calibration(FIXED, f"the float64 shadow disagrees with the reference at output {i} beyond "
                                              "the fixed norm bound (dtype-dependent code or a kernel of fixed precision?)")
                scale = _error(r, e)
                if nudged is not None and isinstance(exact2[i], torch.Tensor) and exact2[i].shape == e.shape:
                    scale = torch.maximum(scale, _error(ref2[i], exact2[i]))
                leaves[i] = LeafCalibration(e.detach().cpu(), smoothed(scale))
            if not any(leaf is not None for leaf in leaves):
                return Calibration(FIXED, "the float64 shadow returns no float64 output (the reference casts to a fixed precision)")
            trials.append(tuple(leaves))
    except Exception as e:
        return Calibration(FIXED, f"the reference does not run in float64 ({type(e).__name__}: {str(e)[:200]})")
    n = sum(leaf is not None for leaf in trials[0])
    return Calibration(CALIBRATED, f"float64 shadow: {n} of {len(outputs[0])} outputs calibrated on the reference's own "
                                   "rounding (two samples per element)", tuple(trials))
