"""One mixed batch of hostile and honest red-team (v2) candidates, with the host checked before and after.

The batch runs through `rewards.verify_batch` with strict rules off, so every hostile candidate really
executes: sandbox gaps (host-writable dirs, SysV/POSIX IPC, unix sockets, a channel between two
candidates, user namespaces, daemons, memory spread over processes), robustness attacks (deep trees,
uncomparable outputs, closed stdio, kills) and secret/report forgeries, next to honest controls. Asserts:
(a) every honest candidate is `ok`, (b) no hostile one is `correct` (they are built to be correct exactly
when their attack works; the few that cannot tell a private tmpfs or IPC namespace from the host may be
`ok` and are judged by the host checks), nothing is an `infra_error`, and (c) nothing new is left on the host: SysV shm/
msg/sem, entries in /run/lock, /var/lock, /var/tmp, /dev/shm, /dev/mqueue and /tmp owned by the sandbox
user or tagged tf_, POSIX queues, listening unix sockets, processes carrying a case marker, and sandbox
dirs the engine failed to remove (its TMPDIR is a fresh directory the test inspects). Needs root
(the engine only applies namespaces and user nobody when started as root).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
sys.path.insert(0, str(HERE))
import host_effects  # noqa: E402

ADV = HERE / "adversarial"
TASKS = HERE / "tasks"
HOSTILE_CLASSES = {"sandbox", "robustness", "secrets", "forged_report", "hidden_compute", "audit", "attr_modules", "dodge"}

pytestmark = pytest.mark.slow


def _batch_cases() -> list[dict[str, Any]]:
    cases = [c for m in ("cases_v2.yaml", "cases_v3.yaml") for c in yaml.safe_load((ADV / m).read_text())]
    picked = [c for c in cases if c["class"] == "control"
              or ((c["class"] in HOSTILE_CLASSES or c["category"] == "escape") and not c.get("audit"))]
    # Hostile and honest interleaved (one group per task, so siblings share a reference process), with the
    # channel writer kept right before its reader.
    hostile = [c for c in picked if c["class"] != "control"]
    honest = [c for c in picked if c["class"] == "control"]
    out: list[dict[str, Any]] = []
    while hostile or honest:
        if hostile:
            out.append(hostile.pop(0))
            if out[-1]["name"] == "v2_sbx_channel_writer" and hostile and hostile[0]["name"] == "v2_sbx_channel_reader":
                out.append(hostile.pop(0))
        if honest:
            out.append(honest.pop(0))
    return out


def _all_keys(cases: list[dict[str, Any]]) -> tuple[list[int], list[str], list[str]]:
    keys = [k for c in cases for k in c.get("sysv_keys", [])]
    mqs = [q for c in cases for q in c.get("posix_mq", [])]
    files = [p for c in cases for p in c.get("no_files", [])]
    return keys, mqs, files


def _cleanup(cases: list[dict[str, Any]]) -> None:
    keys, mqs, files = _all_keys(cases)
    for p in files:
        host_effects.remove_path(p)
    host_effects.sysv_remove(keys)
    host_effects.mq_remove(mqs)


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's host protections need the engine to run as root")
def test_mixed_batch_leaves_host_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    from rewards import Engine, VerifyConfig

    # The engine's sandbox dirs go under a TMPDIR of our own, so what its cleanup leaves behind is visible.
    workdir = tempfile.mkdtemp(prefix="tf_v2_hostcheck_")
    os.chmod(workdir, 0o755)
    monkeypatch.setenv("TMPDIR", workdir)
    monkeypatch.setenv("TRITONFORGE_SANDBOX_DIR", workdir)

    cases = _batch_cases()
    names = [c["name"] for c in cases]
    assert len(names) >= 20 and any(c["class"] == "control" for c in cases)
    _cleanup(cases)
    listeners = [host_effects.UnixListener(c["unix_listen"].get("path"), c["unix_listen"].get("abstract"))
                 for c in cases if "unix_listen" in c]
    before = host_effects.snapshot()
    cfg = VerifyConfig(device="cpu", trials=2, timeout_s=10.0, strict_rules=False, workers=2, memory_mb=4096)
    pairs = [((TASKS / c["task"]).read_text(), (ADV / c["candidate"]).read_text()) for c in cases]
    try:
        with Engine(cfg) as eng:  # its own engine: closed (zygote and sandbox dirs gone) before the snapshot
            results = eng.verify_many(pairs)
        time.sleep(1.0)  # let killed process trees be reaped
        after = host_effects.snapshot()
        hits = sum(ln.hits for ln in listeners)
        leftover = sorted(os.listdir(workdir))
    finally:
        for ln in listeners:
            ln.close()
        _cleanup(cases)
        host_effects.remove_path(workdir)
    problems = []
    for c, r in zip(cases, results, strict=True):
        got = f"{c['name']}: {r.summary()} | {r.log[-300:]!r}"
        if r.status.value == "infra_error":
            problems.append("infra_error (one candidate hurt the machinery) - " + got)
        elif c["class"] == "control":
            if not (r.status.value == "ok" and r.correct and r.rule_ok):
                problems.append("honest candidate not ok (or a fatal rule finding) - " + got)
        elif r.correct and r.rule_ok and "ok" not in c["expected"]:
            # static rules are off in this batch (audit mode): a hostile candidate may still run and match,
            # but then the runtime record must fail its rule gate
            problems.append("hostile candidate passed the gate (its attack worked) - " + got)
    effects = host_effects.new_effects(before, after)
    assert not problems, "\n".join(problems)
    assert hits == 0, f"candidates reached the host's unix listeners {hits} times"
    assert not effects, f"left on the host by the batch: {effects}"
    assert not leftover, f"the engine left its sandbox dirs behind after close(): {leftover}"
