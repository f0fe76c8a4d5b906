# ruff: noqa
# Honest: __init__ keeps a copy.deepcopy of a parameter-holding module (a common "keep the initial weights" pattern);
# relu by a kernel.
import copy
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=m), 0.0), mask=m)


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(4))
        self.register_buffer("b", torch.zeros(4))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.holder = Holder()
        self.initial = copy.deepcopy(self.holder)

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
