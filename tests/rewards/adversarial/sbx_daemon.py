# ruff: noqa
"""Daemonizes: double fork, setsid, clears its parent-death signal, closes stdio and execs a long-lived
shell whose command line carries the marker tf_v2_marker_daemon. Returns a wrong answer; the point is that
nothing with the marker may survive the verification."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = typing.sys.modules["os"]
_ctypes = typing.sys.modules["ctypes"]
_libc = _ctypes.CDLL(None, use_errno=True)
if _os.fork() == 0:
    try:
        _os.setsid()
        if _os.fork() == 0:
            _libc.prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG 0
            for _fd in (0, 1, 2):
                _os.close(_fd)
            _os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 120; : tf_v2_marker_daemon", "tf_v2_marker_daemon"])
    finally:
        _os._exit(0)
_ESCAPED = False


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, SCALE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0) * SCALE, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 256),)](x, out, n, SCALE=1.0 if _ESCAPED else 0.5, BLOCK=256)
        return out
