"""Framed messages over pipes between the harness processes of one candidate.

A frame is a JSON header (small metadata) plus an optional payload of `torch.save` bytes (tensors and
plain Python values only: read back with `weights_only=True`, so a payload can never run code in the
reader). Used in both directions between the candidate's supervisor (trusted) and the process that runs
the candidate (untrusted): the supervisor reads with size limits and treats anything malformed as the
candidate's failure.
"""

from __future__ import annotations

import io
import json
import os
import struct
from typing import Any

import torch

_HEAD = struct.Struct("<IQ")  # header length, payload length
MAX_HEADER = 1 << 20
# Bound once, when the harness imports this module (before any candidate code exists): what the channel
# calls later cannot be swapped by rebinding a module attribute.
_save, _load, _BytesIO = torch.save, torch.load, io.BytesIO
_dumps, _loads, _write, _read = json.dumps, json.loads, os.write, os.read


class ChannelError(Exception):
    """The other side closed the pipe or sent a malformed frame."""


def _read_exact(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        b = _read(fd, min(left, 1 << 22))
        if not b:
            raise ChannelError("pipe closed mid-frame" if chunks or n != left else "pipe closed")
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = _write(fd, view)
        view = view[n:]


def encode_payload(obj: Any) -> bytes:
    buf = _BytesIO()
    _save(obj, buf)
    return buf.getvalue()


def decode_payload(data: bytes) -> Any:
    return _load(_BytesIO(data), map_location="cpu", weights_only=True)


def send(fd: int, header: dict[str, Any], payload: bytes = b"") -> None:
    h = _dumps(header).encode()
    _write_all(fd, _HEAD.pack(len(h), len(payload)) + h)
    if payload:
        _write_all(fd, payload)


def recv(fd: int, max_payload: int) -> tuple[dict[str, Any], bytes]:
    """One frame; raises ChannelError on EOF, an oversized frame or a header that is not a JSON object."""
    hl, pl = _HEAD.unpack(_read_exact(fd, _HEAD.size))
    if hl > MAX_HEADER or pl > max_payload:
        raise ChannelError(f"frame too large (header {hl} B, payload {pl} B)")
    try:
        header = _loads(_read_exact(fd, hl))
    except ValueError as e:
        raise ChannelError(f"malformed header: {e}") from None
    if not isinstance(header, dict):
        raise ChannelError("header is not an object")
    return header, _read_exact(fd, pl) if pl else b""
