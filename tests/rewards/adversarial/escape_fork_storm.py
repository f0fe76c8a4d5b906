# ruff: noqa
"""Forks up to 400 children that exec `sleep 600` under a marker name, then spins."""
import torch
import torch.nn as nn
import triton
import triton.language as tl
import os


@triton.jit
def relu_kernel(x_ptr, out_ptr, n_elements, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    tl.store(out_ptr + offs, tl.maximum(x, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(400):
            if os.fork() == 0:
                os.execv("/bin/sleep", ["tf_adv_marker_forkstorm", "600"])
        while True:
            pass
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 128),)](x, out, n, BLOCK=128)
        return out
