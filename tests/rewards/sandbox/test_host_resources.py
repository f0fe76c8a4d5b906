"""Host resources a candidate may use: what it writes (one capped tmpfs for every private place, read back
after it exits) and its processes (all gone when its verdict is reported).

The mount and cgroup tests need root (the engine only builds namespaces and cgroups as root); the rest runs
anywhere.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from rewards.sandbox import cgroups, isolation, private_mounts
from rewards.sandbox.supervisor import scratch_verdict

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
ADV = HERE / "adversarial"
TASKS = HERE / "tasks"
ROOT = os.geteuid() == 0


# --------------------------------------------------------------------------------------------- helpers
def _in_child(fn, timeout_s: float = 60.0) -> dict:  # type: ignore[no-untyped-def]
    """Run `fn()` in a forked child (it may unshare namespaces and mount) and return its JSON-able result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = {"ok": True, "result": fn()}
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    chunks = []
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        b = os.read(r, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    out = json.loads(b"".join(chunks) or b'{"ok": false, "error": "no answer"}')
    assert out["ok"], out.get("error")
    return out["result"]


def _fill(path: str, mib: int) -> int:
    """MiB written to `path` with os.write before the first error."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    done = 0
    try:
        for _ in range(mib):
            os.write(fd, bytes(1 << 20))
            done += 1
    except OSError:
        pass
    finally:
        os.close(fd)
    return done


# --------------------------------------------------------------------------------------------- the cap
def test_scratch_verdict_is_a_violation_only_over_the_cap() -> None:
    s = private_mounts.Scratch.from_mb(8)
    assert s.cap_inodes == 8 * private_mounts.INODES_PER_MB
    assert scratch_verdict(8 << 20, s.cap_inodes, s) is None
    over_bytes = scratch_verdict((8 << 20) + 1, 1, s)
    over_inodes = scratch_verdict(0, s.cap_inodes + 1, s)
    for v in (over_bytes, over_inodes):
        assert v is not None and v["status"] == "sandbox_violation" and "8 MiB" in v["log"]


def test_tree_usage_counts_entries_and_stops_early(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "big").write_bytes(b"x" * (1 << 20))
    for i in range(20):
        (tmp_path / "a" / f"f{i}").write_bytes(b"")
    os.symlink("/etc", tmp_path / "link")  # counted, never followed
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        used, entries = isolation.tree_usage(fd, 1000)
        assert entries == 1 + 1 + 20 + 1 and used >= 1 << 20
        _, few = isolation.tree_usage(fd, 5)
        assert 5 < few < entries
    finally:
        os.close(fd)


@pytest.mark.skipif(not ROOT, reason="mount namespaces need root")
def test_private_places_share_one_capped_tmpfs() -> None:
    """Every private place is a folder of one tmpfs: writing the cap into /tmp leaves no room in /var/tmp or
    /dev/shm (separate mounts granted the cap again each), inodes run out at the cap, and `written()` sees
    every byte and inode whichever route and place they took."""

    def probe() -> dict:
        scratch = private_mounts.Scratch.from_mb(4)
        got = private_mounts.enter_namespaces(False, scratch=scratch)
        res: dict = {"covered": [g for g in got if g.startswith("tmpfs:")]}
        res["tmp_mib"] = _fill("/tmp/tf_fill", 4)
        res["var_tmp_mib"] = _fill("/var/tmp/tf_fill", 4)
        res["dev_shm_mib"] = _fill("/dev/shm/tf_fill", 4)
        res["written_after_fill"] = scratch.written()
        files = 0
        try:
            for i in range(100_000):
                os.close(os.open(f"/run/tf_inode_{i}", os.O_CREAT | os.O_WRONLY, 0o600))
                files += 1
        except OSError:
            pass
        res["files"] = files
        res["written"] = scratch.written()
        res["cap"] = [scratch.cap_bytes, scratch.cap_inodes]
        # what the sandbox keeps visible under /tmp (a checkout or interpreter that lives there) aside
        kept = {p.split("/")[2] for p in private_mounts._needed_paths() if p.startswith("/tmp/") and p.count("/") >= 2}
        res["tmp_listing"] = sorted(set(os.listdir("/tmp")) - kept)
        return res

    res = _in_child(probe)
    assert {"tmpfs:/tmp", "tmpfs:/var/tmp", "tmpfs:/dev/shm", "tmpfs:/run"} <= set(res["covered"]), res
    cap_bytes, cap_inodes = res["cap"]
    assert res["tmp_mib"] == 4 and res["var_tmp_mib"] + res["dev_shm_mib"] <= 1, res  # 1 MiB of slack, shared
    assert res["written_after_fill"][0] > cap_bytes, res
    assert cap_inodes < res["files"] <= cap_inodes + 64, res
    assert res["written"][1] > cap_inodes, res
    assert res["tmp_listing"] == ["tf_fill"], res  # /tmp shows its own folder, not the others


# --------------------------------------------------------------------------------------------- processes
def _alive_in(tag: str) -> list[str]:
    """Processes (not yet exited) in any cgroup whose path contains `tag`."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cg = (d / "cgroup").read_text()
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if tag in cg and state not in ("Z", "X"):
            out.append(f"{d.name} {state}")
    return out


@pytest.mark.skipif(not ROOT, reason="cgroups need root")
def test_destroy_returns_once_every_process_has_exited() -> None:
    """A killed process leaves cgroup.procs at once but tears its memory down afterwards: destroy must wait
    for that too, or whoever reports next reports over a process still running."""
    cg = cgroups.Cgroups(f"tritonforge-test-{os.getpid()}")
    if not cg.available:
        pytest.skip("no writable memory cgroup here")
    r, w = os.pipe()
    pid = -1
    try:
        dirs = cg.create("slow-exit", 8 << 30, 16)
        pid = os.fork()
        if pid == 0:
            os.close(r)
            cgroups.join(dirs)
            import mmap

            m = mmap.mmap(-1, 3 << 30)  # ~0.3 s to tear down on this machine
            for i in range(0, len(m), 4096):
                m[i] = 1
            os.write(w, b"x")
            time.sleep(600)
            os._exit(0)
        os.close(w)
        assert os.read(r, 1) == b"x"
        assert cgroups.destroy(dirs)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state == "Z", f"destroy returned while the process was still exiting (state {state})"
        assert not any(os.path.exists(d) for d in dirs)
    finally:
        os.close(r)
        if pid > 0:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)
        cg.close()


@pytest.mark.slow
@pytest.mark.skipif(not ROOT, reason="the candidate's cgroup exists only when the engine runs as root")
def test_no_candidate_process_is_alive_when_the_timeout_verdict_arrives() -> None:
    from rewards import Engine, VerifyConfig

    cand = (ADV / "res_timeout_sleep_c.py").read_text().replace("HOLD_MB = 512", "HOLD_MB = 3072")
    cfg = VerifyConfig(device="cpu", trials=1, timeout_s=6, workers=1, memory_mb=6144)
    with Engine(cfg) as eng:
        res = eng.verify((TASKS / "relu.py").read_text(), cand)
        left = _alive_in(f"tritonforge-{eng.info['pid']}/")
        assert res.status.value == "timeout", res.log
        assert not left, f"candidate processes still running after the timeout verdict: {left}"


@pytest.mark.slow
def test_honest_interpreter_run_writes_under_one_mib() -> None:
    """What an honest candidate writes on the interpreter (logs included) fits in 1 MiB and 32 inodes, so the
    default cap (128 MiB) is no false rejection there; on CUDA Triton's cache needs ~0.6 MB and ~9 inodes per
    compiled kernel."""
    from rewards import VerifyConfig, verify

    ref = (TASKS / "softmax.py").read_text()
    good = (HERE / "candidates" / "softmax_ok.py").read_text()
    res = verify(ref, good, VerifyConfig(device="cpu", trials=2, timeout_s=60, workers=1, scratch_mb=1))
    assert res.status.value == "ok", res.log


@pytest.mark.skipif(not ROOT, reason="mount namespaces need root")
def test_paths_the_interpreter_needs_stay_visible_under_the_shared_tmpfs(tmp_path: Path) -> None:
    """A venv or checkout living under a covered place (here a folder under /tmp) is bound back in place;
    the rest of the host's /tmp is hidden."""
    import tempfile

    keep = tempfile.mkdtemp(prefix="tf_keep_", dir="/tmp")
    Path(keep, "module.py").write_text("X = 1\n")
    host_entries = set(os.listdir("/tmp"))

    def probe() -> dict:
        assert private_mounts._unshare(private_mounts.CLONE_NEWNS)
        private_mounts._mount("none", "/", "", private_mounts.MS_REC | private_mounts.MS_PRIVATE)
        scratch = private_mounts.Scratch.from_mb(2)
        covered = private_mounts._shared_private_tmpfs(["/tmp", "/var/tmp"], [keep], scratch)
        return {"covered": covered, "listing": sorted(os.listdir("/tmp")), "module": Path(keep, "module.py").read_text(),
                "written": scratch.written()}

    try:
        res = _in_child(probe)
    finally:
        isolation.rmtree(keep)
    assert res["covered"] == ["/tmp", "/var/tmp"], res
    assert res["listing"] == [os.path.basename(keep)] and len(host_entries) > 1, res
    assert res["module"] == "X = 1\n" and res["written"] == [0, 0], res
