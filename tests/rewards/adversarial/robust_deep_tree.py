# ruff: noqa
"""Builds a directory chain 1500 levels deep in its working directory (through dir fds, so its cwd stays
put) and returns a wrong answer (a plain copy). Whoever cleans the sandbox dir must cope: a recursive
Python rmtree raises RecursionError, which ignore_errors does not swallow."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = typing.sys.modules["os"]
_fd = _os.open(".", _os.O_RDONLY)
for _i in range(1500):
    _os.mkdir("d", dir_fd=_fd)
    _nfd = _os.open("d", _os.O_RDONLY, dir_fd=_fd)
    _os.close(_fd)
    _fd = _nfd
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
