"""What a sandboxed candidate could leave behind on the host, and how to look for it (and clean it up).

Used by the adversarial suite (test_adversarial.py) and the host-snapshot test (test_sandbox_host.py).
Everything here runs in the trusted test process: it reads /proc, /run/lock & co., talks to libc
directly for SysV/POSIX IPC, and serves unix sockets that no candidate may reach.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import stat
import subprocess
import threading
from pathlib import Path

NOBODY = 65534
# Host directories a candidate (user nobody) could write to if the sandbox does not cover them.
WATCHED_DIRS = ("/run/lock", "/var/lock", "/var/tmp", "/dev/shm", "/dev/mqueue", "/tmp")
SYSV_KINDS = ("shm", "msg", "sem")

_libc = ctypes.CDLL(None, use_errno=True)


# --------------------------------------------------------------------------------------------- files
def remove_path(p: str | Path) -> None:
    """Remove a file, FIFO, socket, symlink or directory tree (no error when absent)."""
    p = str(p)
    try:
        st = os.lstat(p)
    except OSError:
        return
    if stat.S_ISDIR(st.st_mode):
        # `rm -rf` copes with trees deeper than Python's recursion limit (shutil.rmtree does not)
        if subprocess.run(["rm", "-rf", "--", p], check=False).returncode != 0:
            shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            os.unlink(p)
        except OSError:
            pass


def dir_entries(dirs: tuple[str, ...] = WATCHED_DIRS) -> set[tuple[str, int]]:
    """(path, owner uid) of the top-level entries of the watched dirs (symlinked dirs resolved once)."""
    out: set[tuple[str, int]] = set()
    for d in sorted({os.path.realpath(d) for d in dirs if os.path.isdir(d)}):
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        out.add((e.path, e.stat(follow_symlinks=False).st_uid))
                    except OSError:
                        continue
        except OSError:
            continue
    return out


# --------------------------------------------------------------------------------------------- SysV IPC
def sysv_objects() -> set[tuple[str, int, int]]:
    """(kind, key, owner uid) of every SysV shm segment, message queue and semaphore set (/proc/sysvipc)."""
    out: set[tuple[str, int, int]] = set()
    for kind in SYSV_KINDS:
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        header = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[0].split()
        uid_col = header.index("uid") if "uid" in header else None
        for line in lines:
            cols = line.split()
            if not cols:
                continue
            uid = int(cols[uid_col]) if uid_col is not None and uid_col < len(cols) else -1
            out.add((kind, int(cols[0]), uid))
    return out


def sysv_present(keys: list[int]) -> list[int]:
    have = {k for _, k, _ in sysv_objects()}
    return [k for k in keys if k in have]


def sysv_remove(keys: list[int]) -> None:
    """IPC_RMID every SysV object with one of these keys."""
    for key in keys:
        k = ctypes.c_int(key if key < 2**31 else key - 2**32)
        i = _libc.shmget(k, 0, 0)
        if i >= 0:
            _libc.shmctl(i, 0, None)
        i = _libc.msgget(k, 0)
        if i >= 0:
            _libc.msgctl(i, 0, None)
        i = _libc.semget(k, 0, 0)
        if i >= 0:
            _libc.semctl(i, 0, 0)


# --------------------------------------------------------------------------------------------- POSIX mq
def mq_present(names: list[str]) -> list[str]:
    found = []
    for name in names:
        fd = _libc.mq_open(name.encode(), os.O_RDONLY)
        if fd >= 0:
            _libc.mq_close(fd)
            found.append(name)
    return found


def mq_remove(names: list[str]) -> None:
    for name in names:
        _libc.mq_unlink(name.encode())


def mq_names() -> set[str]:
    """Queues visible in /dev/mqueue where it is mounted (empty set otherwise)."""
    try:
        return {"/" + n for n in os.listdir("/dev/mqueue")}
    except OSError:
        return set()


# --------------------------------------------------------------------------------------------- sockets
def unix_listeners() -> set[str]:
    """Names of listening unix sockets in the host's network namespace ('@name' for abstract ones)."""
    out: set[str] = set()
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        cols = line.split()
        if len(cols) >= 8 and int(cols[3], 16) & 0x10000:  # __SO_ACCEPTCON: listening
            out.add(cols[7])
    return out


class UnixListener:
    """Serves a path socket and/or an abstract unix socket; counts connections (none may arrive)."""

    def __init__(self, path: str | None, abstract: str | None) -> None:
        self.hits = 0
        self.path = path
        self.socks: list[socket.socket] = []
        for addr in (path, "\0" + abstract if abstract else None):
            if not addr:
                continue
            if addr == path:
                if not os.path.isdir(os.path.dirname(path)):
                    continue
                remove_path(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(addr)
            if addr == path:
                os.chmod(path, 0o777)  # the point is the namespace, not file permissions
            s.listen(16)
            s.settimeout(0.2)
            self.socks.append(s)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._serve, args=(s,), daemon=True) for s in self.socks]
        for t in self.threads:
            t.start()

    def _serve(self, s: socket.socket) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = s.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=2)
        for s in self.socks:
            s.close()
        if self.path:
            remove_path(self.path)


# --------------------------------------------------------------------------------------------- processes
def processes_with(marker: str) -> list[int]:
    """PIDs whose command line mentions `marker` (psutil-free /proc scan), this process excluded."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if marker.encode() in (d / "cmdline").read_bytes():
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


# --------------------------------------------------------------------------------------------- snapshots
def snapshot(marker: str = "tf_v2_marker") -> dict[str, set]:
    """Everything above, in one comparable dict."""
    return {
        "files": dir_entries(),
        "sysv": sysv_objects(),
        "mqueue": mq_names(),
        "unix_listen": unix_listeners(),
        "procs": set(processes_with(marker)),
    }


def new_effects(before: dict[str, set], after: dict[str, set], owner: int = NOBODY, tag: str = "tf_") -> dict[str, list]:
    """What appeared between two snapshots and plausibly came from a candidate: owned by the sandbox user,
    or named with the suites' tag (other processes on a shared machine come and go too)."""
    out: dict[str, list] = {}
    for k in after:
        added = after[k] - before.get(k, set())
        if k == "files":
            added = {e for e in added if e[1] == owner or tag in os.path.basename(e[0])}
        elif k == "sysv":
            added = {e for e in added if e[2] == owner}
        elif k in ("mqueue", "unix_listen"):
            added = {e for e in added if tag in e}
        if added:
            out[k] = sorted(added, key=str)
    return out
