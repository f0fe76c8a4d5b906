# ruff: noqa
"""Hides F.softmax behind an import alias, a rebinding and a helper function."""
import torch
import torch.nn as nn
import triton
import triton.language as tl
from torch.nn import functional as Fn


@triton.jit
def softmax_kernel(x_ptr, out_ptr, stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride + cols, mask=mask, other=-float("inf"))
    num = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * stride + cols, num / tl.sum(num, axis=0), mask=mask)

_sm = Fn.softmax


def _finish(t):
    return _sm(t, dim=-1)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        softmax_kernel[(x.shape[0],)](x, out, x.stride(0), x.shape[1], BLOCK=64)
        return _finish(x)
