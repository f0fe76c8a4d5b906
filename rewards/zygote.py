"""The warm parent: imports torch + triton once, then forks one sandboxed child per candidate.

Started by `rewards.engine.Engine` as `python -m rewards.zygote CONFIG_JSON`; speaks JSON lines on
stdin/stdout. It never loads candidate code itself and never initialises CUDA, so every fork starts
clean. Per task group it forks one reference process (see `rewards.child`) and, once that is ready, one
candidate process per candidate, at most `workers` busy at a time. Verdicts go back as JSON lines.

    -> {"op": "group", "gid": "...", "reference": SRC, "seed": 1, "trials": 3,
        "candidates": [{"cid": "...", "code": SRC}, ...]}
    <- {"cid": "...", "result": {VerifyResult as dict}}
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rewards import isolation
from rewards.isolation import Limits

RESULT_LIMIT = 1 << 20  # bytes of result.json read back


@dataclass
class Group:
    gid: str
    dir: str
    seed: int
    trials: int
    pending: deque = field(default_factory=deque)  # (cid, code) not yet started
    outstanding: int = 0  # candidates not yet finalised
    ref_pid: int | None = None
    req_w: int | None = None
    resp_r: int | None = None
    buf: bytes = b""
    ready: bool = False
    started: float = 0.0
    ref_ms: float | None = None
    ref_compiled_ms: float | None = None
    timing_method: str | None = None
    judging: deque = field(default_factory=deque)  # (cid, partial result) awaiting the reference's judgement
    failed: str | None = None


@dataclass
class Cand:
    cid: str
    gid: str
    dir: str
    started: float
    timed_out: bool = False


class Zygote:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.device: str = cfg["device"]
        self.workers: int = cfg["workers"]
        self.timeout: float = cfg["timeout_s"]
        self.limits = Limits(cfg["memory_mb"], cfg["cpu_time_s"], cfg["max_file_mb"], cfg["max_procs"])
        self.base = tempfile.mkdtemp(prefix="tritonforge-sbx-")
        os.chmod(self.base, 0o711)
        self.lock_dir = os.path.join(self.base, "locks")
        os.mkdir(self.lock_dir)
        os.chmod(self.lock_dir, 0o1777)
        self.groups: dict[str, Group] = {}
        self.queue: deque[str] = deque()  # gids waiting for a reference process
        self.cands: dict[int, Cand] = {}
        self.refs: dict[int, str] = {}  # ref pid -> gid
        self.inbuf = b""
        self.stdin_open = True
        self.root = os.geteuid() == 0
        self.drop = bool(cfg.get("drop_privileges", True)) and self.root

    # ----------------------------------------------------------------- protocol
    def emit(self, obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def finish(self, g: Group, cid: str, result: dict[str, Any]) -> None:
        result.setdefault("device", self.device)
        self.emit({"cid": cid, "result": result})
        g.outstanding -= 1
        if g.outstanding <= 0 and not g.pending:
            self.close_group(g)

    def close_group(self, g: Group) -> None:
        if g.req_w is not None:
            try:
                os.write(g.req_w, b'{"op": "exit"}\n')
            except OSError:
                pass
            for fd in (g.req_w, g.resp_r):
                try:
                    os.close(fd)  # type: ignore[arg-type]
                except OSError:
                    pass
            g.req_w = g.resp_r = None
        if g.ref_pid is not None:
            try:
                os.kill(g.ref_pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(g.dir, ignore_errors=True)
        self.groups.pop(g.gid, None)

    def busy(self) -> int:
        return len(self.cands) + sum(1 for g in self.groups.values() if g.ref_pid and not g.ready)

    # ----------------------------------------------------------------- input
    def read_stdin(self) -> None:
        data = os.read(0, 1 << 20)
        if not data:
            self.stdin_open = False
            return
        self.inbuf += data
        while b"\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\n", 1)
            if line.strip():
                self.handle(json.loads(line))

    def handle(self, msg: dict[str, Any]) -> None:
        if msg.get("op") == "shutdown":
            self.stdin_open = False
            return
        gdir = os.path.join(self.base, "g" + secrets.token_hex(8))
        os.mkdir(gdir)
        os.chmod(gdir, 0o711)
        ref_path = os.path.join(gdir, "reference.py")
        with open(ref_path, "w") as f:
            f.write(msg["reference"])
        os.chmod(ref_path, 0o600)  # candidates (user nobody) may read the trial inputs, not run the reference
        g = Group(msg["gid"], gdir, int(msg["seed"]), int(msg["trials"]))
        for c in msg["candidates"]:
            g.pending.append((c["cid"], c["code"]))
        g.outstanding = len(g.pending)
        self.groups[g.gid] = g
        self.queue.append(g.gid)

    # ----------------------------------------------------------------- reference process
    def start_reference(self, g: Group) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            code = 1
            try:
                os.setsid()
                isolation.set_parent_death_signal()
                os.close(req_w)
                os.close(resp_r)
                isolation.redirect_stdio(os.path.join(g.dir, "ref.out"), os.path.join(g.dir, "ref.err"))
                isolation.close_fds(keep=(req_r, resp_w))
                isolation.scrub_env(g.dir, self.device == "cpu")
                os.chdir(g.dir)
                lim = Limits(self.limits.memory_mb, self.limits.cpu_time_s * 20, self.limits.max_file_mb, self.limits.max_procs)
                isolation.apply_limits(lim, drop_to_nobody=False)
                code = _reference_main(g, self.cfg, req_r, resp_w, self.lock_dir)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(req_r)
        os.close(resp_w)
        g.ref_pid, g.req_w, g.resp_r, g.started = pid, req_w, resp_r, time.monotonic()
        self.refs[pid] = g.gid

    def read_ref(self, g: Group) -> None:
        assert g.resp_r is not None
        data = os.read(g.resp_r, 1 << 20)
        if not data:
            return
        g.buf += data
        while b"\n" in g.buf:
            line, g.buf = g.buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("event") == "ready":
                g.ready = True
                g.ref_ms, g.timing_method = msg.get("ref_ms"), msg.get("timing_method")
                g.ref_compiled_ms = _num(msg.get("ref_compiled_ms"))
            elif msg.get("event") == "judged":
                cid, partial = g.judging.popleft()
                self.finish(g, cid, self.verdict(g, partial, msg))

    def fail_group(self, g: Group, why: str) -> None:
        """The reference could not run: not the candidates' fault, so infra_error (reward None)."""
        g.failed = why
        for cid, _ in list(g.pending):
            self.finish(g, cid, {"status": "infra_error", "log": why})
        g.pending.clear()
        while g.judging:
            cid, _ = g.judging.popleft()
            self.finish(g, cid, {"status": "infra_error", "log": why})
        if g.gid in self.groups and not any(c.gid == g.gid for c in self.cands.values()):
            self.close_group(g)

    # ----------------------------------------------------------------- candidate process
    def start_candidate(self, g: Group, cid: str, code: str) -> None:
        cdir = os.path.join(g.dir, "c" + secrets.token_hex(8))
        os.mkdir(cdir, 0o700)
        with open(os.path.join(cdir, "candidate.py"), "w") as f:
            f.write(code)
        if self.drop:
            for p in (cdir, os.path.join(cdir, "candidate.py")):
                os.chown(p, isolation.NOBODY, isolation.NOBODY)
        pid = os.fork()
        if pid == 0:
            code_ = 70
            try:
                code_ = _candidate_main(cdir, self.cfg, self.limits, self.drop, self.lock_dir, self.device)
            finally:
                os._exit(code_)
        self.cands[pid] = Cand(cid, g.gid, cdir, time.monotonic())

    def on_candidate_exit(self, pid: int, status: int) -> None:
        c = self.cands.pop(pid)
        g = self.groups.get(c.gid)
        try:
            os.killpg(pid, signal.SIGKILL)  # anything it left in its process group
        except OSError:
            pass
        if g is None:
            return
        if g.failed:
            self.finish(g, c.cid, {"status": "infra_error", "log": g.failed})
            return
        log = _tail(os.path.join(c.dir, "stderr.txt")) + _tail(os.path.join(c.dir, "stdout.txt"), 1000)
        if c.timed_out:
            self.finish(g, c.cid, {"status": "timeout", "log": f"killed after {self.timeout:g}s wall clock\n" + log})
            return
        code = os.waitstatus_to_exitcode(status)
        res = _read_result(os.path.join(c.dir, "result.json"))
        if code >= 128 + 1 and code - 128 in (signal.SIGXCPU,):
            self.finish(g, c.cid, {"status": "timeout", "log": "CPU-time limit exceeded\n" + log})
            return
        if code != 0 or res is None:
            why = _describe_exit(code)
            self.finish(g, c.cid, {"status": "crashed", "log": f"candidate process {why} without a verdict\n" + log})
            return
        st = res.get("status")
        if st in ("compile_error", "runtime_error"):
            self.finish(g, c.cid, {"status": st, "error_type": str(res.get("error_type", ""))[:100],
                                   "log": str(res.get("log", ""))[-6000:] + log})
            return
        if st != "ran":
            self.finish(g, c.cid, {"status": "crashed", "log": "candidate process wrote an invalid report\n" + log})
            return
        launches = res.get("launches") or []
        total = sum(int(x) for x in launches if isinstance(x, int))
        partial = {"kernel_launches": total, "cand_ms": _num(res.get("cand_ms")),
                   "timing_method": res.get("timing_method"), "launches": launches, "log": log}
        if not launches or not all(isinstance(x, int) and x > 0 for x in launches):
            finding = {"rule": "kernel_not_launched", "line": None, "fatal": True,
                       "message": f"kernels launched per trial: {launches}; every forward must launch a kernel defined in the candidate"}
            if self.cfg.get("strict_rules", True):
                self.finish(g, c.cid, {"status": "rule_violation", "kernel_launches": total, "log": log, "rule_findings": [finding]})
                return
            partial["rule_findings"] = [finding]  # non-strict (hack-rate audits): still judge the outputs
        g.judging.append((c.cid, partial))
        assert g.req_w is not None
        os.write(g.req_w, (json.dumps({"op": "judge", "path": os.path.join(c.dir, "outputs.pt")}) + "\n").encode())

    def verdict(self, g: Group, partial: dict[str, Any], judged: dict[str, Any]) -> dict[str, Any]:
        ok = bool(judged.get("ok"))
        res: dict[str, Any] = {"status": "ok" if ok else "mismatch", "correct": ok, "trials": g.trials,
                               "max_abs_err": _num(judged.get("max_abs_err")), "kernel_launches": partial["kernel_launches"],
                               "log": (judged.get("reason") or "") + ("\n" + partial["log"] if partial["log"] else ""),
                               "rule_findings": partial.get("rule_findings", [])}
        cand_ms = partial.get("cand_ms")
        if ok and g.ref_ms and cand_ms:
            res.update(ref_ms=g.ref_ms, cand_ms=cand_ms, speedup=g.ref_ms / cand_ms, timing_method=partial.get("timing_method"))
            res["implausible_speedup"] = res["speedup"] > float(self.cfg.get("implausible_speedup", 50.0))
            if g.ref_compiled_ms:
                res["extra"] = {"ref_compiled_ms": g.ref_compiled_ms, "speedup_vs_compile": g.ref_compiled_ms / cand_ms}
        return res

    # ----------------------------------------------------------------- loop
    def schedule(self) -> None:
        for g in list(self.groups.values()):
            while g.ready and g.pending and self.busy() < self.workers:
                cid, code = g.pending.popleft()
                self.start_candidate(g, cid, code)
        open_refs = sum(1 for g in self.groups.values() if g.ref_pid)
        while self.queue and self.busy() < self.workers and open_refs < 4 * self.workers:
            g = self.groups.get(self.queue.popleft())
            if g is not None:
                self.start_reference(g)
                open_refs += 1

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.cands:
                self.on_candidate_exit(pid, status)
            elif pid in self.refs:
                gid = self.refs.pop(pid)
                g = self.groups.get(gid)
                if g is not None:
                    g.ref_pid = None
                    if g.outstanding > 0:
                        if g.resp_r is not None:  # drain what it said before dying
                            self._drain(g)
                        if g.outstanding > 0:
                            err = _tail(os.path.join(g.dir, "ref.err"))
                            self.fail_group(g, f"reference process {_describe_exit(os.waitstatus_to_exitcode(status))}\n{err}")

    def _drain(self, g: Group) -> None:
        while g.resp_r is not None:
            r, _, _ = select.select([g.resp_r], [], [], 0)
            if not r:
                return
            before = len(g.buf)
            self.read_ref(g)
            if len(g.buf) == before and b"\n" not in g.buf:
                return

    def check_timeouts(self) -> None:
        now = time.monotonic()
        for pid, c in self.cands.items():
            if not c.timed_out and now - c.started > self.timeout:
                c.timed_out = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        for g in list(self.groups.values()):
            if g.ref_pid and not g.ready and now - g.started > self.timeout * 2:
                try:
                    os.killpg(g.ref_pid, signal.SIGKILL)
                except OSError:
                    pass

    def run(self) -> None:
        self.emit({"event": "ready", "pid": os.getpid(), "root": self.root})
        while self.stdin_open or self.groups:
            fds = [0] if self.stdin_open else []
            fds += [g.resp_r for g in self.groups.values() if g.resp_r is not None]
            r, _, _ = select.select(fds, [], [], 0.01)
            for fd in r:
                if fd == 0:
                    self.read_stdin()
                else:
                    g = next((g for g in self.groups.values() if g.resp_r == fd), None)
                    if g is not None:
                        self.read_ref(g)
            self.reap()
            self.check_timeouts()
            self.schedule()
        shutil.rmtree(self.base, ignore_errors=True)


# --------------------------------------------------------------------------------------------- children
def _reference_main(g: Group, cfg: dict[str, Any], req_r: int, resp_w: int, lock_dir: str) -> int:
    from rewards.child import ReferenceRun

    device = cfg["device"]
    ref = ReferenceRun(os.path.join(g.dir, "reference.py"), g.dir, g.seed, g.trials, device)
    ref_ms, method, compiled_ms = None, None, None
    if device == "cuda" and cfg.get("time_gpu", True):
        ref_ms, method = ref.time_reference(cfg["timing_warmup"], cfg["timing_reps"], lock_dir)
        if cfg.get("compile_baseline"):
            compiled_ms = ref.time_compiled_reference(cfg["timing_warmup"], cfg["timing_reps"], lock_dir)
    os.write(resp_w, (json.dumps({"event": "ready", "ref_ms": ref_ms, "timing_method": method,
                                  "ref_compiled_ms": compiled_ms}) + "\n").encode())
    buf = b""
    while True:
        data = os.read(req_r, 1 << 16)
        if not data:
            return 0
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("op") == "exit":
                return 0
            out = ref.judge(msg["path"], cfg.get("atol"), cfg.get("rtol"))
            os.write(resp_w, (json.dumps({"event": "judged", **out}) + "\n").encode())


def _candidate_main(cdir: str, cfg: dict[str, Any], limits: Limits, drop: bool, lock_dir: str, device: str) -> int:
    """Outer candidate process: isolate, then fork the process that runs the candidate.

    The extra fork makes the candidate PID 1 of a fresh PID namespace (where permitted): when it dies,
    the kernel kills everything it spawned. This process only waits and passes the exit status on.
    """
    os.setsid()
    isolation.set_parent_death_signal()
    os.chdir(cdir)  # before the tmpfs mounts hide the path: the cwd keeps pointing at the real dir
    isolation.redirect_stdio("stdout.txt", "stderr.txt")
    isolation.close_fds()
    isolation.scrub_env(cdir, device == "cpu")
    got = isolation.enter_namespaces(bool(cfg.get("isolate_network", True)), will_drop=drop)
    pid = os.fork()
    if pid == 0:
        try:
            if "pidns" in got:
                isolation.mount_private_proc()
            isolation.apply_limits(limits, drop_to_nobody=drop)
            isolation.set_parent_death_signal()  # credentials changed: re-arm
            from rewards.child import run_candidate

            run_candidate(device, bool(cfg.get("time_gpu", True)), cfg["timing_warmup"], cfg["timing_reps"], lock_dir)
        finally:
            os._exit(71)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 + (-code) if code < 0 else code


def _read_result(path: str) -> dict[str, Any] | None:
    data = isolation.read_untrusted(path, RESULT_LIMIT)
    if data is None:
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _tail(path: str, limit: int = 3000) -> str:
    """Last `limit` characters of a candidate's log (files up to 64 MiB; bigger ones are not read)."""
    data = isolation.read_untrusted(path, 64 << 20)
    return data[-limit:].decode("utf-8", "replace") if data else ""


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _describe_exit(code: int) -> str:
    if code >= 128:
        try:
            return f"was killed by {signal.Signals(code - 128).name}"
        except ValueError:
            return f"exited with code {code}"
    if code < 0:
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


def main() -> None:
    cfg = json.loads(sys.argv[1])
    isolation.set_parent_death_signal()
    if cfg["device"] == "cpu":
        os.environ["TRITON_INTERPRET"] = "1"
    import torch  # noqa: F401  (warm: children inherit the imported modules)
    import triton  # noqa: F401
    import triton.language  # noqa: F401

    import rewards.child  # noqa: F401
    import rewards.compare  # noqa: F401

    Zygote(cfg).run()


if __name__ == "__main__":
    main()
