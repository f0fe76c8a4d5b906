# ruff: noqa
# Honest: a float16 input widened to float32, relu by a kernel, the result cast back to the input's dtype.
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
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=m, other=0.0), 0.0), mask=m)


class ModelNew(nn.Module):
    def forward(self, x):
        xf = x.contiguous().float()
        out = torch.empty_like(xf)
        n = xf.numel()
        relu_kernel[(triton.cdiv(n, 256),)](xf, out, n, BLOCK=256)
        return out.to(x.dtype)
