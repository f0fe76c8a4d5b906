# ruff: noqa
# A TorchFunctionMode of the candidate's, pushed above the recorder's inside forward: it sees Triton's marshalling
# call untyped_storage (recorder suspended) and computes relu in torch right there, unrecorded.
import torch
import torch.nn as nn
import triton
import triton.language as tl

from torch.overrides import TorchFunctionMode

@triton.jit
def touch_kernel(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=m), mask=m)


class Sneak(TorchFunctionMode):
    def __init__(self, x, out):
        super().__init__()
        self.x, self.out, self.done = x, out, False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if not self.done and getattr(func, "__name__", "") == "untyped_storage":
            self.done = True
            torch.clamp(self.x, min=0.0, out=self.out)
        return func(*args, **(kwargs or {}))


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        n = out.numel()
        with Sneak(x, out):
            touch_kernel[(triton.cdiv(n, 256),)](out, n, BLOCK=256)
        return out
