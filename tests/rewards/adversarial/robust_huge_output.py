# ruff: noqa
"""Returns a (rows, cols) view into a fresh 160 MB buffer each trial (values wrong: a plain copy of the
input). Saving the view saves the whole storage, so the outputs file grows past the size limits. Must end
as this candidate's failure only."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        big = torch.empty(40 * 1024 * 1024, dtype=x.dtype, device=x.device)
        out = big[: x.numel()].view(x.shape)
        n = x.numel()
        copy_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
