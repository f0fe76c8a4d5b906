# ruff: noqa
# Honest: foreach-style in-place scale of a list of tensors, one launch per tensor, returning nothing.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    v = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(x_ptr + offs, v * a, mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, xs, alpha):
        for x in xs:
            scale_kernel[(triton.cdiv(x.numel(), 1024),)](x, x.numel(), alpha, BLOCK=1024)
        return None
