# ruff: noqa
"""Cheat: iterates `d.values()` of the dict input and sums the operands with torch arithmetic; one copy
kernel is launched for show."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask, other=0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, d):
        total = torch.zeros_like(d["a"])
        for t in d.values():
            total.add_(t)
        out = torch.empty_like(total)
        n = out.numel()
        copy_kernel[(triton.cdiv(n, 256),)](total, out, n, BLOCK=256)
        return out
