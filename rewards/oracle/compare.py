"""Output comparison, run in the trusted reference process (never where candidate code was loaded).

Rules, for every leaf of the (flattened) outputs:

* tensors: same shape and dtype; NaN and inf in the same places; finite values within
  |cand - ref| <= atol + rtol * |ref| (tolerances by dtype unless given) **and** a norm-relative bound
  ||cand - ref||_2 <= nrtol * ||ref||_2 + tiny. Why both: the element-wise test alone is fooled by small
  magnitudes (a softmax over 16k columns has values ~6e-5, below atol, so an all-zeros output passed, and
  so did a softmax that counts padding in its denominator). The norm bound scales with the data, so those
  fail at every size, while honest reorderings of a sum stay orders of magnitude below it.
* Python scalars (a test's `.item()`, a count, a flag): bools and ints exactly, floats within the
  float32 tolerances and relative bound (they usually come from float32 tensors); a one-element tensor and a
  number compare by value, with the tensor's dtype's tolerances and bound (a number dodges no check a 0-d
  tensor would meet).
* nothing at all: a reference that yields no leaves compares nothing, so it can accept any candidate;
  `compare_outputs(..., require_nonempty=True)` reports that instead of passing.
* calibrated leaves (`rewards.oracle.shadow`): where the judge has the float64 answer of a floating leaf and the
  reference's own rounding error there, a tensor the fixed bounds refuse is still accepted when it is within
  atol + rtol * |exact| + CALIBRATED_MULTIPLE * scale of the exact answer element-wise and within
  nrtol * ||exact|| + CALIBRATED_MULTIPLE * ||scale|| in norm: no stricter than the reference is exact (a
  row sum cancelling to near zero), while a real bug stays thousands of scales away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from rewards.oracle.shadow import LeafCalibration

# fp32 results of a Triton kernel and of eager PyTorch differ by summation order only; 1e-4 catches real
# bugs while leaving room for that. Half precision keeps ~3 significant digits.
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-6, 1e-6),
    torch.float32: (1e-4, 1e-4),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (1e-2, 1e-2),
}
# Norm-relative bound by dtype: ~10x above what a correct kernel reaches (reordered fp32 sums: ~1e-6;
# TF32 dot products: ~5e-4; fp16/bf16 rounding: ~1e-3 / ~4e-3), and far below a mis-normalisation (~1e-2).
NORM_RTOL: dict[torch.dtype, float] = {
    torch.float64: 1e-5,
    torch.float32: 1e-3,
    torch.float16: 5e-3,
    torch.bfloat16: 1.5e-2,
}
NOTHING_TO_COMPARE = "the reference produced nothing to compare"
# How many times the reference's own rounding error (per element, `rewards.oracle.shadow`) an answer may be off the
# exact one. An honest fp32 kernel that sums in another order has errors of the reference's size, give or
# take a few times (Gaussian-like: 16 scales leave ~1e-7 per element for an error 3x the reference's);
# fp16 accumulation of a KernelBench GEMM + row sum is ~2e4 scales off, a dropped tile or a missing scale
# factor 1e6 and more.
CALIBRATED_MULTIPLE = 16.0

Leaf = torch.Tensor | bool | int | float | complex | str


@dataclass(frozen=True)
class Comparison:
    ok: bool
    max_abs_err: float | None
    reason: str = ""


def flatten(obj: Any, keep_scalars: bool = False) -> list[Leaf]:
    """Forward outputs as a flat list of leaves, in a fixed order.

    Tuples, lists and dicts (by key order) are walked; numpy arrays become tensors; None is skipped.
    Python numbers become 0-d tensors (bool, int64, float32: they mostly come from float32 `.item()`),
    and strings are dropped (an exception's text is not a value), unless `keep_scalars`, which keeps
    numbers and strings as they are. Every leaf survives `torch.save` + `torch.load(weights_only=True)`.
    """
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (bool, int, float, complex)):
        if keep_scalars:
            return [obj]
        if isinstance(obj, bool):
            return [torch.tensor(obj, dtype=torch.bool)]
        if isinstance(obj, int):
            return [torch.tensor(obj, dtype=torch.int64)] if -(2**63) <= obj < 2**63 else [torch.tensor(float(obj), dtype=torch.float64)]
        return [torch.tensor(obj, dtype=torch.complex64 if isinstance(obj, complex) else torch.float32)]
    if isinstance(obj, str):
        return [obj] if keep_scalars else []
    if obj is None:
        return []
    if isinstance(obj, (list, tuple)):
        out: list[Leaf] = []
        for o in obj:
            out += flatten(o, keep_scalars)
        return out
    if isinstance(obj, dict):
        out = []
        for k in obj:
            out += flatten(obj[k], keep_scalars)
        return out
    if isinstance(obj, torch.dtype):
        return [str(obj)] if keep_scalars else []
    if type(obj).__module__ == "numpy":  # numpy arrays and scalars, without importing numpy here
        import numpy as np

        arr = np.asarray(obj)
        if arr.dtype.kind in "biufc":
            return [torch.from_numpy(arr.copy())] if arr.ndim else flatten(arr.item(), keep_scalars)
    raise TypeError(f"forward returned an unsupported type {type(obj).__name__}")


def _number(x: Any) -> float | complex | None:
    """A scalar's value (0-d / one-element tensors included), or None when `x` is not a number."""
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            return None
        x = x.detach().cpu().reshape(()).item()
    if isinstance(x, (bool, int, float, complex)):
        return x
    return None


def _float_err(d: Any) -> float:
    try:
        return float(d)
    except OverflowError:  # an int past float's range
        return float("inf")


def _brief(v: Any) -> str:
    """repr of a leaf for a reason line, bounded: a candidate's string or int can be any size, and the
    reason travels to the zygote as one JSON line (a huge one could starve the judge's process)."""
    if isinstance(v, str):
        return repr(v[:200]) + (f"... ({len(v)} chars)" if len(v) > 200 else "")
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 640:
        return f"<int of {v.bit_length()} bits>"
    return repr(v)[:300]


def compare_scalars(ref: Any, cand: Any, atol: float | None, rtol: float | None, what: str,
                    dtype: torch.dtype = torch.float32, nrtol: float | None = None) -> Comparison:
    """A Python scalar/string of the reference (or the value of a one-element tensor of `dtype`) against the
    candidate's leaf. Floats face what a 0-d tensor of `dtype` faces: its atol/rtol and its norm-relative
    bound, which for one value is a relative error of `nrtol`: without it a number slipped past the bound
    a tensor meets (a 0-d answer of 6e-5 returned as the Python float 0.0 passed on atol alone)."""
    if isinstance(ref, str):
        ok = isinstance(cand, str) and cand == ref
        return Comparison(ok, 0.0 if ok else None, "" if ok else f"{what}: {_brief(cand)} != expected {_brief(ref)}")
    c = _number(cand)
    if c is None or isinstance(cand, str):
        return Comparison(False, None, f"{what}: expected a {type(ref).__name__}, got {type(cand).__name__}")
    if isinstance(ref, (bool, int)):
        ok = not isinstance(c, complex) and c == ref
        err = 0.0 if ok else (None if isinstance(c, complex) else _float_err(abs(c - ref)))
        return Comparison(ok, err, "" if ok else f"{what}: {_brief(c)} != expected {_brief(ref)}")
    d_atol, d_rtol = TOLERANCES.get(dtype, (1e-4, 1e-4))
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
    nrtol = NORM_RTOL.get(dtype, 1e-3) if nrtol is None else nrtol
    r, cc = complex(ref), complex(c)
    if any(math.isnan(v) for v in (r.real, r.imag)) or any(math.isnan(v) for v in (cc.real, cc.imag)):
        ok = all(math.isnan(v) for v in (r.real, cc.real)) or (r == cc)
        return Comparison(ok, float("nan"), "" if ok else f"{what}: NaN where the reference has none (or vice versa)")
    if any(math.isinf(v) for v in (r.real, r.imag, cc.real, cc.imag)):
        ok = r == cc
        return Comparison(ok, float("inf"), "" if ok else f"{what}: {c!r} != expected {ref!r}")
    err = abs(cc - r)
    if not err <= atol + rtol * abs(r):
        return Comparison(False, err, f"{what}: {c!r} != expected {ref!r} (atol={atol:g} rtol={rtol:g})")
    if err > nrtol * abs(r) + 1e-6 * atol:  # compare_tensors' norm bound and floor, for one element
        return Comparison(False, err, f"{what}: {c!r} != expected {ref!r} (relative error above {nrtol:g})")
    return Comparison(True, err)


def _within_calibration(cf: torch.Tensor, calib: LeafCalibration, fin: torch.Tensor, atol: float, rtol: float,
                        nrtol: float) -> str:
    """'' when the finite part `cf` of an answer is within the calibrated bounds of the exact answer, else why not."""
    e = calib.exact.double()[fin]
    s = calib.scale.double()[fin]
    diff = (cf - e).abs()
    nbad = int((diff > atol + rtol * e.abs() + CALIBRATED_MULTIPLE * s).sum())
    if nbad:
        return (f"{nbad} elements also outside {CALIBRATED_MULTIPLE:g} x the reference's own rounding error "
                f"of the float64 answer (max {float((diff / (s + atol)).max()):.3g} x)")
    err_norm = float(torch.linalg.vector_norm(cf - e))
    if err_norm > nrtol * float(torch.linalg.vector_norm(e)) + CALIBRATED_MULTIPLE * float(torch.linalg.vector_norm(s)) \
            + 1e-6 * atol * math.sqrt(e.numel()):
        return "also off the float64 answer in norm by more than the reference's own rounding allows"
    return ""


def compare_tensors(ref: torch.Tensor, cand: Any, atol: float | None, rtol: float | None, what: str,
                    nrtol: float | None = None, calib: LeafCalibration | None = None) -> Comparison:
    if not isinstance(cand, torch.Tensor):
        return Comparison(False, None, f"{what}: expected a tensor, got {type(cand).__name__}")
    if tuple(ref.shape) != tuple(cand.shape):
        return Comparison(False, None, f"{what}: shape {tuple(cand.shape)} != expected {tuple(ref.shape)}")
    if ref.dtype != cand.dtype:
        return Comparison(False, None, f"{what}: dtype {cand.dtype} != expected {ref.dtype}")
    ref = ref.detach().cpu()
    cand = cand.detach().cpu()
    if ref.is_complex():
        ref, cand = torch.view_as_real(ref.resolve_conj()), torch.view_as_real(cand.resolve_conj())
    if not ref.is_floating_point():
        bad = int((ref != cand).sum())
        err = float((ref.double() - cand.double()).abs().max()) if ref.numel() else 0.0
        return Comparison(bad == 0, err, "" if bad == 0 else f"{what}: {bad} of {ref.numel()} elements differ")
    d_atol, d_rtol = TOLERANCES.get(ref.dtype, (1e-4, 1e-4))
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
    nrtol = NORM_RTOL.get(ref.dtype, 1e-3) if nrtol is None else nrtol
    r, c = ref.double(), cand.double()
    r_nan, c_nan = torch.isnan(r), torch.isnan(c)
    if not torch.equal(r_nan, c_nan):
        n = int((r_nan != c_nan).sum())
        return Comparison(False, float("nan"), f"{what}: NaN at {n} positions where the reference has none (or vice versa)")
    r_inf, c_inf = torch.isinf(r), torch.isinf(c)
    if not torch.equal(r_inf, c_inf) or not torch.equal(r[r_inf], c[c_inf]):
        return Comparison(False, float("inf"), f"{what}: infinities differ from the reference")
    fin = ~(r_nan | r_inf)
    if not fin.any():
        return Comparison(True, 0.0)
    rf, cf = r[fin], c[fin]
    diff = (rf - cf).abs()
    err = float(diff.max())
    bad = diff > atol + rtol * rf.abs()
    nbad = int(bad.sum())
    why = ""
    if nbad:
        why = f"{what}: {nbad} of {int(fin.sum())} elements outside atol={atol:g} rtol={rtol:g} (max abs err {err:.3e})"
    else:
        ref_norm = float(torch.linalg.vector_norm(rf))
        err_norm = float(torch.linalg.vector_norm(rf - cf))
        # The floor only absorbs exact-cancellation noise around an all-zero reference (1e-6 of atol per element).
        floor = 1e-6 * atol * math.sqrt(rf.numel())
        if err_norm > nrtol * ref_norm + floor:
            rel = err_norm / ref_norm if ref_norm else float("inf")
            why = (f"{what}: relative L2 error {rel:.2e} > {nrtol:g} (every element is within "
                   f"atol={atol:g} rtol={rtol:g}, but the output as a whole is off)")
    if why and calib is not None and tuple(calib.exact.shape) == tuple(ref.shape):
        beyond = _within_calibration(cf, calib, fin, atol, rtol, nrtol)
        if not beyond:
            return Comparison(True, err)
        why += "; " + beyond
    return Comparison(not why, err, why)


def compare_leaf(ref: Any, cand: Any, atol: float | None, rtol: float | None, what: str,
                 nrtol: float | None = None, calib: LeafCalibration | None = None) -> Comparison:
    """One leaf of the outputs: a tensor, a Python scalar/string, or None (`plain_outputs` keeps a returned
    None as a leaf: a task whose forward returns nothing, an in-place update, compares None with None).
    `calib` (a tensor leaf's float64 answer and rounding scale) applies to a tensor answer only."""
    if ref is None or cand is None:
        ok = ref is None and cand is None
        return Comparison(ok, 0.0 if ok else None, "" if ok else f"{what}: {type(cand).__name__} != expected {type(ref).__name__}")
    if isinstance(ref, torch.Tensor):
        if not isinstance(cand, torch.Tensor) and ref.numel() == 1 and _number(cand) is not None:
            # judged as the tensor would be: its dtype's tolerances and norm bound, not float32's atol alone
            real = ref.dtype.to_real() if ref.is_complex() else ref.dtype
            return compare_scalars(_number(ref), cand, atol, rtol, what, real, nrtol)
        return compare_tensors(ref, cand, atol, rtol, what, nrtol, calib)
    return compare_scalars(ref, cand, atol, rtol, what, nrtol=nrtol)


def compare_outputs(ref: list[Any], cand: Any, atol: float | None, rtol: float | None, what: str,
                    nrtol: float | None = None, require_nonempty: bool = False,
                    calibration: Sequence[LeafCalibration | None] | None = None) -> Comparison:
    """Compare flattened outputs leaf by leaf; the worst error across all leaves is reported.

    `require_nonempty`: a reference with no leaves fails (it would accept anything); off by default since
    callers also compare possibly empty lists such as the tensors among a task's inputs. `calibration`: per
    leaf, its float64 answer and the reference's rounding scale (`rewards.oracle.shadow`), or None (fixed bounds).
    """
    if not isinstance(cand, (list, tuple)):
        return Comparison(False, None, f"{what}: malformed candidate outputs")
    if require_nonempty and not ref:
        return Comparison(False, None, f"{what}: {NOTHING_TO_COMPARE}")
    if len(ref) != len(cand):
        return Comparison(False, None, f"{what}: {len(cand)} outputs, expected {len(ref)}")
    worst = 0.0
    for i, (r, c) in enumerate(zip(ref, cand, strict=True)):
        calib = calibration[i] if calibration is not None and i < len(calibration) else None
        cmp = compare_leaf(r, c, atol, rtol, f"{what}[{i}]", nrtol, calib)
        if not cmp.ok:
            return cmp
        if cmp.max_abs_err is not None and not math.isnan(cmp.max_abs_err):
            worst = max(worst, cmp.max_abs_err)
    return Comparison(True, worst)
