"""Process isolation applied inside a freshly forked child, before it loads untrusted code.

Each step is best-effort and reports whether it took effect, so a result can say which protections were
active (the set depends on the privileges the engine was started with):

- always: own session / process group (the whole group is killed on timeout), stdout/stderr redirected to
  files in the private dir (the protocol channel is never writable by the candidate), every other fd
  closed, scrubbed environment, private cwd and TRITON_CACHE_DIR, rlimits (address space, CPU seconds,
  file size, open files, no core dumps), parent-death signal.
- as root: new network, mount, PID, IPC and UTS namespaces; every place user nobody could write (/tmp,
  /var/tmp, /dev/shm, /run and whatever `host_writable_dirs` finds) shows a private folder of ONE tmpfs with
  a size and inode cap (`Scratch`), so writes vanish with the candidate, no host socket or lock file there
  is reachable, and every route into those places (Python's open, numpy's tofile, torch.save's C++ writer,
  os.write) shares one budget that the supervisor reads back after the candidate exits; its own /proc (other processes are
  invisible; when the candidate's init process dies the kernel kills every process it left): those mounts are
  `rewards.sandbox.private_mounts`; then user `nobody` with RLIMIT_NPROC. The memory/process cap over the whole tree is a cgroup (`rewards.sandbox.cgroups`),
  and the last layer a seccomp filter (`rewards.sandbox.seccomp`).
- not root: an unprivileged user+network namespace where the kernel allows it; otherwise no network
  isolation (reported as such).

Not covered (README, "What the sandbox protects against"): kernel or GPU-driver exploits (this is not a VM);
without root, the candidate keeps the user's file access and can see and signal the user's processes;
world-readable files stay readable; on GPU there is no device-memory cap, and a wedged device affects
every candidate on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import signal
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
NOBODY = 65534

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


@dataclass
class Limits:
    memory_mb: int
    cpu_time_s: int
    max_file_mb: int
    max_procs: int


def tree_usage(dir_fd: int, stop_after_inodes: int) -> tuple[int, int]:
    """(bytes allocated, entries) below an open directory, without following links; stops counting once
    more than `stop_after_inodes` entries were seen (a hostile tree is not worth walking to the end).
    Iterative and fd-relative, like `rmtree`: no recursion limit at any depth."""
    import stat

    total_bytes, entries = 0, 0
    stack = [os.dup(dir_fd)]
    try:
        while stack and entries <= stop_after_inodes:
            fd = stack.pop()
            try:
                with os.scandir(fd) as it:
                    for e in it:
                        try:
                            st = e.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        entries += 1
                        total_bytes += st.st_blocks * 512
                        if entries > stop_after_inodes:
                            break
                        if stat.S_ISDIR(st.st_mode):
                            try:
                                stack.append(os.open(e.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd))
                            except OSError:
                                pass
            except OSError:
                pass
            finally:
                os.close(fd)
    finally:
        for fd in stack:
            os.close(fd)
    return total_bytes, entries


def set_parent_death_signal() -> None:
    """Die with SIGKILL when the process that forked us dies (no orphaned candidates)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def redirect_stdio(out_path: str, err_path: str) -> None:
    """Point fds 0/1/2 at private files: a candidate printing fake verdicts only writes its own log."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for fd, path in ((1, out_path), (2, err_path)):
        f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, fd)
        os.close(f)


def close_fds(keep: tuple[int, ...] = ()) -> None:
    """Close every inherited fd except stdio and `keep` (the engine's pipes must not leak in)."""
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def scrub_env(workdir: str, interpret: bool) -> None:
    """Replace the environment: no tokens, keys or proxies from the trainer's environment leak in."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "CUDA_HOME") if k in os.environ}
    os.environ.clear()
    os.environ.update(keep)
    os.environ.update({
        "HOME": workdir,
        "TMPDIR": workdir,
        "TRITON_CACHE_DIR": os.path.join(workdir, ".triton"),
        "TRITON_HOME": workdir,
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    })
    if interpret:
        os.environ["TRITON_INTERPRET"] = "1"


def host_writable_dirs(roots: tuple[str, ...] = ("/var", "/home", "/srv", "/opt", "/mnt", "/media", "/etc", "/usr/local"),
                       max_depth: int = 4) -> list[str]:
    """Directories below `roots` that user nobody could write (world-writable or owned by nobody).

    Scanned once per engine (a few hundred ms); the candidate then sees a private tmpfs over each."""
    import stat

    found: list[str] = []
    stack = [(r, 0) for r in roots if os.path.isdir(r) and not os.path.islink(r)]
    while stack:
        d, depth = stack.pop()
        try:
            st = os.lstat(d)
            if stat.S_ISDIR(st.st_mode) and (st.st_mode & 0o002 or st.st_uid == NOBODY):
                found.append(d)
                continue
            if depth >= max_depth:
                continue
            with os.scandir(d) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append((e.path, depth + 1))
        except OSError:
            continue
    return sorted(found)


def rmtree(path: str) -> None:
    """Remove a tree a candidate may have built: iterative and fd-relative (no recursion or path-length
    limit at any depth), one descriptor open at a time, never follows symlinks, never raises (leftovers of
    a hostile tree are not worth crashing the engine over)."""
    import stat

    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    names: list[str] = []
    failed: set[tuple[int, str]] = set()
    while True:
        child = None
        try:
            os.fchmod(fd, 0o700)
        except OSError:
            pass
        try:
            with os.scandir(fd) as it:
                for e in it:
                    try:
                        is_dir = stat.S_ISDIR(e.stat(follow_symlinks=False).st_mode)
                    except OSError:
                        is_dir = False
                    if is_dir and (len(names), e.name) not in failed:
                        child = e.name
                        break
                    if not is_dir:
                        try:
                            os.unlink(e.name, dir_fd=fd)
                        except OSError:
                            pass
        except OSError:
            pass
        if child is not None:
            try:
                nfd = os.open(child, flags, dir_fd=fd)
            except OSError:
                failed.add((len(names), child))
                continue
            os.close(fd)
            fd = nfd
            names.append(child)
            continue
        if not names:
            os.close(fd)
            try:
                os.rmdir(path)
            except OSError:
                pass
            return
        try:
            parent = os.open("..", flags, dir_fd=fd)
        except OSError:
            os.close(fd)
            return
        os.close(fd)
        fd = parent
        name = names.pop()
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:
            failed.add((len(names), name))


def apply_limits(lim: Limits, drop_to_nobody: bool, cgroup_capped: bool = False) -> list[str]:
    """rlimits, then (as root) become nobody. Returns the protections applied."""
    got = []

    def _set(res: int, value: int) -> None:
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            soft, hard = resource.getrlimit(res)
            if hard != resource.RLIM_INFINITY:
                resource.setrlimit(res, (min(value, hard), hard))

    # Address space grows from what is already mapped (torch + triton are imported in the zygote).
    vm_kb = 0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    vm_kb = int(line.split()[1])
    except OSError:
        pass
    if os.environ.get("TRITON_INTERPRET") == "1" or not os.path.exists("/dev/nvidiactl"):
        # RLIMIT_AS breaks the CUDA driver's large virtual reservations; on GPU the memory cap is the GPU's.
        _set(resource.RLIMIT_AS, vm_kb * 1024 + lim.memory_mb * 1024 * 1024)
        got.append("rlimit_as")
    if cgroup_capped:
        got.append("cgroup")
    _set(resource.RLIMIT_CPU, lim.cpu_time_s)
    _set(resource.RLIMIT_FSIZE, lim.max_file_mb * 1024 * 1024)
    _set(resource.RLIMIT_NOFILE, 256)
    _set(resource.RLIMIT_CORE, 0)
    got += ["rlimit_cpu", "rlimit_fsize", "rlimit_nofile"]
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if drop_to_nobody and os.geteuid() == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            _set(resource.RLIMIT_NPROC, lim.max_procs)
            got += ["uid_nobody", "rlimit_nproc"]
        except OSError:
            pass
    elif os.geteuid() != 0:
        _set(resource.RLIMIT_NPROC, lim.max_procs + _count_own_processes())
        got.append("rlimit_nproc")
    return got


def _count_own_processes() -> int:
    """RLIMIT_NPROC counts every process of the uid, so a non-root cap must sit above what already runs."""
    uid = os.getuid()
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n
