import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _positive(x):
    return tl.maximum(x, 0.0)


# `and`/`not` on constexprs and Python ints is compile-time Python on a GPU and on the CPU alike: fine.
# Tensor masks are combined with `&`.
@triton.jit
def relu_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr, EVEN: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    if BLOCK_SIZE >= 16 and EVEN:
        x = tl.load(x_ptr + offs)
        tl.store(out_ptr + offs, _positive(x))
    elif not EVEN or BLOCK_SIZE < 16:
        mask = (offs < n_elements) & (offs >= 0)
        x = tl.load(x_ptr + offs, mask=mask, other=0.0)
        tl.store(out_ptr + offs, _positive(x), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        block = 128
        relu_kernel[(triton.cdiv(n, block),)](x, out, n, BLOCK_SIZE=block, EVEN=n % block == 0)
        return out
