"""The verification engine, client side: static checks here, execution in the sandboxed zygote.

`verify`/`verify_batch` are what every stage calls. Candidates with no code, a syntax error or (in
strict mode) a fatal static finding never reach a process. The rest are grouped by reference (one
reference process per distinct task; a GRPO group shares one) and sent to a long-lived zygote process,
restarted automatically if it dies. A failure of the machinery is an `infra_error` result, never an
exception escaping to the trainer.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rewards.contract.config import VerifyConfig
from rewards.contract.extract import extract_code
from rewards.contract.types import Finding, Status, VerifyResult, failure

_REPO_ROOT = str(Path(__file__).resolve().parents[2])
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tritonforge-zygote-spawner")


def _popen_from_a_lasting_thread(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start the zygote from one thread that lives as long as this process.

    The zygote arms PR_SET_PDEATHSIG (die with its parent: no orphaned sandboxes), and Linux sends that
    signal when the *thread* that forked it exits, not the process. An engine first used from a short-lived
    thread (a Ray actor's call, a trainer's worker thread) had its zygote killed when that thread ended, and
    every later batch paid a fresh zygote start (measured: the Ray executor verified at ~60% of the local
    engine's rate on 2 cores). Forking from this executor's one idle worker keeps the zygote's life tied to
    the process.
    """
    return _SPAWNER.submit(subprocess.Popen, *args, **kwargs).result()


def static_check(completion: str, config: VerifyConfig, reference: str | None = None) -> tuple[str | None, VerifyResult | None, tuple[Finding, ...]]:
    """(code, early verdict or None, findings). An early verdict means: do not execute."""
    from rewards.rules.apply import check_rules

    code = extract_code(completion)
    if code is None:
        return None, failure(Status.NO_CODE, "no python code block found in the completion"), ()
    from rewards.rules.apply import parse_error

    why = parse_error(code)  # also RecursionError/MemoryError/NUL bytes: the candidate's fault, reward 0
    if why is not None:
        return code, failure(Status.SYNTAX_ERROR, why, error_type=why.split(":", 1)[0]), ()
    findings = tuple(check_rules(code, reference))
    if config.strict_rules and any(f.fatal for f in findings):
        msg = "; ".join(f"{f.rule}: {f.message}" for f in findings if f.fatal)
        return code, failure(Status.RULE_VIOLATION, msg, rule_findings=findings), findings
    return code, None, findings


class Engine:
    """A warm sandbox for one device. Thread-safe; reuse it (start-up imports torch once)."""

    def __init__(self, config: VerifyConfig | None = None) -> None:
        self.config = config or VerifyConfig()
        self.device = self.config.resolved_device()
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._seq = 0
        self._stderr_path: str | None = None
        self._buf = b""
        self.infra_errors = 0
        self.info: dict[str, Any] = {}

    # ----------------------------------------------------------------- zygote lifecycle
    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = _REPO_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("OMP_NUM_THREADS", "1")
        if self.device == "cpu":
            env["TRITON_INTERPRET"] = "1"
        elif "LOCAL_RANK" in env:
            # Under accelerate/torchrun each rank verifies on its own GPU, not all ranks on GPU 0.
            visible = [d for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
            rank = int(env["LOCAL_RANK"])
            env["CUDA_VISIBLE_DEVICES"] = visible[rank % len(visible)] if visible else str(rank)
        fd, self._stderr_path = tempfile.mkstemp(prefix="tritonforge-zygote-", suffix=".log")
        proc = _popen_from_a_lasting_thread(
            [sys.executable, "-m", "rewards.sandbox.zygote", self.config.for_sandbox(self.device).to_wire()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fd, env=env, cwd=_REPO_ROOT,
        )
        os.close(fd)
        self._buf = b""
        try:
            self.info = json.loads(self._readline(proc, 300))
        except (RuntimeError, TimeoutError, ValueError) as e:
            _kill(proc)
            raise RuntimeError(f"sandbox zygote failed to start: {e}") from None
        return proc

    def _zygote_log(self) -> str:
        try:
            return Path(self._stderr_path or "").read_text()[-2000:]
        except OSError:
            return ""

    def _readline(self, proc: subprocess.Popen[bytes], stall_s: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buf:
            r, _, _ = select.select([fd], [], [], stall_s)
            if not r:
                raise TimeoutError(f"sandbox zygote silent for {stall_s:.0f}s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise RuntimeError("sandbox zygote exited: " + self._zygote_log())
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(b'{"op": "shutdown"}\n')
                proc.stdin.close()
                proc.wait(timeout=10)
            except Exception:
                _kill(proc)
        if self._stderr_path:
            Path(self._stderr_path).unlink(missing_ok=True)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- verification
    def verify(self, reference: str, completion: str) -> VerifyResult:
        return self.verify_many([(reference, completion)])[0]

    def verify_many(self, pairs: Sequence[tuple[str, str]], progress: Callable[[int, int], None] | None = None,
                    on_result: Callable[[int, VerifyResult], None] | None = None) -> list[VerifyResult]:
        """Verify (reference, completion) pairs in parallel; results in input order. Never raises.

        `on_result(i, result)` sees each final result as soon as it is known (in completion order), so a
        long batch can be journaled as it goes and resumed after a kill without losing finished work."""
        t0 = time.monotonic()
        n = len(pairs)
        results: list[VerifyResult | None] = [None] * n
        findings: dict[int, tuple[Finding, ...]] = {}
        groups: dict[str, list[tuple[int, str]]] = {}

        finals: dict[int, VerifyResult] = {}

        def finish(i: int, r: VerifyResult | None) -> VerifyResult:
            r = r or failure(Status.INFRA_ERROR, "no result from the sandbox")
            extra_f = tuple(f for f in findings.get(i, ()) if f not in r.rule_findings)
            finals[i] = r.with_(rule_findings=r.rule_findings + extra_f, wall_s=r.wall_s if r.wall_s is not None else round(time.monotonic() - t0, 3),
                                device=self.device)
            if on_result:
                on_result(i, finals[i])
            return finals[i]

        for i, (ref, comp) in enumerate(pairs):
            try:
                code, early, fnd = static_check(comp, self.config, ref)
            except Exception as e:  # a bug in our own checks must not stop training
                code, early, fnd = None, failure(Status.INFRA_ERROR, f"static check failed: {type(e).__name__}: {e}"), ()
            findings[i] = fnd
            if early is not None:
                results[i] = early
                finish(i, early)
            else:
                groups.setdefault(ref, []).append((i, code or ""))
        done = sum(r is not None for r in results)
        if progress:
            progress(done, n)
        if groups:
            with self._lock:
                self._run_groups(groups, results, findings, progress, done, n, finish if on_result else None)
        out = []
        for i, r in enumerate(results):
            r = finals.get(i) or finish(i, r)
            if r.status is Status.INFRA_ERROR:
                self.infra_errors += 1
            out.append(r)
        return out

    def _run_groups(self, groups: dict[str, list[tuple[int, str]]], results: list[VerifyResult | None],
                    findings: dict[int, tuple[Finding, ...]], progress: Callable[[int, int], None] | None, done: int, n: int,
                    on_result: Callable[[int, VerifyResult], Any] | None = None) -> None:
        waiting: dict[str, int] = {}
        try:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            assert proc.stdin is not None and proc.stdout is not None
            for ref, items in groups.items():
                self._seq += 1
                gid = f"g{self._seq}"
                seed = self.config.seed if self.config.seed is not None else random.SystemRandom().randrange(1, 2**31 - 1000)
                cands = []
                for j, (i, code) in enumerate(items):
                    cid = f"{gid}-{j}"
                    waiting[cid] = i
                    cands.append({"cid": cid, "code": code})
                msg = {"op": "group", "gid": gid, "reference": ref, "seed": seed, "trials": self.config.trials, "candidates": cands}
                proc.stdin.write((json.dumps(msg) + "\n").encode())
            proc.stdin.flush()
            # Watchdog: a candidate is killed at timeout_s, so silence much longer than that means the
            # machinery itself is stuck; give up on it rather than hang the trainer.
            stall_s = 3 * self.config.timeout_s + self.config.resolved_reference_timeout_s() + 60
            while waiting:
                line = self._readline(proc, stall_s)
                msg = json.loads(line)
                i = waiting.pop(msg["cid"], None)
                if i is None:
                    continue
                d = msg["result"]
                d.setdefault("correct", False)
                d["rule_findings"] = [Finding(**f).to_dict() for f in d.get("rule_findings", [])]
                results[i] = VerifyResult.from_dict(d)
                done += 1
                if on_result:
                    on_result(i, results[i])
                if progress:
                    progress(done, n)
        except Exception as e:
            if self._proc is not None:
                _kill(self._proc)
                self._proc = None
            for _cid, i in waiting.items():
                results[i] = failure(Status.INFRA_ERROR, f"sandbox failure: {type(e).__name__}: {e}"[:2000])


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a zygote and reap it (a killed child left unwaited stays a zombie for the engine's lifetime)."""
    proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


_ENGINES: dict[tuple[Any, ...], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(config: VerifyConfig | None = None) -> Engine:
    """A shared warm engine per distinct config (so repeated reward calls do not restart the zygote)."""
    config = config or VerifyConfig()
    key = tuple(sorted(asdict(config).items()))
    with _ENGINES_LOCK:
        eng = _ENGINES.get(key)
        if eng is None:
            eng = _ENGINES[key] = Engine(config)
        return eng


def shutdown_engines() -> None:
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for e in engines:
        e.close()


atexit.register(shutdown_engines)


def verify(reference: str, completion: str, config: VerifyConfig | None = None) -> VerifyResult:
    """Verify one completion (raw text or bare code) against a KernelBench-style reference source."""
    return get_engine(config).verify(reference, completion)


def verify_batch(pairs: Sequence[tuple[str, str]], config: VerifyConfig | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 on_result: Callable[[int, VerifyResult], None] | None = None) -> list[VerifyResult]:
    """Verify many (reference, completion) pairs in parallel; results in input order (`on_result` sees
    each as it completes)."""
    return get_engine(config).verify_many(pairs, progress, on_result)
