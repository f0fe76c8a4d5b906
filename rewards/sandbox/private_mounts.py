"""The candidate's private view of the filesystem, made in new namespaces as root: `enter_namespaces` unshares
the mount, PID, IPC, UTS (and network) namespaces, covers every place user nobody could write with a folder of
ONE capped tmpfs (`Scratch`, whose filesystem counters tell afterwards what the candidate wrote through any
route), binds back what the sandboxed Python must keep reading, and `mount_private_proc` gives the new PID
namespace its own /proc.

Apart from `rewards.sandbox.isolation` (rlimits, fds, environment, the drop to nobody, removing trees) because
this is the one step that builds a mount namespace: the libc `unshare`/`mount` calls and the layout they make.
Which host directories need covering beyond `PRIVATE_DIRS` is scanned once per engine
(`rewards.sandbox.isolation.host_writable_dirs`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
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

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

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


def _unshare(flags: int) -> bool:
    return _libc.unshare(ctypes.c_int(flags)) == 0


def _mount(src: str, target: str, fstype: str, flags: int, data: str = "") -> bool:
    return (
        _libc.mount(src.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                    data.encode() if data else None)
        == 0
    )



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


def mount_private_proc() -> bool:
    """Inside a new PID namespace: a /proc that shows only the sandbox's own processes."""
    return _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
