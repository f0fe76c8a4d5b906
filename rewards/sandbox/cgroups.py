"""Per-candidate control groups: one memory cap and one process cap over the candidate's whole tree.

RLIMIT_AS caps each process separately, so a candidate that spreads over many processes could hold many
times the cap. A cgroup caps them together (and counts the tmpfs pages they write). Works with cgroup v2
(a delegated subtree of the engine's own cgroup) and with v1 `memory` + `pids` hierarchies; where neither
is writable (not root, no cgroupfs) `Cgroups.available` is False and the rlimits remain the only caps.
"""

from __future__ import annotations

import os
import signal
import time

ROOT = "/sys/fs/cgroup"


def _own_path(controller: str | None) -> str | None:
    """This process's cgroup path in the hierarchy of `controller` (None = the v2 unified one)."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if (controller is None and ctrls == "") or (controller and controller in ctrls.split(",")):
                    return path
    except OSError:
        pass
    return None


class Cgroups:
    """The engine's parent cgroup(s); `create(name)` makes a capped child for one candidate."""

    def __init__(self, tag: str) -> None:
        self.parents: dict[str, str] = {}  # kind ("v2" | "memory" | "pids") -> parent dir
        if os.geteuid() != 0:
            return
        v2_root = ROOT if os.path.exists(os.path.join(ROOT, "cgroup.controllers")) else os.path.join(ROOT, "unified")
        own = _own_path(None)
        if own is not None and os.path.exists(os.path.join(v2_root, "cgroup.controllers")):
            base = os.path.join(v2_root, own.lstrip("/"))
            try:
                with open(os.path.join(base, "cgroup.controllers")) as f:
                    ctrls = f.read().split()
            except OSError:
                ctrls = []
            if "memory" in ctrls and "pids" in ctrls and self._mk(os.path.join(base, tag)):
                try:
                    with open(os.path.join(base, tag, "cgroup.subtree_control"), "w") as f:
                        f.write("+memory +pids")
                    self.parents["v2"] = os.path.join(base, tag)
                except OSError:
                    _rmdir(os.path.join(base, tag))
        for ctrl in ("memory", "pids") if "v2" not in self.parents else ():
            own = _own_path(ctrl)
            base = os.path.join(ROOT, ctrl)
            if own is not None and os.path.isdir(base) and self._mk(os.path.join(base, own.lstrip("/"), tag)):
                self.parents[ctrl] = os.path.join(base, own.lstrip("/"), tag)

        self._remove_stale(tag)

    def _remove_stale(self, tag: str) -> None:
        """Cgroups left by engines that died (named after their pid, like ours)."""
        prefix = tag.rsplit("-", 1)[0] + "-"
        for parent in self.parents.values():
            up = os.path.dirname(parent)
            try:
                names = [n for n in os.listdir(up) if n.startswith(prefix) and n != tag]
            except OSError:
                continue
            for n in names:
                pid = n[len(prefix):]
                if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                    d = os.path.join(up, n)
                    try:
                        destroy([os.path.join(d, c) for c in os.listdir(d) if os.path.isdir(os.path.join(d, c))])
                    except OSError:
                        pass
                    _rmdir(d)

    @staticmethod
    def _mk(path: str) -> bool:
        try:
            os.makedirs(path, exist_ok=True)
            return True
        except OSError:
            return False

    @property
    def available(self) -> bool:
        return "v2" in self.parents or "memory" in self.parents

    def create(self, name: str, memory_bytes: int, max_pids: int) -> list[str]:
        """Make the child cgroup(s); returns their directories (empty when unavailable)."""
        dirs = []
        writes = {"v2": [("memory.max", memory_bytes), ("memory.swap.max", 0), ("pids.max", max_pids)],
                  "memory": [("memory.limit_in_bytes", memory_bytes)],
                  "pids": [("pids.max", max_pids)]}
        for kind, parent in self.parents.items():
            d = os.path.join(parent, name)
            if not self._mk(d):
                continue
            for fname, value in writes[kind]:
                try:
                    with open(os.path.join(d, fname), "w") as f:
                        f.write(str(value))
                except OSError:
                    pass
            dirs.append(d)
        return dirs

    def close(self) -> None:
        for parent in self.parents.values():
            try:
                for child in os.listdir(parent):
                    if os.path.isdir(os.path.join(parent, child)):
                        destroy([os.path.join(parent, child)])
            except OSError:
                pass
            _rmdir(parent)


def join(dirs: list[str]) -> bool:
    """Move the calling process into each cgroup (before it drops privileges)."""
    ok = bool(dirs)
    for d in dirs:
        try:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            ok = False
    return ok


def oom_killed(dirs: list[str]) -> bool:
    """Whether the memory cap killed something in this candidate's cgroup."""
    for d in dirs:
        for fname, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
            try:
                with open(os.path.join(d, fname)) as f:
                    for line in f:
                        k, _, v = line.partition(" ")
                        if k == key and int(v or 0) > 0:
                            return True
            except (OSError, ValueError):
                pass
        try:
            with open(os.path.join(d, "memory.failcnt")) as f:
                if int(f.read().strip() or 0) > 0:
                    return True
        except (OSError, ValueError):
            pass
    return False


def destroy(dirs: list[str], wait_s: float = 10.0) -> bool:
    """Kill whatever is in the cgroup(s), wait until every process there has finished exiting, then remove
    them. Returns whether all were removed within `wait_s`.

    Waiting for the directory to go, not for `cgroup.procs` to read empty: a killed process leaves that
    list as soon as it starts exiting, while it may still be tearing down gigabytes of memory or its mount
    namespace; the kernel refuses to remove a cgroup until its last task has passed that point. So when
    this returns True, no process of the candidate is alive (a verdict reported after it is final)."""
    end = time.monotonic() + wait_s
    gone = True
    for d in dirs:
        while True:
            _kill_members(d)
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > end:
                    gone = False
                    break
                time.sleep(0.005)
    return gone


def _kill_members(d: str) -> None:
    """SIGKILL every process of one cgroup (`cgroup.kill` where the kernel has it: atomic, forks included)."""
    try:
        with open(os.path.join(d, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError:
        pass
    try:
        with open(os.path.join(d, "cgroup.procs")) as f:
            pids = [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def _rmdir(d: str) -> None:
    for _ in range(20):
        try:
            os.rmdir(d)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
