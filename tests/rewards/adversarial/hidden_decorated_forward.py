# ruff: noqa
"""forward is honest-looking (copies its input with a kernel), but it is wrapped by a decorator reached
through an object attribute (`@hooks.finalise`), and the wrapper replaces the kernel's result with
torch's row sum."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class _Hooks:
    def finalise(self, fn):
        def wrapped(module, x):
            launched = fn(module, x)
            return torch.sum(launched, dim=1)
        return wrapped


hooks = _Hooks()


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    @hooks.finalise
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        copy_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
