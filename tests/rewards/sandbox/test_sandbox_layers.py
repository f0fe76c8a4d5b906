"""Sandbox layers that do not need the whole engine: the report channel, seccomp, cgroups, cleanup."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rewards.harness import channel
from rewards.sandbox import cgroups, isolation

REPO = Path(__file__).resolve().parents[3]


def test_channel_round_trip_and_limits() -> None:
    r, w = os.pipe()
    channel.send(w, {"event": "trial", "launches": 2}, channel.encode_payload({"outputs": [torch.arange(4)], "n": 3}))
    head, payload = channel.recv(r, 1 << 20)
    assert head == {"event": "trial", "launches": 2}
    got = channel.decode_payload(payload)
    assert torch.equal(got["outputs"][0], torch.arange(4)) and got["n"] == 3
    channel.send(w, {"big": True}, b"x" * 2048)
    with pytest.raises(channel.ChannelError, match="too large"):
        channel.recv(r, 1024)
    os.close(w)
    os.close(r)


def test_channel_payload_cannot_run_code() -> None:
    import pickle

    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, ("true",))

    with pytest.raises(Exception):  # noqa: B017 - any refusal; weights_only must not call os.system
        channel.decode_payload(pickle.dumps(Evil()))


def test_channel_eof_is_an_error() -> None:
    r, w = os.pipe()
    os.close(w)
    with pytest.raises(channel.ChannelError):
        channel.recv(r, 10)
    os.close(r)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the filter is x86_64-only")
def test_seccomp_refuses_sockets_namespaces_and_exec() -> None:
    code = r"""
import ctypes, os, socket, sys
from rewards.sandbox import seccomp
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(38, 1, 0, 0, 0)
assert seccomp.install(allow_exec=False)
out = []
try:
    socket.socket(); out.append("socket-ok")
except OSError: out.append("socket-denied")
out.append("unshare-denied" if libc.unshare(0x10000000) != 0 else "unshare-ok")
out.append("exec-denied" if os.system("true") != 0 else "exec-ok")
import torch
out.append("torch-ok" if float(torch.ones(3).sum()) == 3.0 else "torch-bad")
print(",".join(out))
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.stdout.strip() == "socket-denied,unshare-denied,exec-denied,torch-ok", p.stderr[-2000:]


def test_rmtree_handles_deep_and_hostile_trees(tmp_path: Path) -> None:
    root = tmp_path / "t"
    d = root
    d.mkdir()
    fd = os.open(d, os.O_RDONLY)
    for _ in range(3000):  # deeper than Python's recursion limit
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)
    (root / "link").symlink_to("/etc")
    locked = root / "locked"
    locked.mkdir()
    (locked / "f").write_text("x")
    locked.chmod(0)
    isolation.rmtree(str(root))
    assert not root.exists()
    assert Path("/etc/hostname").exists() or Path("/etc").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="cgroups need root")
def test_cgroup_caps_the_whole_process_tree() -> None:
    cg = cgroups.Cgroups(f"tritonforge-test-{os.getpid()}")
    if not cg.available:
        pytest.skip("no writable memory cgroup here")
    try:
        dirs = cg.create("cap", 128 << 20, 64)
        pid = os.fork()
        if pid == 0:
            cgroups.join(dirs)
            kids = []
            for _ in range(4):  # 4 x 64 MiB: each under any per-process cap, together over 128 MiB
                k = os.fork()
                if k == 0:
                    blob = bytearray(64 << 20)
                    for i in range(0, len(blob), 4096):
                        blob[i] = 1
                    import time

                    time.sleep(5)
                    os._exit(0)
                kids.append(k)
            codes = [os.waitpid(k, 0)[1] for k in kids]
            os._exit(1 if any(os.WIFSIGNALED(c) for c in codes) else 0)
        _, status = os.waitpid(pid, 0)
        # The OOM killer picks the largest process of the group: a child (the parent exits 1) or the
        # parent itself, a fork of this test process (SIGKILL). Either way the tree, not one process, was capped.
        assert os.waitstatus_to_exitcode(status) in (1, -9), "no process was stopped by the tree-wide memory cap"
        assert cgroups.oom_killed(dirs)
        cgroups.destroy(dirs)
        assert not any(os.path.exists(d) for d in dirs)
    finally:
        cg.close()
