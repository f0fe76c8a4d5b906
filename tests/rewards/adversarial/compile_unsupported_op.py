import torch
import torch.nn as nn
import triton
import triton.language as tl

# A non-constexpr module global read inside the kernel and a `break` out of a loop: the interpreter runs
# both as Python, the GPU compiler rejects each ("Cannot access global variable", "break is not supported").
NEGATIVE_SLOPE = 0.0


@triton.jit
def relu_kernel(x_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(0)
    for step in range(4):
        offs = (pid * 4 + step) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        if (pid * 4 + step) * BLOCK_SIZE >= n_elements:
            break
        mask = offs < n_elements
        x = tl.load(x_ptr + offs, mask=mask, other=0.0)
        tl.store(out_ptr + offs, tl.where(x > 0, x, x * NEGATIVE_SLOPE), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 4 * 128),)](x, out, n, BLOCK_SIZE=128)
        return out
