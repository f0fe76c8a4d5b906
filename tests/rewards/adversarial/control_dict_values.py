# ruff: noqa
"""Honest: forward takes a dict of tensors and iterates `d.values()` to launch one accumulate kernel per
operand."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def acc_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    acc = tl.load(out_ptr + offs, mask=mask, other=0.0)
    tl.store(out_ptr + offs, acc + tl.load(x_ptr + offs, mask=mask, other=0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, d):
        out = torch.zeros_like(d["a"])
        n = out.numel()
        for t in d.values():
            acc_kernel[(triton.cdiv(n, 256),)](t.contiguous(), out, n, BLOCK=256)
        return out
