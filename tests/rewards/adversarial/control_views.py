# ruff: noqa
"""Honest: row sums computed on a transposed, made-contiguous copy (column-major walk), with the result
reshaped and viewed back; only allocation/view plumbing around the launch."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def colsum_kernel(xt_ptr, out_ptr, n_rows_t, n_cols_t, BLOCK: tl.constexpr):
    col = tl.program_id(0)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for r0 in range(0, n_rows_t, BLOCK):
        rows = r0 + tl.arange(0, BLOCK)
        acc += tl.load(xt_ptr + rows * n_cols_t + col, mask=rows < n_rows_t, other=0.0)
    tl.store(out_ptr + col, tl.sum(acc, axis=0))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xt = x.t().contiguous()  # (cols, rows): summing x's rows = summing xt's columns
        flat = torch.empty(x.shape[0], 1, dtype=x.dtype, device=x.device)
        colsum_kernel[(xt.shape[1],)](xt, flat.view(-1), xt.shape[0], xt.shape[1], BLOCK=32)
        return flat.reshape(-1).view(x.shape[0])
