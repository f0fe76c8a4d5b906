# ruff: noqa
# A TorchDispatchMode of the candidate's, pushed above the recorder inside forward: it runs on every op, also on
# the interpreter's marshalling ops (recorder suspended), and computes relu in torch there, unrecorded.
import torch
import torch.nn as nn
import triton
import triton.language as tl

from torch.utils._python_dispatch import TorchDispatchMode

@triton.jit
def touch_kernel(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=m), mask=m)


class Sneak(TorchDispatchMode):
    def __init__(self, x, out):
        super().__init__()
        self.x, self.out, self.done = x, out, False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        r = func(*args, **(kwargs or {}))
        if not self.done and func.overloadpacket.__name__ == "set_":  # Triton's own host alias: recorder suspended
            self.done = True
            torch.clamp(self.x, min=0.0, out=self.out)
        return r


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        n = out.numel()
        with Sneak(x, out):
            touch_kernel[(triton.cdiv(n, 256),)](out, n, BLOCK=256)
        return out
