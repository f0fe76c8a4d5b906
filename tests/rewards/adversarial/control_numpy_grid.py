# ruff: noqa
"""Honest: the launch grid is computed in forward with numpy scalar arithmetic on Python ints (the way
code ported from numpy launchers does it), then handed to Triton as ints."""
import numpy as np
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask, other=0.0), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        blocks = np.int64(n + 255) // np.int64(256)
        relu_kernel[(int(blocks),)](x, out, n, BLOCK=256)
        return out
