# ruff: noqa
# Honest: sizes its output from the torch.Size input and reads its numel() (a list has none).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def dbl(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, 2 * tl.load(x_ptr + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, size):
        x = x.contiguous()
        y = torch.empty(size, device=x.device, dtype=x.dtype)
        n = size.numel()
        dbl[(triton.cdiv(n, 256),)](x, y, n, BLOCK=256)
        return y
