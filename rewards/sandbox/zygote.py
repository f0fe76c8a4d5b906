"""The warm parent: imports torch + triton once, then forks one sandboxed child per candidate.

Started by `rewards.engine.client.Engine` as `python -m rewards.sandbox.zygote CONFIG_JSON`; speaks JSON lines on
stdin/stdout. It never loads candidate code itself and never initialises CUDA, so every fork starts
clean. Per task group it forks one reference process (see `rewards.oracle.reference_run`) and, once that is
ready, one supervisor per candidate (see `rewards.sandbox.supervisor`; it forks the process that runs the
candidate, `rewards.harness.child`), at most `workers` busy at a time. A candidate's report comes back through a pipe only its supervisor holds;
the runtime record in it decides `kernel_not_launched` / `torch_compute_fallback` (`runtime_findings`).
Verdicts go back as JSON lines.

This module is the process loop only; the jobs around it live apart: the sandbox directories and their
clean-up (`rewards.sandbox.dirs`), the reference process (`rewards.oracle.reference_proc`), what a supervisor's
report means (`rewards.sandbox.candidate_results`) and the runtime findings (`rewards.harness.runtime_findings`).

    -> {"op": "group", "gid": "...", "reference": SRC, "seed": 1, "trials": 3,
        "candidates": [{"cid": "...", "code": SRC}, ...]}
    <- {"cid": "...", "result": {VerifyResult as dict}}
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rewards.contract.config import VerifyConfig
from rewards.oracle.reference_proc import reference_main
from rewards.sandbox import cgroups, dirs, isolation
from rewards.sandbox.candidate_results import candidate_outcome, judged_result, num, read_report
from rewards.sandbox.isolation import Limits
from rewards.sandbox.memory import available_memory_mb, candidate_memory_mb, task_memory_ceiling
from rewards.sandbox.supervisor import Supervisor, describe_exit, new_output_name
from rewards.sandbox.warmup import warm_process


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
    nondeterministic: str | None = None
    judging: deque = field(default_factory=deque)  # (cid, partial result) awaiting the reference's judgement
    failed: str | None = None
    time_killed: bool = False  # the zygote killed its reference at its own time limit (reference_timeout_s)
    cand_mb: int = 0  # this task's candidate memory cap (task-sized), known once the reference is ready
    task_mb: int = 0  # what one of its candidates holds at once (weights, a trial's inputs and outputs)


@dataclass
class Cand:
    cid: str
    gid: str
    dir: str
    started: float
    report_r: int
    out_name: str
    cg_dirs: list[str]
    timed_out: bool = False


class Zygote:
    def __init__(self, cfg: VerifyConfig) -> None:
        self.cfg = cfg
        self.device: str = cfg.device
        self.workers: int = cfg.workers
        self.timeout: float = cfg.timeout_s  # a candidate's, from its own start (`Cand.started`)
        # the reference's own limit: a slow reference (and its float64 shadow) is never charged to a candidate
        self.ref_timeout: float = cfg.resolved_reference_timeout_s()
        self.limits = Limits(cfg.memory_mb, cfg.resolved_cpu_time_s(), cfg.max_file_mb, cfg.max_procs)
        self.ceiling_mb = task_memory_ceiling(cfg)
        self.ref_peak_mb = 0  # the largest reference seen: what starting one more may cost the host
        self.base, self.lock_dir = dirs.create_base()
        self.groups: dict[str, Group] = {}
        self.queue: deque[str] = deque()  # gids waiting for a reference process
        self.cands: dict[int, Cand] = {}
        self.refs: dict[int, str] = {}  # ref pid -> gid
        self.inbuf = b""
        self.stdin_open = True
        self.root = os.geteuid() == 0
        self.drop = cfg.drop_privileges and self.root
        self.cgroups = cgroups.Cgroups(f"tritonforge-{os.getpid()}")
        # what a candidate must not find writable on the host (read once, here, for every supervisor)
        self.host_writable: list[str] = isolation.host_writable_dirs() if self.root else []

    # ----------------------------------------------------------------- protocol
    def emit(self, obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def protections(self) -> list[str]:
        """What isolation this engine applies (reported once in its ready line)."""
        got = ["setsid", "scrubbed_env", "rlimits", "no_new_privs", "audit_hook", "runtime_op_record",
               "supervisor_report_pipe", "secret_trial_inputs"]
        if self.cfg.seccomp:
            got.append("seccomp")
        if self.root:
            got += ["netns", "mntns", "pidns", "ipcns", "utsns", "private_tmpfs", "uid_nobody"]
        if self.cgroups.available:
            got.append("cgroup_memory_pids")
        return got

    def finish(self, g: Group, cid: str, result: dict[str, Any]) -> None:
        result.setdefault("device", self.device)
        if g.started:  # from the group's reference start: what this answer cost, queueing aside
            result.setdefault("wall_s", round(time.monotonic() - g.started, 3))
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
        isolation.rmtree(g.dir)
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
        gdir = dirs.new_group_dir(self.base, msg["reference"])
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
                # The reference writes the trial inputs file, which holds what its own memory held: its file cap
                # is its memory cap (a GPU-sized task's inputs outgrow the candidate's file cap many times).
                # Trusted benchmark code: capped by the task-sized ceiling, not by the candidate's cap (a
                # KernelBench reference holds three trials of inputs, outputs and inputs after the call).
                lim = Limits(self.ceiling_mb, max(self.limits.cpu_time_s * 20, int(self.ref_timeout) + 5),
                             max(self.limits.max_file_mb, self.ceiling_mb), self.limits.max_procs)
                isolation.apply_limits(lim, drop_to_nobody=False)
                code = reference_main(g.dir, g.seed, g.trials, self.cfg, req_r, resp_w, self.lock_dir)
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
                g.ref_compiled_ms = num(msg.get("ref_compiled_ms"))
                g.nondeterministic = msg.get("nondeterministic")
                g.task_mb = int(msg.get("candidate_mb") or 0)
                g.cand_mb = candidate_memory_mb(self.limits.memory_mb, self.ceiling_mb, g.task_mb)
                self.ref_peak_mb = max(self.ref_peak_mb, int(msg.get("peak_mb") or 0))
            elif msg.get("event") == "judged":
                cid, partial = g.judging.popleft()
                dirs.remove_file(os.path.join(g.dir, partial.pop("out_name")))
                self.finish(g, cid, judged_result(partial, msg, self.cfg, trials=g.trials, ref_ms=g.ref_ms,
                                                  ref_compiled_ms=g.ref_compiled_ms, nondeterministic=g.nondeterministic))

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
        name, cdir = dirs.new_candidate_dir(g.dir)
        report_r, report_w = os.pipe()
        gdir_fd = os.open(g.dir, os.O_RDONLY | os.O_DIRECTORY)
        lock_fd = None
        if self.device == "cuda":
            lock_fd = dirs.open_gpu_lock(self.lock_dir)
        # per-candidate caps over its whole tree: memory, and processes (the uid-wide RLIMIT_NPROC is shared)
        limits = Limits(g.cand_mb or self.limits.memory_mb, self.limits.cpu_time_s, self.limits.max_file_mb,
                        self.limits.max_procs)
        cg_dirs = (self.cgroups.create(name + "-" + g.gid, limits.memory_mb << 20, min(128, self.limits.max_procs))
                   if self.cgroups.available else [])
        out_name = new_output_name()
        pid = os.fork()
        if pid == 0:
            rc = 70
            try:
                os.close(report_r)
                os.setsid()
                isolation.set_parent_death_signal()
                os.chdir(cdir)  # before the tmpfs mounts hide the path
                isolation.redirect_stdio("stdout.txt", "stderr.txt")
                isolation.close_fds(keep=tuple(fd for fd in (report_w, gdir_fd, lock_fd) if fd is not None))
                isolation.scrub_env(cdir, self.device == "cpu")
                sup = Supervisor(self.cfg, self.host_writable, gdir_fd, out_name, report_w, lock_fd, cg_dirs)
                rc = sup.run(code, limits, self.drop)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                os._exit(rc)
        for fd in (report_w, gdir_fd, lock_fd):
            if fd is not None:
                os.close(fd)
        self.cands[pid] = Cand(cid, g.gid, cdir, time.monotonic(), report_r, out_name, cg_dirs)

    def on_candidate_exit(self, pid: int, status: int) -> None:
        c = self.cands.pop(pid)
        try:
            os.killpg(pid, signal.SIGKILL)  # anything it left in its process group
        except OSError:
            pass
        report = read_report(c.report_r)
        # Waits until every process of the candidate has finished exiting: the verdict is final once sent.
        all_gone = cgroups.destroy(c.cg_dirs)
        g = self.groups.get(c.gid)
        log = dirs.tail(os.path.join(c.dir, "stderr.txt")) + dirs.tail(os.path.join(c.dir, "stdout.txt"), 1000)
        if not all_gone:
            log += "\n[sandbox] processes of this candidate were still exiting when its verdict was sent"
        isolation.rmtree(c.dir)
        if g is None:
            return
        out = candidate_outcome(report, status, log, group_failed=g.failed, timed_out=c.timed_out,
                                timeout_s=self.timeout, device=self.device,
                                strict_rules=self.cfg.strict_rules)
        if out.discard is not None:
            dirs.remove_file(os.path.join(g.dir, out.discard))
        if out.result is not None:
            self.finish(g, c.cid, out.result)
            return
        assert out.partial is not None and report is not None
        g.judging.append((c.cid, out.partial))
        assert g.req_w is not None
        req = {"op": "judge", "path": os.path.join(g.dir, out.partial["out_name"]), "sha256": report.get("sha256")}
        try:
            os.write(g.req_w, (json.dumps(req) + "\n").encode())
        except OSError:  # the reference died and is not reaped yet: its reaping fails the group, this one with it
            pass

    # ----------------------------------------------------------------- loop
    def room_for(self, need_mb: int) -> bool:
        """Whether the host has `need_mb` to spare, or nothing of ours runs (then waiting frees nothing):
        sized by the task, so sixteen KernelBench-sized processes do not start at once into the OOM killer."""
        if self.busy() == 0:
            return True
        avail = available_memory_mb()
        return avail is None or avail >= need_mb

    def schedule(self) -> None:
        for g in list(self.groups.values()):
            while g.ready and g.pending and self.busy() < self.workers and self.room_for(256 + 4 * g.task_mb):
                cid, code = g.pending.popleft()
                self.start_candidate(g, cid, code)
        open_refs = sum(1 for g in self.groups.values() if g.ref_pid)
        while self.queue and self.busy() < self.workers and open_refs < 4 * self.workers \
                and self.room_for(max(512, self.ref_peak_mb)):
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
                            err = dirs.tail(os.path.join(g.dir, "ref.err"))
                            # Say who killed it: a SIGKILL the zygote did not send (the kernel's OOM killer, say)
                            # is no time limit, and a reference killed for time is no crash.
                            how = (f"ran past its time limit ({self.ref_timeout:.0f} s, reference_timeout_s) and was killed"
                                   if g.time_killed else describe_exit(os.waitstatus_to_exitcode(status)))
                            self.fail_group(g, f"reference process {how}\n{err}")

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
            if g.ref_pid and not g.ready and now - g.started > self.ref_timeout:
                g.time_killed = True
                try:
                    os.killpg(g.ref_pid, signal.SIGKILL)
                except OSError:
                    pass

    def run(self) -> None:
        self.emit({"event": "ready", "pid": os.getpid(), "root": self.root, "protections": self.protections()})
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
        self.cgroups.close()
        isolation.rmtree(self.base)


def main() -> None:
    cfg = VerifyConfig.from_wire(sys.argv[1])
    isolation.set_parent_death_signal()
    inductor_dir = warm_process(cfg)
    try:
        Zygote(cfg).run()
    finally:
        isolation.rmtree(inductor_dir)


if __name__ == "__main__":
    main()
