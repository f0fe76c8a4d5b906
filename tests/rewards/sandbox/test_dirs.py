"""Which sandbox directories a new engine sweeps away: those of dead engines only, never a live one's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rewards.sandbox.dirs import BASE_PREFIX, process_start_time, remove_stale_sandboxes


def _sandbox(parent: Path, name: str, pid_text: str) -> Path:
    d = parent / (BASE_PREFIX + name)
    d.mkdir()
    (d / "zygote.pid").write_text(pid_text)
    return d


def test_a_dead_engines_sandbox_goes_and_a_live_ones_stays(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_start = process_start_time(dead.pid)
    dead.wait()
    me = os.getpid()
    live = _sandbox(tmp_path, "live", f"{me} {process_start_time(me)}")
    gone = _sandbox(tmp_path, "dead", f"{dead.pid} {dead_start}")
    reused = _sandbox(tmp_path, "reused", f"{me} 1")  # our pid, another process's start time: pid reuse
    legacy = _sandbox(tmp_path, "pid_only", f"{me}")  # no start time: a live pid is kept
    remove_stale_sandboxes(str(tmp_path))
    assert live.exists() and legacy.exists()
    assert not gone.exists() and not reused.exists()


def test_a_sandbox_still_being_set_up_is_left_alone(tmp_path: Path) -> None:
    fresh = tmp_path / (BASE_PREFIX + "starting")
    fresh.mkdir()  # no zygote.pid yet, modified just now
    remove_stale_sandboxes(str(tmp_path))
    assert fresh.exists()
