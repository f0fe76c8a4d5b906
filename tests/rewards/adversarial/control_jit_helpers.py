# ruff: noqa
# Honest: module-level tl.constexpr globals, a @triton.jit device helper called from the kernel, and a
# second helper that calls the first; row softmax in one launch.
import torch
import torch.nn as nn
import triton
import triton.language as tl

LOG2E: tl.constexpr = tl.constexpr(1.4426950408889634)
NUM_WARPS = 4


@triton.jit
def _exp(v):
    return tl.exp2(v * LOG2E)


@triton.jit
def _stable_softmax(v):
    e = _exp(v - tl.max(v, axis=0))
    return e / tl.sum(e, axis=0)


@triton.jit
def softmax_kernel(src, dst, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    m = cols < n_cols
    v = tl.load(src + row * n_cols + cols, mask=m, other=float("-inf"))
    tl.store(dst + row * n_cols + cols, _stable_softmax(v), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        rows, cols = x.shape
        softmax_kernel[(rows,)](x, out, cols, BLOCK=triton.next_power_of_2(cols), num_warps=NUM_WARPS)
        return out
