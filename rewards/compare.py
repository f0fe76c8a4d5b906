"""Output comparison, run in the trusted reference process (never where candidate code was loaded).

Rules: same structure, shape and dtype; NaN and inf in the same places; finite values within
|cand - ref| <= atol + rtol * |ref| with tolerances chosen by dtype unless given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

# fp32 results of a Triton kernel and of eager PyTorch differ by summation order only; 1e-4 catches real
# bugs while leaving room for that. Half precision keeps ~3 significant digits.
TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-6, 1e-6),
    torch.float32: (1e-4, 1e-4),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (1e-2, 1e-2),
}


@dataclass(frozen=True)
class Comparison:
    ok: bool
    max_abs_err: float | None
    reason: str = ""


def flatten(obj: Any) -> list[torch.Tensor]:
    """Forward outputs as a flat list of tensors (tuples/lists nested; Python scalars become tensors)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        out: list[torch.Tensor] = []
        for o in obj:
            out += flatten(o)
        return out
    if isinstance(obj, (bool, int, float)):
        return [torch.tensor(obj)]
    if obj is None:
        return []
    raise TypeError(f"forward returned an unsupported type {type(obj).__name__}")


def compare_tensors(ref: torch.Tensor, cand: Any, atol: float | None, rtol: float | None, what: str) -> Comparison:
    if not isinstance(cand, torch.Tensor):
        return Comparison(False, None, f"{what}: expected a tensor, got {type(cand).__name__}")
    if tuple(ref.shape) != tuple(cand.shape):
        return Comparison(False, None, f"{what}: shape {tuple(cand.shape)} != expected {tuple(ref.shape)}")
    if ref.dtype != cand.dtype:
        return Comparison(False, None, f"{what}: dtype {cand.dtype} != expected {ref.dtype}")
    ref = ref.detach().cpu()
    cand = cand.detach().cpu()
    if not (ref.is_floating_point() or ref.is_complex()):
        bad = int((ref != cand).sum())
        err = float((ref.double() - cand.double()).abs().max()) if ref.numel() else 0.0
        return Comparison(bad == 0, err, "" if bad == 0 else f"{what}: {bad} of {ref.numel()} elements differ")
    d_atol, d_rtol = TOLERANCES.get(ref.dtype, (1e-4, 1e-4))
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
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
    diff = (r[fin] - c[fin]).abs()
    err = float(diff.max())
    bad = diff > atol + rtol * r[fin].abs()
    nbad = int(bad.sum())
    if nbad:
        return Comparison(False, err, f"{what}: {nbad} of {int(fin.sum())} elements outside atol={atol:g} rtol={rtol:g} (max abs err {err:.3e})")
    return Comparison(True, err)


def compare_outputs(ref: list[torch.Tensor], cand: Any, atol: float | None, rtol: float | None, what: str) -> Comparison:
    """Compare flattened outputs; the worst error across all tensors is reported."""
    if not isinstance(cand, (list, tuple)):
        return Comparison(False, None, f"{what}: malformed candidate outputs")
    if len(ref) != len(cand):
        return Comparison(False, None, f"{what}: {len(cand)} output tensors, expected {len(ref)}")
    worst = 0.0
    for i, (r, c) in enumerate(zip(ref, cand, strict=True)):
        cmp = compare_tensors(r, c, atol, rtol, f"{what}[{i}]")
        if not cmp.ok:
            return cmp
        worst = max(worst, cmp.max_abs_err or 0.0)
    return Comparison(True, worst)
