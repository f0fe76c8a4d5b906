"""The candidate harness, run inside a forked sandbox child. What it shares with the reference process
lives apart: loading a module (`rewards.harness.module_loading`) and a call's values (fresh input copies, a
forward's outputs and gradients as plain data: `rewards.harness.call_values`). The two roles:

* reference process (one per task group, trusted task code, forked before any candidate code exists
  anywhere in its ancestry): `rewards.oracle.reference_run`.
* candidate harness (`run_candidate`, one per candidate, in the isolated process, below the trusted
  supervisor of `rewards.sandbox.supervisor`): receives the constructor inputs and weights, loads the candidate,
  builds `ModelNew`, reseeds every RNG from a CSPRNG, then receives each trial's inputs only when that
  trial runs and sends back outputs plus the runtime record of what executed (`rewards.harness.guard`). It never
  writes a report file: whatever the candidate writes to disk is ignored.
"""

from __future__ import annotations

import os
import secrets
import sys
import traceback
from typing import Any

import torch

from rewards.harness import channel, target_compile
from rewards.harness.audit import (
    admit_guarded_modules,
    arm_audit_hook,
    dispatch_fingerprint,
    freeze_modules,
    guard_operator_registry,
    guard_signal_handlers,
)
from rewards.harness.call_values import (
    clone_to_cpu,
    fresh_inputs,
    grad_leaves,
    input_grads,
    plain_outputs,
    sync_device,
    to_device,
)
from rewards.harness.guard import OpRecorder
from rewards.harness.launch_counter import LaunchCounter
from rewards.harness.module_loading import load_module
from rewards.harness.op_policy import CAND_MODULE, scalar_read_budget
from rewards.harness.process_guards import (
    count_thread_starts,
    guard_mode_switches,
    guard_raw_exports,
    python_threads,
    thread_starts,
    tls_state,
)
from rewards.harness.runtime_findings import capped_counts

COMPILE_ERRORS = {"CompilationError", "CompileTimeAssertionFailure", "UnsupportedLanguageConstruct", "PTXASError", "OutOfResources",
                  "TargetCompileError"}

# --------------------------------------------------------------------------------------------- candidate
# Under the interpreter a bad kernel body (unknown tl function, wrong arity, bad constexpr) surfaces as an
# ordinary Python error raised inside the launch; on GPU the same code raises CompilationError.
_KERNEL_BUILD_ERRORS = (NameError, AttributeError, TypeError, AssertionError, SyntaxError)


def classify(exc: BaseException, stage: str, in_kernel: bool) -> str:
    names = {c.__name__ for c in type(exc).__mro__}
    if names & COMPILE_ERRORS:
        return "compile_error"
    if isinstance(exc, (MemoryError, SystemExit, KeyboardInterrupt)):
        return "runtime_error"
    if stage == "load":
        return "compile_error"  # the module itself does not import
    if "InterpreterError" in names and exc.__cause__ is not None:
        exc = exc.__cause__  # the interpreter wraps what the kernel body raised
    if in_kernel and isinstance(exc, _KERNEL_BUILD_ERRORS):
        return "compile_error"
    return "runtime_error"


_PROCESS_RECORDER: list[OpRecorder] = []


def process_recorder() -> OpRecorder:
    """The recorder of this process, with the process-wide guards that hold it installed: refused signal
    handlers, counted thread starts, the mode switches and the raw DLPack export. Each of those rebinds a
    function wherever a loaded module holds it, a walk over every module's namespace; run in the zygote, it
    happens once, before the fork, and every candidate process inherits it (in a forked child the walk also
    touched every object's refcount, copying most of the heap page by page: ~0.2 s per candidate). Outside a
    candidate's harness the guards are inert: they act only while this recorder is active or watching, or
    once the audit policy is armed."""
    if not _PROCESS_RECORDER:
        rec = OpRecorder()
        guard_signal_handlers()
        count_thread_starts()
        guard_mode_switches(rec)
        guard_raw_exports(rec)
        _PROCESS_RECORDER.append(rec)
    return _PROCESS_RECORDER[0]


class _Harness:
    def __init__(self, rfd: int, wfd: int, device: str, max_payload: int) -> None:
        self.rfd, self.wfd, self.device, self.max_payload = rfd, wfd, device, max_payload
        self.enforce = True
        self.rec = process_recorder()
        # One set of recorder modes for every trial, alive as long as the harness: forward can reach the modes
        # (torch's mode stack) and hang an object of its own on them, whose `__del__` would run when fresh
        # per-trial modes were dropped right after forward, unrecorded, before the outputs are copied. Made
        # in `run`, after the function mode is on for good (`OpRecorder.watch`).
        self.modes: Any = None
        self.counter: LaunchCounter | None = None
        self.policy: Any = None
        self.stage = "setup"
        self.starts_seen = 0
        self.tls: tuple[Any, ...] | None = None
        self.target: target_compile.TargetCompiler | None = None

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        channel.send(self.wfd, header, payload)

    def record(self) -> dict[str, Any]:
        # Threads alive now, or, where more, every thread started since the last record (plus this one): a
        # thread forward starts and joins before returning is gone by now but ran unrecorded.
        started, self.starts_seen = thread_starts() - self.starts_seen, thread_starts()
        return {"ops": self.rec.summary(), "threads": max(python_threads(), 1 + started),
                "denied": dict(self.policy.denied) if self.policy is not None else {},
                "target_compile": self.target.summary() if self.target is not None else []}

    def run(self) -> None:
        header, payload = channel.recv(self.rfd, self.max_payload)
        init = channel.decode_payload(payload)
        self.enforce = bool(header.get("enforce_runtime", True))
        self.rec.answer_dtypes = _dtypes(header.get("answer_dtypes"))
        self.counter = LaunchCounter(self.rec)
        self.target = target_compile.install(self.counter, str(header.get("compile_target") or "none"), self.device)
        import logging

        logging.currentframe = lambda: None  # a frame source outside the audit hook's view (findCaller copes)
        guard_operator_registry()
        freeze_modules()
        admit_guarded_modules()
        if self.enforce:
            self.rec.watch()  # from here to the end: no host view of tensor memory for the candidate's code
        self.modes = self.rec.modes()
        self.fingerprint = dispatch_fingerprint()
        self.tls = tls_state()
        self.starts_seen = thread_starts()
        private_tmp = os.environ.get("TMPDIR") if header.get("private_tmp") else None
        self.policy = arm_audit_hook(sandbox_root=header.get("sandbox_root"), cache_dir=os.environ.get("TRITON_CACHE_DIR"),
                                     allow_compilers=self.device == "cuda", tmp_dir=private_tmp,
                                     allow_ptxas=self.target is not None)
        self.stage = "load"
        mod = load_module(CAND_MODULE, "candidate.py", header["source"])
        if not hasattr(mod, "ModelNew"):
            self.send({"event": "error", "status": "compile_error", "error_type": "MissingModelNew",
                       "stage": "load", "log": "candidate defines no ModelNew"})
            return
        self.stage = "init"
        torch.manual_seed(int(header["seed"]))
        # Copies made by torch: a tensor decoded from the payload lives in the payload's memory (a storage torch
        # did not allocate), which forward's foreign-memory check would read as host memory.
        model = mod.ModelNew(*fresh_inputs(list(init["init_inputs"]), "cpu"))
        state = init["state_dict"]
        try:
            mine = model.state_dict()
            if set(mine) == set(state) and all(mine[k].shape == state[k].shape for k in state):
                model.load_state_dict(state)
        except Exception:
            pass
        model = model.to(self.device).eval()
        self.check_dispatcher()
        _reseed()  # nothing seen in __init__ predicts the randomness forward sees
        self.send({"event": "ready", **self.record()})
        while True:
            header, payload = channel.recv(self.rfd, self.max_payload)
            op = header.get("op")
            if op == "trial":
                self.stage = "forward"
                self.trial(model, channel.decode_payload(payload), bool(header.get("profile")),
                           [int(i) for i in header.get("grads") or []])
            elif op == "time":
                self.stage = "timing"
                self.time(model, channel.decode_payload(payload), int(header["warmup"]), int(header["reps"]))
            else:
                return

    def trial(self, model: Any, inp: list[Any], profile: bool, grad_idx: list[int]) -> None:
        assert self.counter is not None
        dev_inp = fresh_inputs(inp, self.device)
        grad_leaves(dev_inp, grad_idx)
        if self.device == "cuda":  # poison the caching allocator so unwritten outputs read as NaN
            torch.empty(64 * 1024 * 1024, dtype=torch.float32, device="cuda").fill_(float("nan"))
        self.check_dispatcher()  # nothing left active from the previous trial's backward
        self.rec.reset()
        self.rec.scalar_budget = scalar_read_budget(dev_inp)
        before, before_by_name = self.counter.count, dict(self.counter.by_name)
        kernels: list[str] | None = None
        with torch.set_grad_enabled(bool(grad_idx)):
            if profile:
                out, kernels = _profiled(lambda: self._forward(model, dev_inp))
            else:
                out = self._forward(model, dev_inp)
            sync_device(self.device)
        self.check_dispatcher()  # before the harness itself copies anything the candidate returned
        launches = self.counter.count - before
        launched = {k: v - before_by_name.get(k, 0) for k, v in self.counter.by_name.items() if v > before_by_name.get(k, 0)}
        outs = plain_outputs(out)
        posts = clone_to_cpu(dev_inp, trusted=False)
        if grad_idx:  # after the copies: what backward writes into forward's results is not judged
            self.stage = "backward"
            outs += input_grads(out, dev_inp, grad_idx)
            sync_device(self.device)
            self.check_dispatcher()
        # Recorded after backward (which runs outside the recorder, so the ops are forward's alone): a thread
        # started there to compute during the next forward is counted in this trial.
        rec = self.record()
        self.send({"event": "trial", "launches": launches, "kernel_launches": capped_counts(launched, MAX_KERNEL_NAMES),
                   "device_kernels": _kernel_counts(kernels), **rec}, channel.encode_payload({"outputs": outs, "post_inputs": posts}))

    def check_dispatcher(self) -> None:
        if dispatch_fingerprint() != self.fingerprint:
            if self.policy is not None:
                self.policy.denied["dispatcher"] += 1
            raise PermissionError("tritonforge sandbox: the candidate changed the kernels registered for built-in torch ops")
        if self.tls is not None and tls_state() != self.tls:
            # A Python dispatch key excluded (or the Python dispatcher switched on) in an unrecorded stretch
            # would take every op of the next forward out of the recorder's view.
            if self.policy is not None:
                self.policy.denied["dispatch_tls"] += 1
            raise PermissionError("tritonforge sandbox: the candidate changed torch's thread-local dispatch state")
        if torch._C._autograd._profiler_enabled():
            # A profiler the candidate started (in `__init__`, backward) would stand in for the harness's, or
            # keep it from starting: the foreign-kernel check would see only what the candidate let through.
            if self.policy is not None:
                self.policy.denied["profiler"] += 1
            raise PermissionError("tritonforge sandbox: a profiler was left running outside the harness's own")
        if not self._own_modes_only():
            # A mode the candidate entered and never left would run its code while the judge copies the
            # outputs (after forward, unrecorded), or sit under the recorder in the next trial; the
            # recorder's own function mode missing means host views could be made unseen.
            for _ in range(64):
                if not _active_torch_modes():
                    break
                _drop_torch_modes()
            if self.policy is not None:
                self.policy.denied["torch_mode"] += 1
            raise PermissionError("tritonforge sandbox: forward left a torch function/dispatch mode active")

    def _own_modes_only(self) -> bool:
        """Outside forward the mode stacks hold exactly what the harness put there: the recorder's function
        mode (when the runtime record is on) and no dispatch mode."""
        from torch.overrides import _get_current_function_mode_stack
        from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

        want = [self.rec.function_mode] if self.rec.function_mode is not None else []
        fstack = _get_current_function_mode_stack()
        return (len(fstack) == len(want) and all(a is b for a, b in zip(fstack, want, strict=True))
                and not _get_current_dispatch_mode_stack())

    def _forward(self, model: Any, dev_inp: list[Any]) -> Any:
        if not self.enforce:
            return model(*dev_inp)
        with self.modes:
            return model(*dev_inp)

    def time(self, model: Any, inputs: list[Any], warmup: int, reps: int) -> None:
        """Time forward on the secret timing inputs, a fresh copy each call (made outside the timed region).
        The last call's output goes back to be judged, and every call must launch a candidate kernel."""
        from rewards.harness.timing import time_cuda

        assert self.counter is not None
        dev = to_device(inputs, "cuda")
        state: dict[str, Any] = {"args": fresh_inputs(dev, "cuda"), "out": None, "calls": 0}

        def prepare() -> None:
            state["args"] = fresh_inputs(dev, "cuda")

        def call() -> None:
            state["calls"] += 1
            state["out"] = model(*state["args"])

        before = self.counter.count
        with torch.no_grad():
            ms, method = time_cuda(call, warmup, reps, None, prepare=prepare)
            torch.cuda.synchronize()
        launched = self.counter.count - before
        self.check_dispatcher()
        outs = plain_outputs(state["out"])
        self.send({"event": "timed", "cand_ms": ms, "timing_method": method,
                   "launches_per_call": launched / max(1, state["calls"])}, channel.encode_payload(outs))


def _active_torch_modes() -> int:
    from torch.overrides import _get_current_function_mode_stack
    from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

    return len(_get_current_function_mode_stack()) + len(_get_current_dispatch_mode_stack())


def _drop_torch_modes() -> None:
    from torch._C import _pop_torch_function_stack
    from torch.utils._python_dispatch import _pop_mode

    try:
        _pop_torch_function_stack()
    except Exception:
        pass
    try:
        _pop_mode()
    except Exception:
        pass


def _dtypes(names: Any) -> frozenset[torch.dtype]:
    """torch dtypes from their names as the reference reported them ("torch.float16"); unknown names dropped."""
    out = set()
    for n in names or []:
        d = getattr(torch, str(n).removeprefix("torch."), None)
        if isinstance(d, torch.dtype):
            out.add(d)
    return frozenset(out)


def _reseed() -> None:
    import random

    torch.manual_seed(secrets.randbits(62))
    random.seed(secrets.randbits(62))
    try:
        import numpy as np

        np.random.seed(secrets.randbits(32))
    except Exception:
        pass


def _profiled(fn: Any) -> tuple[Any, list[str] | None]:
    """CUDA only: run `fn` under the profiler and return the names of the device kernels it launched.
    A profiler that cannot start leaves the list None (reported); an error of `fn` itself propagates."""
    try:
        from torch.profiler import ProfilerActivity, profile

        prof = profile(activities=[ProfilerActivity.CUDA])
        prof.__enter__()
    except Exception:
        return fn(), None
    try:
        out = fn()
        torch.cuda.synchronize()
    finally:
        try:
            prof.__exit__(None, None, None)
        except Exception:
            pass
    names = []
    try:
        for ev in prof.events():
            if str(getattr(ev, "device_type", "")).endswith("CUDA"):
                names.append(ev.name)
    except Exception:
        return out, None
    return out, names


MAX_KERNEL_NAMES = 512


def _kernel_counts(names: list[str] | None) -> dict[str, int] | None:
    """Launches per device kernel name in one forward, for the foreign-kernel check (autotuning benchmarks
    every config many times on the first call: the full list outgrew the report), capped like the report's
    tables."""
    if names is None:
        return None
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return capped_counts(counts, MAX_KERNEL_NAMES)


def run_candidate(rfd: int, wfd: int, device: str, max_payload: int) -> None:
    """Body of the candidate process. Always ends in os._exit; reports only through `wfd`."""
    import gc

    h = _Harness(rfd, wfd, device, max_payload)
    try:
        gc.disable()  # no finalizer of the candidate's runs at a moment chosen by the collector, unrecorded
        torch.set_num_threads(1)
        h.run()
    except channel.ChannelError:
        pass  # the supervisor went away: nothing to report to
    except BaseException as e:  # the candidate's own failure, including SystemExit/KeyboardInterrupt
        tb = traceback.format_exc()
        status = classify(e, h.stage, bool(h.counter and h.counter.failed_in_kernel))
        try:
            h.send({"event": "error", "status": status, "error_type": type(e).__name__, "stage": h.stage,
                    "log": tb[-6000:], **h.record()})
        except BaseException:
            os._exit(3)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
    os._exit(0)
