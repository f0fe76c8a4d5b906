# ruff: noqa
"""Raises the recursion limit through `typing.sys` and recurses at import until the C stack overflows
(a segfault, not a RecursionError). Must end as this candidate's crash only."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

typing.sys.setrecursionlimit(10**8)


def _dive(n):
    return _dive(n + 1) + 1


_dive(0)


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        copy_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
