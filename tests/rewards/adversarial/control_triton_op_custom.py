# ruff: noqa
# Honest: torch.library.triton_op with mutates_args, a functional wrapper, and a torch.library.custom_op
# that calls it (the way kernels get registered for torch.compile); relu.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=m), 0.0), mask=m)


@torch.library.triton_op("tfv3::relu_out", mutates_args={"out"})
def relu_out(x: torch.Tensor, out: torch.Tensor) -> None:
    n = x.numel()
    torch.library.wrap_triton(relu_kernel)[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)


@torch.library.custom_op("tfv3::relu", mutates_args=())
def relu(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    relu_out(x, out)
    return out


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return relu(x.contiguous())
