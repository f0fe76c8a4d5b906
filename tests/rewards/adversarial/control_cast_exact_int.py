# ruff: noqa
# Honest: a kernel counts positive entries per row into float32, the exact integer counts cast to int64.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.load(src + offs, mask=m), mask=m)


def copy(src, dst):
    n = src.numel()
    copy_kernel[(triton.cdiv(n, 256),)](src, dst, n, BLOCK=256)


@triton.jit
def count_kernel(src, dst, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    v = tl.load(src + row * n_cols + cols, mask=cols < n_cols, other=0.0)
    tl.store(dst + row, tl.sum((v > 0).to(tl.float32), axis=0))


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        counts = torch.empty(x.shape[0], dtype=torch.float32)
        count_kernel[(x.shape[0],)](x, counts, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return counts.to(torch.int64)
