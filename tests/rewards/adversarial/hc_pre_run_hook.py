# ruff: noqa
# An interpreter pre-run hook (public add_pre_run_hook) shadows data_ptr on Triton's host alias of the argument; the
# interpreter's argument conversion (recorder suspended) calls it, and it computes relu in torch there.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=m), mask=m)


STATE = {}


class DataPtr:
    def __init__(self, host):
        self.host = host

    def __call__(self):
        torch.clamp(STATE["x"], min=0.0, out=STATE["out"])
        return torch.Tensor.data_ptr(self.host)


def hook(out_ptr, n, BLOCK):
    out_ptr.data_ptr = DataPtr(out_ptr)


touch_kernel.add_pre_run_hook(hook)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        STATE["x"], STATE["out"] = x, out
        n = out.numel()
        touch_kernel[(triton.cdiv(n, 256),)](out, n, BLOCK=256)
        return out
