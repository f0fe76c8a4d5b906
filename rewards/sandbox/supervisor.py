"""The candidate's supervisor: a trusted process between the zygote and the process running candidate code.

Forked by the zygote for one candidate, it isolates itself (`rewards.sandbox.isolation`, `rewards.sandbox.private_mounts`), forks the candidate
process (which drops privileges, installs seccomp and the audit hook, then loads the candidate), and
then drives it over two pipes (`rewards.harness.channel`): constructor inputs and weights first, then each
trial's inputs only once the previous trial's outputs are back, then (on CUDA) a timing request while it
holds the per-GPU lock. The candidate never sees the inputs file, the lock directory, the report pipe or
the outputs file: the supervisor alone writes the outputs (into the root-owned group directory, with a
hash the judge checks) and the report (into a pipe to the zygote that was closed in the candidate
process before candidate code existed). Whatever the candidate writes to disk or prints is only a log.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import secrets
import signal
import time
from typing import Any

import torch

from rewards.contract.config import VerifyConfig
from rewards.harness import channel
from rewards.harness.runtime_findings import capped_counts
from rewards.sandbox import cgroups, isolation, private_mounts
from rewards.sandbox.isolation import Limits

REPORT_LIMIT = 48 * 1024  # the report pipe is read after exit: stay below the pipe buffer
MAX_PAYLOAD = 1 << 34


def _cap(report: dict[str, Any]) -> bytes:
    """The report as JSON of at most REPORT_LIMIT bytes, and always whole JSON (a cut-off report reads as
    no report, and the reason with it). The log and the per-trial kernel tables are trimmed (a cut table ends in
    a name no kernel has, so the foreign-kernel check fails closed); evidence is never dropped."""
    data = json.dumps(report).encode()
    if len(data) <= REPORT_LIMIT:
        return data
    report["log"] = str(report.get("log", ""))[-2000:]
    for t in report.get("trials", [])[:-1]:
        t.pop("target_compile", None)  # cumulative: the last trial's holds every earlier one's
    for t in report.get("trials", []):
        ops = t.get("ops") or {}
        if isinstance(ops, dict):
            ops["forbidden"] = dict(list((ops.get("forbidden") or {}).items())[:20])
        for key in ("kernel_launches", "device_kernels"):
            if isinstance(t.get(key), dict):
                t[key] = capped_counts(t[key], 64)
    data = json.dumps(report).encode()
    if len(data) <= REPORT_LIMIT:
        return data
    # Dropping more would drop evidence (ops, kernels) the verdict rests on: fail closed instead.
    return json.dumps({"status": "crashed", "log": "the candidate's report was too large to return "
                                                   f"({len(data)} bytes after trimming)"}).encode()


def scratch_verdict(written_bytes: int, written_inodes: int, scratch: private_mounts.Scratch) -> dict[str, Any] | None:
    """A sandbox_violation when the candidate wrote more than its scratch cap (bytes or inodes) into its private
    places and logs, else None. The cap is what Triton's cache needs with room to spare (`VerifyConfig.scratch_mb`):
    a kernel has no use for more, so filling the disk is a finding, not a way to pass."""
    if written_bytes <= scratch.cap_bytes and written_inodes <= scratch.cap_inodes:
        return None
    return {"status": "sandbox_violation", "error_type": "ScratchExceeded",
            "log": (f"the candidate wrote {written_bytes / (1 << 20):.1f} MiB in {written_inodes} files and "
                    f"directories to its private directories and logs; the limit is {scratch.cap_bytes >> 20} MiB "
                    f"and {scratch.cap_inodes} inodes (Triton's cache needs far less; a kernel needs no more)")}


class Supervisor:
    def __init__(self, cfg: VerifyConfig, host_writable: list[str], gdir_fd: int, out_name: str, report_fd: int, lock_fd: int | None,
                 cg_dirs: list[str]) -> None:
        self.cfg, self.gdir_fd, self.out_name, self.report_fd = cfg, gdir_fd, out_name, report_fd
        self.lock_fd, self.cg_dirs = lock_fd, cg_dirs
        self.device: str = cfg.device
        self.host_writable = host_writable
        self.private_tmp = False
        self.scratch = private_mounts.Scratch.from_mb(cfg.scratch_mb)
        self.reaped = False  # the candidate process was waited for (its pid may belong to someone else now)

    def run(self, source: str, limits: Limits, drop: bool) -> int:
        # The candidate's own directory (its logs; without a mount namespace also its TMPDIR and Triton cache),
        # held open before the private mounts hide its path.
        home_fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
        got = private_mounts.enter_namespaces(self.cfg.isolate_network, will_drop=drop,
                                              writable=self.host_writable, scratch=self.scratch)
        private_tmp = "tmpfs:/tmp" in got
        self.private_tmp = private_tmp
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(p2c_w)
                os.close(c2p_r)
                isolation.close_fds(keep=(p2c_r, c2p_w))  # report pipe, lock, group dir: gone before any candidate code
                self._child(p2c_r, c2p_w, limits, drop, got, private_tmp)
            finally:
                os._exit(71)
        os.close(p2c_r)
        os.close(c2p_w)
        report = self._drive(pid, source, p2c_w, c2p_r)
        if not self.reaped:  # e.g. the inputs could not be read: it must be gone before its writes are counted
            self._died(pid, "stopped by its supervisor", [])
        report = self._check_scratch(report, home_fd)
        try:
            os.write(self.report_fd, _cap(report))
        except OSError:
            pass
        return 0

    def _check_scratch(self, report: dict[str, Any], home_fd: int) -> dict[str, Any]:
        """After the candidate exited: what it wrote to its private places (the shared tmpfs) and its own
        directory (logs, and the TMPDIR without a mount namespace). Over the cap, the verdict is a
        sandbox_violation whatever the run gave, and outputs already written are not judged."""
        tmpfs_bytes, tmpfs_inodes = self.scratch.written()
        home_bytes, home_inodes = isolation.tree_usage(home_fd, self.scratch.cap_inodes)
        os.close(home_fd)
        self.scratch.close()
        violation = scratch_verdict(tmpfs_bytes + home_bytes, tmpfs_inodes + home_inodes, self.scratch)
        if violation is None:
            return report
        if report.get("status") == "ran":
            try:
                os.unlink(self.out_name, dir_fd=self.gdir_fd)
            except OSError:
                pass
        violation["log"] += "\n" + str(report.get("log") or "")[-2000:]
        return violation

    # ----------------------------------------------------------------- the candidate process
    def _child(self, rfd: int, wfd: int, limits: Limits, drop: bool, got: list[str], private_tmp: bool) -> None:
        if "pidns" in got:
            private_mounts.mount_private_proc()
        if private_tmp:  # work in the private tmpfs: whatever the candidate leaves vanishes with it
            os.chdir("/tmp")
            os.environ.update(HOME="/tmp", TMPDIR="/tmp", TRITON_CACHE_DIR="/tmp/.triton", TRITON_HOME="/tmp")
        cgroups.join(self.cg_dirs)
        if self.device == "cuda":  # initialise the driver before seccomp takes sockets and namespaces away
            torch.cuda.init()
            torch.empty(1, device="cuda")
        # No file of the candidate's (its logs included, which live outside the scratch tmpfs) may outgrow the
        # scratch cap: what is bigger would be a violation anyway, and this keeps it off the host meanwhile.
        limits = dataclasses.replace(limits, max_file_mb=min(limits.max_file_mb, (self.scratch.cap_bytes >> 20) + 1))
        isolation.apply_limits(limits, drop_to_nobody=drop, cgroup_capped=bool(self.cg_dirs))
        isolation.set_parent_death_signal()  # credentials changed: re-arm
        if self.cfg.seccomp:
            from rewards.sandbox import (
                seccomp,  # exec: Triton's compilers on CUDA, and on CPU the target-compile check's ptxas (which binary may
            )
            # run is the audit hook's: only Triton's own, by path)
            seccomp.install(allow_exec=self.device == "cuda" or self._compile_target() != "none")
        from rewards.harness.child import run_candidate

        run_candidate(rfd, wfd, self.device, MAX_PAYLOAD)

    def _compile_target(self) -> str:
        """The NVIDIA target a CPU candidate's kernels are also compiled for ("none": not compiled)."""
        return self.cfg.compile_target if self.device == "cpu" else "none"

    # ----------------------------------------------------------------- the protocol
    def _drive(self, pid: int, source: str, wfd: int, rfd: int) -> dict[str, Any]:
        trials: list[dict[str, Any]] = []
        outs: list[Any] = []
        posts: list[Any] = []
        try:
            fd = os.open("inputs.pt", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self.gdir_fd)
            with os.fdopen(fd, "rb") as f:
                data = torch.load(f, map_location="cpu", weights_only=True)
        except Exception as e:
            return {"status": "infra_error", "log": f"supervisor could not read the trial inputs: {type(e).__name__}: {e}"}
        try:
            channel.send(wfd, {"op": "init", "seed": data["seed"], "source": source, "private_tmp": self.private_tmp,
                               "compile_target": self._compile_target(),
                               "enforce_runtime": self.cfg.enforce_runtime,
                               "answer_dtypes": list(data.get("answer_dtypes") or [])},
                         channel.encode_payload({"init_inputs": data["init_inputs"], "state_dict": data["state_dict"]}))
            head, _ = channel.recv(rfd, 1 << 20)
            if head.get("event") != "ready":
                return self._failed(pid, head)
            ready = head
            # An honest answer weighs what the reference's does (plus pickling slack): a bigger frame is refused
            # before it is read, so one candidate cannot make its supervisor hold gigabytes.
            limit = min(MAX_PAYLOAD, 4 * int(data.get("trial_bytes") or 0) + (16 << 20))
            for t, inp in enumerate(data["inputs"]):
                channel.send(wfd, {"op": "trial", "t": t, "profile": self.device == "cuda",
                                  "grads": list(data.get("grad_inputs") or [])}, channel.encode_payload(inp))
                head, payload = channel.recv(rfd, limit)
                if head.get("event") != "trial":
                    return self._failed(pid, head, trials)
                try:
                    got = channel.decode_payload(payload)
                    outs.append(got["outputs"])
                    posts.append(got["post_inputs"])
                except Exception as e:
                    return {"status": "crashed", "log": f"candidate process sent unreadable outputs ({type(e).__name__})"}
                trials.append({k: head.get(k) for k in ("launches", "kernel_launches", "device_kernels", "ops", "threads", "denied",
                                                              "target_compile")})
            timing, timed_out = self._time(wfd, rfd, data, trials, limit)
            channel.send(wfd, {"op": "exit"})
        except channel.ChannelError as e:
            return self._died(pid, f"candidate process stopped talking ({e})", trials)
        status = self._wait(pid)
        if status is not None and status != 0 and cgroups.oom_killed(self.cg_dirs):
            return {"status": "runtime_error", "error_type": "MemoryError", "log": "memory cap exceeded (whole process tree)"}
        blob = channel.encode_payload({"outputs": outs, "post_inputs": posts, "timing_outputs": timed_out})
        try:
            fd = os.open(self.out_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=self.gdir_fd)
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
        except OSError as e:
            return {"status": "infra_error", "log": f"supervisor could not write outputs: {e}"}
        return {"status": "ran", "trials": trials, "ready": {k: ready.get(k) for k in ("threads", "denied")},
                "outputs": self.out_name, "sha256": hashlib.sha256(blob).hexdigest(), **timing}

    def _time(self, wfd: int, rfd: int, data: dict[str, Any], trials: list[dict[str, Any]],
              limit: int) -> tuple[dict[str, Any], Any]:
        """(timing fields, outputs of the last timed call) on CUDA; ({}, None) elsewhere or when untimed."""
        if not (self.device == "cuda" and self.cfg.time_gpu and data.get("timing_inputs") is not None
                and trials and all(t.get("launches") for t in trials)):
            return {}, None
        reps = self.cfg.timing_reps
        if self.lock_fd is not None:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        try:
            t0 = time.perf_counter()
            channel.send(wfd, {"op": "time", "warmup": self.cfg.timing_warmup, "reps": reps},
                         channel.encode_payload(data["timing_inputs"]))
            head, payload = channel.recv(rfd, limit)
            wall_ms = (time.perf_counter() - t0) * 1000.0
        finally:
            if self.lock_fd is not None:
                fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
        if head.get("event") != "timed":
            return {}, None
        try:
            timed_out = channel.decode_payload(payload)
        except Exception:
            return {}, None
        fields = {"cand_ms": head.get("cand_ms"), "timing_method": head.get("timing_method"), "timing_wall_ms": wall_ms}
        if not (isinstance(head.get("launches_per_call"), (int, float)) and head["launches_per_call"] >= 1):
            fields["cand_ms"] = None  # a timed call that launched no kernel of its own is not a measurement
        return fields, timed_out

    def _failed(self, pid: int, head: dict[str, Any], trials: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        if head.get("event") == "error":
            self._wait(pid)
            keep = ("status", "error_type", "stage", "log", "ops", "denied", "threads", "target_compile")
            rep = {k: head.get(k) for k in keep}
            if rep["status"] not in ("compile_error", "runtime_error"):
                rep["status"] = "runtime_error"
            return rep
        return self._died(pid, "candidate process sent an unexpected message", trials or [])

    def _wait(self, pid: int, timeout: float = 5.0) -> int | None:
        """Exit status of the candidate process (killed after `timeout`); None if already reaped."""
        if self.reaped:
            return None
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    self.reaped = True
                    return status
                time.sleep(0.005)
            os.kill(pid, signal.SIGKILL)
            status = os.waitpid(pid, 0)[1]
            self.reaped = True
            return status
        except (ChildProcessError, ProcessLookupError):
            self.reaped = True
            return None

    def _died(self, pid: int, why: str, trials: list[dict[str, Any]]) -> dict[str, Any]:
        if not self.reaped:
            try:
                os.kill(pid, signal.SIGKILL)  # harmless on a zombie: its real exit status stays
            except OSError:
                pass
        status = self._wait(pid, 1.0)
        code = os.waitstatus_to_exitcode(status) if status is not None else 0
        if cgroups.oom_killed(self.cg_dirs):
            return {"status": "runtime_error", "error_type": "MemoryError", "log": "memory cap exceeded (whole process tree)"}
        if code == -signal.SIGXCPU:
            return {"status": "timeout", "log": "CPU-time limit exceeded"}
        return {"status": "crashed", "log": f"{why}; candidate process {describe_exit(code)}"}


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    if code >= 128:
        try:
            return f"was killed by {signal.Signals(code - 128).name}"
        except ValueError:
            return f"exited with code {code}"
    return f"exited with code {code}"


def new_output_name() -> str:
    return "out-" + secrets.token_hex(12) + ".pt"
