# ruff: noqa
# Honest: a length read once with .item() (shape arithmetic on a small task), the kernel doubles the first n rows.
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
def double_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, 2.0 * tl.load(src + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def forward(self, x, n):
        rows = int(n.item())
        x = x.contiguous()
        out = torch.empty((rows, x.shape[1]), dtype=x.dtype)
        total = rows * x.shape[1]
        double_kernel[(triton.cdiv(total, 128),)](x, out, total, BLOCK=128)
        return out
