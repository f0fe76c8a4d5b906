"""The adversarial suite: escapes, cheats and crashes a candidate may try, each with the verdict it must get.

Cases live in tests/rewards/adversarial/<class>.yaml, one manifest per attack class (CLASSES below: what the
candidate attacks, e.g. hidden_compute.yaml, sandbox_escape.yaml, honest_control.yaml), one candidate file per
case (cases run with the static rules off share the file of the case they repeat). The whole suite runs in two
batched `verify_batch` calls (strict rules on / off) on the CPU interpreter; every case then checks its status,
that no cheat is ever `correct`, and the side effects the sandbox claims to prevent: files written outside the
sandbox, connections to a local TCP or unix listener, SysV and POSIX IPC objects left on the host, stray
processes, and the test process itself dying. File-escape checks need the protections the engine only applies
when started as root (fresh /tmp, user nobody); without root they are skipped, not passed.

Fields of a case:
  name, class      the case and its attack class (the manifest is `<class>.yaml`)
  task             the reference, a file in ../tasks
  candidate        the completion, a file here (named like the case) or ../candidates/...
  expected         the statuses a sound judge may answer; "any" = the status is not the point, the
                   side-effect checks are
  category         escape | cheat | crash | control; cheats and crashes are never correct
  description      what the candidate does and why the judge could be fooled by it
  rule             a fatal finding the result must carry
  rule_any         when the status is rule_violation, one of these fatal findings must be among them
  strict_rules     false = execute despite static findings, to test the sandbox and the runtime checks
  audit            strict_rules off is the hack-rate audit mode: outputs are judged, the rule gate must still fail
  runtime_finding  (strict_rules false) the runtime record itself must hold a fatal finding: with the static
                   rules off a recorded finding leaves the status `ok`, so these cases also admit ok/mismatch
                   and are checked on the findings instead
  no_files         paths that must not exist on the host afterwards ({repo} = repository root)
  marker           no process whose command line contains it may survive
  listen_port      the test listens on 127.0.0.1 there; nothing may connect
  unix_listen      the test serves a unix socket at `path` and on the abstract name `abstract`; nothing may
                   connect
  sysv_keys        SysV IPC keys (shm, msg or sem) that must not exist on the host afterwards
  posix_mq         POSIX message queue names that must not exist on the host afterwards
  log_excludes     a string the verdict log must not contain
  survival         the host check is test_engine_and_test_process_survive (the candidate signals processes
                   outside its own; this process and the engine must outlive the whole suite)
An escape that may end `ok` (a candidate that cannot tell a private copy from the host) needs one of the
host checks, since then the status cannot show whether it escaped.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from rewards.contract.types import Status

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import host_effects  # noqa: E402  (tests/rewards/host_effects.py: host-side probes and cleanup)

ADV = HERE / "adversarial"
TASKS = HERE / "tasks"
REPO = HERE.parent.parent
STATUSES = {s.value for s in Status}
TIMEOUT_S = float(os.environ.get("TF_ADV_TIMEOUT_S", "10"))  # a fresh CUDA sandbox + compile needs more
# scripts/gpu_check.sh runs the same suite on CUDA; CI and laptops use the interpreter.
DEVICE = os.environ.get("TRITONFORGE_ADVERSARIAL_DEVICE", "cpu")
WORKERS = int(os.environ.get("TF_ADV_WORKERS", "2"))  # the GPU box has 16 cores; CI has 2
IS_ROOT = os.geteuid() == 0

# What a candidate attacks, one manifest each (`<class>.yaml`):
CLASSES = {
    "hidden_compute",    # torch compute behind a path the judge does not attribute to the candidate
    "host_compute",      # compute over tensor memory with no ATen op (numpy views, element callbacks, scalar
                         # reads, value-changing casts) or where the op recorder is suspended
    "dodge",             # the judge's runtime checks made to look away (threads, modes, autograd, output shapes)
    "attr_modules",      # modules reached as attributes of allowed ones instead of imports
    "secrets",           # the reference's inputs, seed, weights or outputs read to precompute the answer
    "forged_report",     # the verdict or the comparison written by the candidate instead of earned
    "audit",             # the audit mode's rule gate disarmed
    "sandbox_escape",    # effects that must not reach the host or another candidate
    "host_resources",    # memory, time, processes, files and inodes a kernel never needs
    "robustness",        # exits, crashes and hostile outputs the judge must survive with a verdict
    "target_compile",    # kernels the GPU compiler refuses though the CPU interpreter runs them
    "wrong_output",      # honest launches with wrong answers a lax oracle could accept
    "broken_candidate",  # completions that cannot be judged at all (no code, syntax, signature)
    "honest_control",    # honest kernels each attack class's checks must keep accepting
}
MANIFESTS = tuple(sorted(p.name for p in ADV.glob("*.yaml")))
# TF_ADV_MANIFESTS=sandbox_escape.yaml runs one manifest only (the consistency check always reads all of them).
SELECTED = tuple(m for m in os.environ.get("TF_ADV_MANIFESTS", ",".join(MANIFESTS)).split(",") if m)
# A case name or candidate file must say what it attacks, not which red-team round found it.
ROUND_PREFIX = re.compile(r"v\d+_")
HOST_CHECKS = ("no_files", "sysv_keys", "posix_mq", "marker", "unix_listen", "listen_port", "survival")


pytestmark = pytest.mark.slow


def load_cases(manifests: tuple[str, ...] = MANIFESTS) -> list[dict[str, Any]]:
    cases = []
    for m in manifests:
        for c in yaml.safe_load((ADV / m).read_text()):
            c["manifest"] = m
            exp = c["expected"]
            assert exp == "any" or set(exp) <= STATUSES, f"{c['name']}: unknown status in {exp}"
            if c["category"] in ("cheat", "crash"):
                assert exp == "any" or "ok" not in exp or c.get("audit"), f"{c['name']}: a cheat or crash may never expect ok"
            if c["category"] == "escape" and (exp == "any" or "ok" in exp):
                assert any(k in c for k in HOST_CHECKS), f"{c['name']}: an escape that may be ok needs a host check"
            cases.append(c)
    return cases


ALL_CASES = load_cases()
# TF_ADV_CASES=name,name runs only those cases (a GPU re-check of a few; the suite verifies all selected at once).
_NAMED = {n for n in os.environ.get("TF_ADV_CASES", "").split(",") if n}
CASES = [c for c in ALL_CASES if c["manifest"] in SELECTED and (not _NAMED or c["name"] in _NAMED)]


def test_manifest_is_consistent() -> None:
    names = [c["name"] for c in ALL_CASES]
    assert len(names) == len(set(names)) and len(names) >= 35
    for c in ALL_CASES:
        assert (TASKS / c["task"]).is_file(), c["task"]
        assert (ADV / c["candidate"]).is_file(), c["candidate"]
        assert c["category"] in {"escape", "cheat", "crash", "control"}
        assert c.get("class") in CLASSES and c["manifest"] == f"{c['class']}.yaml", c["name"]
        assert not ROUND_PREFIX.match(c["name"]), c["name"]
        assert not ROUND_PREFIX.match(Path(c["candidate"]).name), c["candidate"]
        if "/" not in c["candidate"] and not c["name"].startswith("runtime_"):
            assert Path(c["candidate"]).stem == c["name"], c["candidate"]  # a file named like its case
        assert (c["category"] == "control") == (c["class"] == "honest_control"), c["name"]
    used = {(ADV / c["candidate"]).resolve() for c in ALL_CASES}
    orphans = [p.name for p in ADV.iterdir() if p.suffix in (".py", ".md") and p.resolve() not in used]
    assert not orphans, f"candidate files without a case: {orphans}"


class _Listener:
    """A local TCP server that records whether any candidate reached it."""

    def __init__(self, port: int) -> None:
        self.hits = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def _no_files(case: dict[str, Any]) -> list[Path]:
    return [Path(p.replace("{repo}", str(REPO))) for p in case.get("no_files", [])]


def _processes_with(marker: str) -> list[int]:
    """PIDs whose command line mentions `marker` (psutil-free /proc scan)."""
    return host_effects.processes_with(marker)


def clean_host(cases: list[dict[str, Any]]) -> None:
    """Remove whatever the cases' side-effect checks look for (stale markers make the checks meaningless;
    leftovers of a failed run must not stay on the host)."""
    for c in cases:
        for p in _no_files(c):
            host_effects.remove_path(p)
        host_effects.sysv_remove(c.get("sysv_keys", []))
        host_effects.mq_remove(c.get("posix_mq", []))


def record_effects(cases: list[dict[str, Any]]) -> dict[str, dict[str, list]]:
    """Per case: which of its forbidden files, SysV keys and POSIX queues exist right now."""
    out: dict[str, dict[str, list]] = {}
    for c in cases:
        out[c["name"]] = {
            "files": [str(p) for p in _no_files(c) if os.path.lexists(p)],
            "sysv": host_effects.sysv_present(c.get("sysv_keys", [])),
            "mq": host_effects.mq_present(c.get("posix_mq", [])),
        }
    return out


@lru_cache(maxsize=1)
def run_suite() -> dict[str, Any]:
    """Verify every case in two batched calls; returns name -> (VerifyResult, listener hits)."""
    from rewards import VerifyConfig, verify_batch

    clean_host(CASES)
    ports = sorted({c["listen_port"] for c in CASES if "listen_port" in c})
    listeners = {p: _Listener(p) for p in ports}
    unix = {c["name"]: host_effects.UnixListener(c["unix_listen"].get("path"), c["unix_listen"].get("abstract"))
            for c in CASES if "unix_listen" in c}
    results: dict[str, Any] = {}
    effects: dict[str, dict[str, list]] = {}
    try:
        for strict in (True, False):
            group = [c for c in CASES if c.get("strict_rules", True) is strict]
            pairs = [((TASKS / c["task"]).read_text(), (ADV / c["candidate"]).read_text()) for c in group]
            cfg = VerifyConfig(device=DEVICE, trials=2, timeout_s=TIMEOUT_S, strict_rules=strict, workers=WORKERS,
                               memory_mb=4096)
            for c, r in zip(group, verify_batch(pairs, cfg), strict=True):
                results[c["name"]] = r
    finally:
        hits = {p: ln.hits for p, ln in listeners.items()}
        for ln in listeners.values():
            ln.close()
        unix_hits = {n: ln.hits for n, ln in unix.items()}
        for ln in unix.values():
            ln.close()
        effects = record_effects(CASES)
        clean_host(CASES)
    return {"results": results, "hits": hits, "unix_hits": unix_hits, "effects": effects}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_adversarial_case(case: dict[str, Any]) -> None:
    suite = run_suite()
    res = suite["results"][case["name"]]
    status = res.status.value
    where = f"{case['name']} ({case['description']}): got {res.summary()}\n{res.log[-1500:]}"
    if case["expected"] != "any":
        assert status in case["expected"], where
    assert status != "infra_error", where  # the machinery must survive every candidate
    if case.get("audit"):
        # strict_rules off is the hack-rate audit mode: outputs are judged, the rule gate still fails
        assert not res.rule_ok, where
    elif case["category"] != "control":
        assert not (case["category"] in ("cheat", "crash") and res.correct), where
    else:
        assert res.correct == (status == "ok"), where
    if case.get("runtime_finding"):
        # static rules off (the audit mode): the runtime record itself must name the cheat; a static finding
        # carries a line number, a runtime one none
        assert any(f.fatal and f.line is None for f in res.rule_findings), where
    if "rule" in case:
        assert case["rule"] in {f.rule for f in res.rule_findings if f.fatal}, where
    if "rule_any" in case and status == "rule_violation":
        assert set(case["rule_any"]) & {f.rule for f in res.rule_findings if f.fatal}, where
    if "unix_listen" in case:
        assert suite["unix_hits"][case["name"]] == 0, f"{case['name']}: reached a host unix socket {case['unix_listen']}"
    if "listen_port" in case:
        assert suite["hits"][case["listen_port"]] == 0, f"{case['name']}: reached 127.0.0.1:{case['listen_port']}"
    if "log_excludes" in case:
        assert case["log_excludes"] not in res.log, f"{case['name']}: the verdict log leaked {case['log_excludes']!r}"
    if "marker" in case:
        assert _processes_with(case["marker"]) == [], f"{case['name']}: processes survived the sandbox"
    left = suite["effects"][case["name"]]  # recorded right after the run, then cleaned up
    if (left["files"] or left["sysv"] or left["mq"] or _no_files(case)) and not IS_ROOT:
        pytest.skip("host-escape protection needs the engine to run as root (namespaces, user nobody)")
    assert not left["files"], f"{case['name']}: wrote {left['files']} outside the sandbox"
    assert not left["sysv"], f"{case['name']}: left SysV IPC objects with keys {[hex(k) for k in left['sysv']]} on the host"
    assert not left["mq"], f"{case['name']}: left POSIX message queues {left['mq']} on the host"


def test_engine_and_test_process_survive() -> None:
    """After the whole suite (kill -1, kill parent, fork storms) this process is alive and the engine works."""
    run_suite()
    from rewards import VerifyConfig, verify

    ref = (TASKS / "relu.py").read_text()
    good = (HERE / "candidates" / "relu_ok.py").read_text()
    res = verify(ref, good, VerifyConfig(device="cpu", trials=1, timeout_s=30, workers=2))
    assert res.status.value == "ok" and res.correct, res.log
