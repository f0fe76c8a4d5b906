# ruff: noqa
# Honest: affine+relu per half of the rows (two launches), halves joined with torch.cat; a scalar
# parameter read with .item() and shapes read with int(); weight and bias stay in their own tensors.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def affine_relu_kernel(x_ptr, w_ptr, b_ptr, out_ptr, n_rows, n_cols, scale, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    m = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=m, other=0.0)
    w = tl.load(w_ptr + cols, mask=cols < n_cols, other=0.0)
    b = tl.load(b_ptr + cols, mask=cols < n_cols, other=0.0)
    tl.store(out_ptr + row * n_cols + cols, tl.maximum((x * w + b) * scale, 0.0), mask=m)


class ModelNew(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))
        self.register_buffer("scale", torch.ones(()))

    def _half(self, x, scale):
        rows, cols = int(x.shape[0]), int(x.shape[1])
        out = torch.empty_like(x)
        affine_relu_kernel[(rows,)](x, self.weight, self.bias, out, rows, cols, scale,
                                    BLOCK=triton.next_power_of_2(cols))
        return out

    def forward(self, x):
        x = x.contiguous()
        scale = float(self.scale.item())
        half = int(x.shape[0]) // 2
        top = self._half(x[:half].contiguous(), scale)
        bottom = self._half(x[half:].contiguous(), scale)
        return torch.cat([top, bottom], dim=0)
