# ruff: noqa
"""Computes ReLU honestly with a kernel but returns it as a sparse COO tensor: same shape and dtype as the
reference, so it survives the shape/dtype checks and reaches the numeric comparison, where dense-vs-sparse
ops raise. Must fail (not ok) without taking the reference process (and its group) down."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out.to_sparse()
