# ruff: noqa
"""Host resources: prints 200 MiB to its stdout in __init__ (the log file lives outside its private tmpfs),
stops quietly when the file may grow no more, then solves relu honestly."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask, other=0.0), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        line = "tf_v4_res_stdout " * 61680  # ~1 MiB
        for _ in range(200):
            try:
                print(line, flush=True)
            except OSError:
                break

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
