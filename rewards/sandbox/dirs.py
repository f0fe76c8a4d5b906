"""The zygote's sandbox directories on disk: where they live, how they are laid out, how they go away.

One base directory per engine (`tritonforge-sbx-*`, under /dev/shm so outputs handed from supervisor to
judge stay in memory), holding the zygote's pid (so a later engine can tell a live sandbox from a dead
one's leftovers), a lock directory only trusted processes can open (the per-GPU timing lock), and one
directory per task group with the reference source and one directory per candidate. Kept apart from the
zygote's process loop so the layout and its permissions are defined in one place.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time

from rewards.contract.untrusted_files import read_untrusted
from rewards.sandbox import isolation

BASE_PREFIX = "tritonforge-sbx-"


def sandbox_parent() -> str:
    """$TRITONFORGE_SANDBOX_DIR, else /dev/shm when writable (outputs never touch a disk), else the tmp dir."""
    return os.environ.get("TRITONFORGE_SANDBOX_DIR") or (
        "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir())


def create_base() -> tuple[str, str]:
    """(base dir, lock dir) of a new engine, after removing what dead engines left behind."""
    parent = sandbox_parent()
    # A $TRITONFORGE_SANDBOX_DIR that does not exist yet is created: without it every candidate was an
    # infra_error ("no result from the sandbox") and nothing said why.
    os.makedirs(parent, exist_ok=True)
    remove_stale_sandboxes(parent)
    base = tempfile.mkdtemp(prefix=BASE_PREFIX, dir=parent)
    os.chmod(base, 0o711)
    with open(os.path.join(base, "zygote.pid"), "w") as f:
        f.write(f"{os.getpid()} {process_start_time(os.getpid())}")
    lock_dir = os.path.join(base, "locks")  # trusted processes only (reference, supervisors)
    os.mkdir(lock_dir, 0o700)
    return base, lock_dir


def new_group_dir(base: str, reference: str) -> str:
    """A task group's directory (traversable, not listable) with its reference source, readable by root only."""
    gdir = os.path.join(base, "g" + secrets.token_hex(8))
    os.mkdir(gdir)
    os.chmod(gdir, 0o711)
    ref_path = os.path.join(gdir, "reference.py")
    with open(ref_path, "w") as f:
        f.write(reference)
    os.chmod(ref_path, 0o600)  # trusted processes only
    return gdir


def new_candidate_dir(gdir: str) -> tuple[str, str]:
    """(unguessable name, path) of a fresh private directory for one candidate inside its group's."""
    name = "c" + secrets.token_hex(8)
    cdir = os.path.join(gdir, name)
    os.mkdir(cdir, 0o700)
    return name, cdir


def open_gpu_lock(lock_dir: str) -> int:
    """The per-GPU lock file, opened for a supervisor (it holds the lock while timing)."""
    return os.open(os.path.join(lock_dir, "gpu0.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)


def remove_file(path: str) -> None:
    """Unlink a candidate's output file; already gone is fine."""
    try:
        os.unlink(path)
    except OSError:
        pass


def tail(path: str, limit: int = 3000) -> str:
    """Last `limit` characters of a candidate's log (files up to 64 MiB; bigger ones are not read)."""
    data = read_untrusted(path, 64 << 20)
    return data[-limit:].decode("utf-8", "replace") if data else ""


def process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22); "" when it is gone.

    A pid plus its start time names one process for good: pids are reused, and a check of the command line
    would tie liveness to a module path."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return ""
    return stat[stat.rindex(b")") + 2:].split()[19].decode()  # fields after the command name, from field 3


def zygote_alive(pid_file: str) -> bool:
    """Is the engine that wrote `pid_file` still running? A file without a start time (or unreadable) is
    read as alive when its pid exists: never remove a live engine's sandbox."""
    with open(pid_file) as f:
        fields = f.read().split()
    pid = int(fields[0])
    started = process_start_time(pid)
    return bool(started) and (len(fields) < 2 or fields[1] == started)


def remove_stale_sandboxes(parent: str) -> None:
    """Sandbox directories (and cgroups) of engines that died without cleaning up."""
    try:
        names = [n for n in os.listdir(parent) if n.startswith(BASE_PREFIX)]
    except OSError:
        return
    for n in names:
        d = os.path.join(parent, n)
        try:
            if time.time() - os.lstat(d).st_mtime < 120 and not os.path.exists(os.path.join(d, "zygote.pid")):
                continue  # another engine is still setting itself up
            if zygote_alive(os.path.join(d, "zygote.pid")):
                continue
        except (OSError, ValueError):
            pass
        isolation.rmtree(d)
