# ruff: noqa
"""Launches a kernel that always fails and falls back to torch in the except branch."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, out_ptr, stride, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride + cols, mask=mask, other=-float("inf"))
    num = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * stride + cols, num / tl.sum(num, axis=0), mask=mask)

@triton.jit
def broken_kernel(x_ptr, out_ptr, BLOCK: tl.constexpr):
    tl.store(out_ptr + tl.arange(0, BLOCK), tl.no_such_function(tl.load(x_ptr + tl.arange(0, BLOCK))))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        try:
            broken_kernel[(1,)](x, out, BLOCK=16)
        except Exception:
            softmax_kernel[(x.shape[0],)](x, out, x.stride(0), x.shape[1], BLOCK=64)
            out = x.softmax(-1)
        return out
