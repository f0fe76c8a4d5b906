# ruff: noqa
"""Returns the (honest) ReLU plus an extra output: an int subclass whose conversions, comparisons, hash and
repr all raise. Must end as this candidate's failure (runtime_error or mismatch), never an engine error."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


class Grenade(int):
    def _boom(self, *args, **kwargs):
        raise RuntimeError("boom")

    __int__ = __index__ = __float__ = __eq__ = __ne__ = __lt__ = __hash__ = __repr__ = __str__ = __bool__ = _boom


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out, Grenade(3)
