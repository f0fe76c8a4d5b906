# ruff: noqa
"""Honest: relu(x * w + b) as a torch.autograd.Function whose forward and backward each launch a Triton
kernel (the forward saves the pre-activation sign for the backward). Parameters are named like the
reference's, so the harness loads the reference weights."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def affine_relu_fwd(x_ptr, w_ptr, b_ptr, out_ptr, n_rows, n_cols, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.arange(0, BLOCK_C)
    mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
    offs = rows[:, None] * n_cols + cols[None, :]
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    w = tl.load(w_ptr + cols, mask=cols < n_cols, other=0.0)
    b = tl.load(b_ptr + cols, mask=cols < n_cols, other=0.0)
    tl.store(out_ptr + offs, tl.maximum(x * w[None, :] + b[None, :], 0.0), mask=mask)


@triton.jit
def affine_relu_bwd_x(g_ptr, out_ptr, w_ptr, gx_ptr, n, n_cols, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    g = tl.load(g_ptr + offs, mask=mask, other=0.0)
    y = tl.load(out_ptr + offs, mask=mask, other=0.0)
    w = tl.load(w_ptr + offs % n_cols, mask=mask, other=0.0)
    tl.store(gx_ptr + offs, tl.where(y > 0, g * w, 0.0), mask=mask)


class AffineRelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        x = x.contiguous()
        out = torch.empty_like(x)
        rows, cols = x.shape
        affine_relu_fwd[(triton.cdiv(rows, 8),)](x, w, b, out, rows, cols, BLOCK_R=8, BLOCK_C=triton.next_power_of_2(cols))
        ctx.save_for_backward(out, w)
        return out

    @staticmethod
    def backward(ctx, grad):
        out, w = ctx.saved_tensors
        grad = grad.contiguous()
        gx = torch.empty_like(grad)
        n = grad.numel()
        affine_relu_bwd_x[(triton.cdiv(n, 256),)](grad, out, w, gx, n, out.shape[1], BLOCK=256)
        return gx, None, None


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return AffineRelu.apply(x, self.weight, self.bias)
