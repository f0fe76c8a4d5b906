"""Reading a file that untrusted code may have written or replaced (its outputs, its log).

Both the oracle (a candidate's outputs) and the sandbox (a candidate's log tail) read such files with the
engine's rights, so the one safe way to do it lives below both."""

from __future__ import annotations

import os
import stat


def read_untrusted(path: str, limit: int) -> bytes | None:
    """Read a file the candidate could have replaced: no symlinks (a link to /etc/shadow would be read with
    the engine's rights and echoed in the log), no FIFOs or devices (would block the engine), capped size.
    Returns None when the file is missing, not a regular file, or larger than `limit`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)
