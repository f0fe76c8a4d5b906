# ruff: noqa
"""Cheat: a triton_op called through torch.ops whose body does the addition with torch (reached through a
list of callables the static rules cannot follow) and launches a copy kernel for show."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(src_ptr + offs, mask=mask, other=0.0), mask=mask)


_OPS = [torch.add]


@torch.library.triton_op("tfv4::add_cheat", mutates_args=())
def add_cheat(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    s = _OPS[0](x, y)
    out = torch.empty_like(s)
    n = s.numel()
    torch.library.wrap_triton(copy_kernel)[(triton.cdiv(n, 256),)](s, out, n, BLOCK=256)
    return out


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.ops.tfv4.add_cheat(x, y)
