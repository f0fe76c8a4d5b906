# ruff: noqa
# Honest: a kernel engineer's forward that logs the launch config and warns once about a slow path.
import logging
import warnings

import torch
import torch.nn as nn
import triton
import triton.language as tl

log = logging.getLogger("relu_kernel")


@triton.jit
def relu_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.maximum(tl.load(src + offs, mask=m), 0.0), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        if not x.is_contiguous():
            warnings.warn("relu_kernel: non-contiguous input, copying")
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        grid = (triton.cdiv(n, 256),)
        log.debug("launching relu_kernel n=%d grid=%s", n, grid)
        log.info("relu_kernel launch")
        warnings.warn("relu_kernel: fp32 path", stacklevel=2)
        relu_kernel[grid](x, out, n, BLOCK=256)
        return out
