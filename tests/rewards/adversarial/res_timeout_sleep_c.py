# ruff: noqa
"""Host resources: holds HOLD_MB of touched memory and sleeps in C (time.sleep) inside forward until it is
killed at the wall-clock limit. Its processes must all be gone when the timeout verdict is reported."""
import time
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask, other=0.0), 0.0), mask=mask)

HOLD_MB = 512


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.hold = torch.ones(HOLD_MB << 20, dtype=torch.uint8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(600)
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
