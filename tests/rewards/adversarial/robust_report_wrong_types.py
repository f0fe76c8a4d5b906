# ruff: noqa
"""Writes a result.json whose fields have the wrong JSON types (`launches` a number instead of a list),
then exits at import. The engine iterating `launches` must not crash on it: this must end as this
candidate's failure, not an infra_error for every candidate still in flight."""
import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = torch.os
_fd = _os.open("result.json", _os.O_WRONLY | _os.O_CREAT | _os.O_TRUNC, 0o644)
_os.write(_fd, b'{"status": "ran", "launches": 5, "cand_ms": "fast", "timing_method": {"a": 1}}')
_os.close(_fd)
_os._exit(0)


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
