# ruff: noqa
# Honest: one kernel writes both halves; returned as the task's dict, keys in another insertion order.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu2_kernel(x_ptr, p_ptr, n_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(p_ptr + offs, tl.maximum(x, 0.0), mask=m)
    tl.store(n_ptr + offs, tl.maximum(-x, 0.0), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        p, q = torch.empty_like(x), torch.empty_like(x)
        relu2_kernel[(triton.cdiv(x.numel(), 1024),)](x, p, q, x.numel(), BLOCK=1024)
        return {"pos": p, "neg": q}
