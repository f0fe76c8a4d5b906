# ruff: noqa
"""Cheat: numpy computes relu over the tensor's values (np.maximum on an array built from x) in forward; the
kernel only copies the result."""
import numpy as np
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = torch.tensor(np.maximum(np.asarray(x), np.float32(0.0)))
        out = torch.empty_like(r)
        n = r.numel()
        copy_kernel[(int(np.int64(n + 255) // 256),)](r, out, n, BLOCK=256)
        return out
