# ruff: noqa
"""Litters its working directory with 5000 empty files spread over 50 subdirectories (names near the
255-byte limit), then returns a wrong answer (a plain copy). Cleanup must not stall the engine."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = typing.sys.modules["os"]
_long = "f" * 240
for _d in range(50):
    _dn = f"d{_d:03d}"
    _os.mkdir(_dn)
    for _i in range(100):
        _fd = _os.open(f"{_dn}/{_long}{_i:05d}", _os.O_WRONLY | _os.O_CREAT, 0o644)
        _os.close(_fd)


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        copy_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        return out
