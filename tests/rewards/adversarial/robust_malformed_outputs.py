# ruff: noqa
"""Writes an outputs.pt that loads fine under weights_only (plain ints, no tensors) and a well-formed
result.json, then exits at import. The judge's `len(outputs)` on an int raises outside its try block,
in the reference process that judges the whole group. Must fail alone, not turn the group into
infra_errors (reward None, i.e. no penalty for anyone)."""
import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = torch.serialization.os
torch.serialization.save({"outputs": 7, "post_inputs": 7}, "outputs.pt")
_fd = _os.open("result.json", _os.O_WRONLY | _os.O_CREAT | _os.O_TRUNC, 0o644)
_os.write(_fd, b'{"status": "ran", "launches": [1, 1, 1], "cand_ms": null}')
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
