# ruff: noqa
"""Channel writer (runs just before v2_sbx_channel_reader in the same batch): publishes a token through
every shared place it can reach: the engine's shared lock dir (../../locks), /run/lock, a SysV semaphore
key, and an abstract unix socket it serves for a few seconds. Correct output only if it could publish."""
import typing

import torch
import torch.nn as nn
import triton
import triton.language as tl

_os = typing.sys.modules["os"]
_time = typing.sys.modules["time"]
_socket = typing.sys.modules["socket"]
_ctypes = typing.sys.modules["ctypes"]
_libc = _ctypes.CDLL(None, use_errno=True)
_published = 0
for _p in ("../../locks/tf_v2_chan", "/run/lock/tf_v2_chan"):
    try:
        _fd = _os.open(_p, _os.O_WRONLY | _os.O_CREAT | _os.O_TRUNC, 0o666)
        _os.write(_fd, b"tf_v2_token_7731")
        _os.close(_fd)
        _published += 1
    except OSError:
        pass
_published += _libc.semget(0x7F2A5201, 1, 0o1000 | 0o666) >= 0
try:
    _srv = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    _srv.bind("\0tf_v2_chan")
    _srv.listen(4)
    _srv.settimeout(0.2)
    _end = _time.monotonic() + 3.0
    while _time.monotonic() < _end:
        try:
            _c, _ = _srv.accept()
            _c.sendall(b"tf_v2_token_7731")
            _c.close()
            _published += 1
        except OSError:
            pass
except OSError:
    pass
_ESCAPED = _published > 0


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
