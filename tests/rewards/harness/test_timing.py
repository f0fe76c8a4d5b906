"""The per-GPU timing lock (no GPU needed): serialises holders, and opens for a second, unprivileged user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rewards.harness.timing import gpu_lock


def test_lock_is_exclusive_and_released(tmp_path):
    with gpu_lock(str(tmp_path), 0) as first:
        assert first
        with gpu_lock(str(tmp_path), 0, wait_s=0.2) as second:
            assert not second  # held: the second taker times out instead of blocking forever
    with gpu_lock(str(tmp_path), 0, wait_s=0.2) as again:
        assert again


def test_planted_symlink_is_not_followed(tmp_path):
    target = tmp_path / "victim"
    target.write_text("x")
    (tmp_path / "gpu0.lock").symlink_to(target)
    with gpu_lock(str(tmp_path), 0, wait_s=0.1) as ok:
        assert not ok


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as user nobody")
def test_lock_created_by_root_opens_for_nobody():
    tmp_path = tempfile.mkdtemp(prefix="tf-lock-")  # pytest's tmp_path sits under a root-only dir
    os.chmod(tmp_path, 0o1777)  # like the engine's lock dir
    with gpu_lock(str(tmp_path), 0):
        pass  # root creates gpu0.lock
    code = ("import os, sys; from rewards.harness.timing import gpu_lock; os.setgid(65534); os.setuid(65534)\n"
            f"with gpu_lock({str(tmp_path)!r}, 0, wait_s=1) as ok: sys.exit(0 if ok else 1)")
    repo = str(Path(__file__).resolve().parents[3])
    p = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": repo}, capture_output=True, text=True)
    shutil.rmtree(tmp_path)
    assert p.returncode == 0, p.stderr
