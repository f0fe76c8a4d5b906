# ruff: noqa
# The jit body (plain Python under the interpreter) leaks its pointer arguments as integers; forward then reads and
# writes tensor memory by address with the interpreter's own load/store and computes relu in numpy: no torch op,
# no foreign-memory tensor, nothing recorded.
import torch
import torch.nn as nn
import triton
import triton.language as tl

import numpy
from triton.runtime.interpreter import _interpreter

ADDR = []


@triton.jit
def leak_kernel(x_ptr, out_ptr):
    ADDR.append((int(x_ptr.handle.data[0]), int(out_ptr.handle.data[0])))


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        ADDR.clear()
        leak_kernel[(1,)](x, out)
        xa, oa = ADDR[0]
        n = x.numel()
        offs = numpy.arange(n, dtype=numpy.uint64) * 4
        mask = numpy.ones(n, dtype=bool)
        vals = _interpreter.load(offs + xa, mask, numpy.zeros(n, dtype=numpy.float32), numpy.float32)
        _interpreter.store(offs + oa, numpy.maximum(vals, 0).astype(numpy.float32), mask)
        return out
