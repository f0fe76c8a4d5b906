# ruff: noqa
# Honest relu plus one million trailing Python ints in the returned list. Every leaf is pickled by the
# candidate, unpickled and re-pickled by the supervisor under weights_only (a pure-Python unpickler),
# then unpickled again by the group's shared reference process before the length check fails. The
# reference process has no per-candidate time limit: this stalls judging for the whole group.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=m), 0.0), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.tail = list(range(1_000_000))

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return [out] + self.tail
