# ruff: noqa
"""Sends SIGKILL to its own process group, to every process it can see (kill -1) and to its parent from
forward (through a helper object), then returns a wrong answer (the input, unrectified). Must end as this candidate's failure only
(mismatch or crashed), never an infra_error for it or anyone else."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = typing.sys.modules["os"]


class _Killer:
    def __call__(self):
        for kill in (lambda: _os.killpg(0, 9), lambda: _os.kill(-1, 9), lambda: _os.kill(_os.getppid(), 9)):
            try:
                kill()
            except OSError:
                pass


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.kill_all = _Killer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, BLOCK=256)
        self.kill_all()
        return out
