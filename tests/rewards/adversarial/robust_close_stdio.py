# ruff: noqa
"""Closes its stdin/stdout/stderr at import and replaces its log files with a directory and a FIFO, then
returns a wrong answer (a plain copy). The harness must still produce a verdict (mismatch)."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = typing.sys.modules["os"]
for _fd in (0, 1, 2):
    _os.close(_fd)
for _name in ("stdout.txt", "stderr.txt"):
    try:
        _os.unlink(_name)
    except OSError:
        pass
_os.mkdir("stdout.txt")
_os.mkfifo("stderr.txt")


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
