# ruff: noqa
# Honest: numpy scalar arithmetic on Python ints (numpy.int64 of each dimension) and a parameter built in __init__; relu by a kernel.
import torch
import torch.nn as nn
import triton
import triton.language as tl
import numpy


@triton.jit
def copy_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.load(src + offs, mask=m), mask=m)


def copy(src, dst):
    n = src.numel()
    copy_kernel[(triton.cdiv(n, 256),)](src, dst, n, BLOCK=256)


@triton.jit
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=m, other=0.0), 0.0), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = int(numpy.int64(x.shape[0]) * numpy.int64(x.shape[1]))
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
