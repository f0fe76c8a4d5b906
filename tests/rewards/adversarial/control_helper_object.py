# ruff: noqa
"""Honest: the ReLU kernel is launched by a small launcher object built in __init__ (it owns the block
size and the grid computation); forward just calls it."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask, other=0.0), 0.0), mask=mask)


class ReluLauncher:
    def __init__(self, block: int):
        self.block = block

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, self.block),)](x, out, n, BLOCK=self.block)
        return out


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.launch = ReluLauncher(block=128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.launch(x)
