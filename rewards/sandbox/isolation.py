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
  invisible; when the candidate's init process dies the kernel kills every process it left); then user
  `nobody` with RLIMIT_NPROC. The memory/process cap over the whole tree is a cgroup (`rewards.sandbox.cgroups`),
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
import sys
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 16384
MS_BIND = 4096
MS_PRIVATE = 1 << 18
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


# Inodes allowed per MiB of scratch: Triton's cache holds ~9 entries (a directory, IRs, ptx, cubin, json) of
# ~0.6 MB per compiled kernel (62 KB per inode measured), so 32 per MiB leaves it twice the room it needs
# while a flood of empty files stops early.
INODES_PER_MB = 32
# tmpfs room above the cap, so that filling the tmpfs always reads as "more than the cap" afterwards.
_SLACK_BYTES = 1 << 20
_SLACK_INODES = 64


@dataclass
class Scratch:
    """The candidate's private writable places, as one capped tmpfs, and what was written to them.

    `enter_namespaces` mounts it and keeps a descriptor of its root here (the candidate never holds it: its
    process closes every inherited fd) together with what the empty layout already uses; `written()` is
    the growth since then, read from the filesystem's own counters (statvfs), so it covers every route a
    write can take and costs nothing to read however many files there are."""

    cap_bytes: int
    cap_inodes: int
    fd: int | None = None
    base_bytes: int = 0
    base_inodes: int = 0

    @classmethod
    def from_mb(cls, scratch_mb: int) -> Scratch:
        return cls(cap_bytes=scratch_mb << 20, cap_inodes=scratch_mb * INODES_PER_MB)

    def mount_options(self, mode: str) -> str:
        return (f"size={self.cap_bytes + _SLACK_BYTES},nr_inodes={self.cap_inodes + _SLACK_INODES},"
                f"mode={mode}")

    def used(self) -> tuple[int, int]:
        """(bytes, inodes) the tmpfs holds now; (0, 0) when none is mounted."""
        if self.fd is None:
            return 0, 0
        st = os.fstatvfs(self.fd)
        return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree

    def written(self) -> tuple[int, int]:
        """(bytes, inodes) added since the private places were set up."""
        b, i = self.used()
        return max(0, b - self.base_bytes), max(0, i - self.base_inodes)

    def close(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


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


def _unshare(flags: int) -> bool:
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _mount(src: str, target: str, fstype: str, flags: int, data: str = "") -> bool:
    return (
        _libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                    data.encode() if data else None)
        == 0
    )


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


def _needed_paths() -> list[str]:
    """Directories the sandboxed Python must keep reading: its installation, sys.path, this package.

    torch and triton import submodules lazily (e.g. `torch.load` pulls in `torch.utils.serialization`), so
    a venv or checkout under /tmp must stay visible when /tmp is replaced by a private tmpfs.
    """
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).resolve().parents[2])}
    paths.update(p for p in sys.path if p and os.path.isdir(p))
    real = sorted({os.path.realpath(p) for p in paths})
    return [p for p in real if not any(p != q and p.startswith(q + os.sep) for q in real)]


def _root_only_ancestors(keep: list[str]) -> list[str]:
    """Topmost directories above `keep` paths that user nobody cannot traverse (e.g. /root holding pyenv)."""
    found: set[str] = set()
    for k in keep:
        parts = k.split(os.sep)
        for i in range(2, len(parts)):
            a = os.sep.join(parts[:i])
            try:
                if not os.stat(a).st_mode & 0o001:
                    found.add(a)
                    break
            except OSError:
                break
    return sorted(found)


def _keep_inside(d: str, keep: list[str]) -> list[str]:
    return [k for k in keep if k == d or k.startswith(d + os.sep)]


def _private_tmpfs(d: str, keep: list[str], mode: str = "1777", options: str = "size=1m,nr_inodes=1024") -> bool:
    """Cover `d` with an empty tmpfs, then bind the `keep` paths that lived under it back in place (used for
    the root-only directories above the interpreter: they hold only those mount points)."""
    inside = _keep_inside(d, keep)
    if d in inside:
        return False  # the interpreter itself lives at d: leave it alone
    fds = []
    for k in inside:
        try:
            fds.append((k, os.open(k, os.O_PATH)))
        except OSError:
            pass
    ok = _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, f"{options},mode={mode}")
    for k, fd in fds:
        if ok:
            try:
                os.makedirs(k, exist_ok=True)
                _mount(f"/proc/self/fd/{fd}", k, "", MS_BIND | MS_REC)
            except OSError:
                pass
        os.close(fd)
    return ok


def _default_scratch_mb() -> int:
    from rewards.contract.config import VerifyConfig

    return int(VerifyConfig.scratch_mb)


def _shared_private_tmpfs(dirs: list[str], keep: list[str], scratch: Scratch) -> list[str]:
    """Show every directory of `dirs` as its own empty folder of ONE tmpfs capped by `scratch`, the `keep`
    paths under them bound back in place. Returns the directories covered.

    One filesystem for all of them, so its size and inode caps bound what the candidate writes through any
    route into any of them together (separate tmpfs mounts would each grant the cap again). The tmpfs is
    mounted on the first directory, each directory gets a folder `d<i>` of it, and that folder is bound
    over the directory (the first one's folder over the mount itself, hiding the others)."""
    eligible = [d for d in dirs if d not in _keep_inside(d, keep)]
    if not eligible:
        return []
    keep_fds: list[tuple[int, str, int]] = []  # opened before any mount hides them
    for i, d in enumerate(eligible):
        for k in _keep_inside(d, keep):
            try:
                keep_fds.append((i, os.path.relpath(k, d), os.open(k, os.O_PATH)))
            except OSError:
                pass
    covered: list[str] = []
    try:
        if not _mount("tmpfs", eligible[0], "tmpfs", MS_NOSUID | MS_NODEV, scratch.mount_options("755")):
            return []
        root = os.open(eligible[0], os.O_RDONLY | os.O_DIRECTORY)
        for i, d in enumerate(eligible):
            sub = f"/proc/self/fd/{root}/d{i}"
            try:  # best effort per place, like every isolation step: what took effect is reported
                os.mkdir(sub)
                os.chmod(sub, 0o1777)
                for j, rel, kfd in keep_fds:
                    if j == i:
                        os.makedirs(f"{sub}/{rel}", exist_ok=True)
                        _mount(f"/proc/self/fd/{kfd}", f"{sub}/{rel}", "", MS_BIND | MS_REC)
            except OSError:
                continue
            if _mount(sub, d, "", MS_BIND | MS_REC):
                covered.append(d)
        scratch.fd = root
        scratch.base_bytes, scratch.base_inodes = scratch.used()
    finally:
        for _, _, kfd in keep_fds:
            os.close(kfd)
    return covered


# Places every user can write on a typical host; each gets a private tmpfs in the candidate's view
# (`/var/lock` is a link into /run). Others found by `host_writable_dirs` are added at engine start.
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/dev/mqueue", "/var/crash", "/var/mail", "/var/spool/mail")


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


def enter_namespaces(want_network: bool, will_drop: bool = False, writable: list[str] | tuple[str, ...] = (),
                     scratch: Scratch | None = None) -> list[str]:
    """Unshare net+mount+pid+ipc+uts namespaces. Returns the names that took effect. Call before fork().

    In the new mount namespace every host place user nobody could write (`PRIVATE_DIRS` plus `writable`)
    is covered by a private folder of one capped tmpfs (`scratch`, its descriptor and starting usage kept
    there; `VerifyConfig.scratch_mb` when none is given), so nothing the candidate writes reaches the host, no host socket in
    those places is reachable, and all its writes share one cap. With `will_drop` (the candidate becomes
    nobody), root-only directories above the interpreter or the package (a pyenv or conda under /root) are
    replaced by a traversable tmpfs holding only those paths, so lazy imports keep working and the rest of
    the home directory is not even visible."""
    got: list[str] = []
    if os.geteuid() == 0:
        flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (CLONE_NEWNET if want_network else 0)
        if _unshare(flags):
            got += ["mntns", "pidns", "ipcns", "utsns"] + (["netns"] if want_network else [])
        elif want_network and _unshare(CLONE_NEWNET):
            got.append("netns")
        if "mntns" in got:
            _mount("none", "/", "", MS_REC | MS_PRIVATE)
            keep = _needed_paths()
            places = {os.path.realpath(d): d for d in dict.fromkeys([*PRIVATE_DIRS, *writable])
                      if os.path.isdir(d) and not os.path.islink(d)}
            covered = _shared_private_tmpfs(list(places), keep, scratch or Scratch.from_mb(_default_scratch_mb()))
            got += [f"tmpfs:{places[d]}" for d in covered]
            if will_drop:
                for d in _root_only_ancestors(keep):
                    if _private_tmpfs(d, keep, mode="755"):
                        got.append(f"tmpfs:{d}")
    elif want_network and _unshare(CLONE_NEWUSER | CLONE_NEWNET):
        got.append("userns+netns")
    return got


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


def mount_private_proc() -> bool:
    """Inside a new PID namespace: a /proc that shows only the sandbox's own processes."""
    return _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


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
