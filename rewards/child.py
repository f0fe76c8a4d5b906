"""Code that runs inside forked sandbox children. Two roles:

* reference process (one per task group, trusted task code, forked before any candidate code exists
  anywhere in its ancestry): draws the trial inputs from secret seeds (a CSPRNG, unrelated to the init
  seed), runs `Model` (twice on the first trial, with memory scribbled in between, to catch references
  that are not reproducible), keeps the outputs in its own memory, and later judges each candidate's
  outputs against them. Reference outputs never leave this process.
* candidate harness (`run_candidate`, one per candidate, in the isolated process, below the trusted
  supervisor of `rewards.supervisor`): receives the constructor inputs and weights, loads the candidate,
  builds `ModelNew`, reseeds every RNG from a CSPRNG, then receives each trial's inputs only when that
  trial runs and sends back outputs plus the runtime record of what executed (`rewards.guard`). It never
  writes a report file: whatever the candidate writes to disk is ignored.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import traceback
from typing import Any

import torch

from rewards import channel
from rewards.guard import (
    CAND_MODULE,
    LaunchCounter,
    OpRecorder,
    arm_audit_hook,
    dispatch_fingerprint,
    freeze_modules,
    guard_operator_registry,
    python_threads,
)

REF_MODULE = "tf_reference"
INPUTS_FILE = "inputs.pt"
COMPILE_ERRORS = {"CompilationError", "CompileTimeAssertionFailure", "UnsupportedLanguageConstruct", "PTXASError", "OutOfResources"}
MAX_OUTPUT_BYTES = 1 << 34
MAX_LEAVES = 4096  # tensors/scalars in one forward's result: far above any benchmark's, far below a DoS


def load_module(name: str, path: str, src: str | None = None) -> Any:
    """Import a source file under a fixed module name.

    Triton reads kernel source through `inspect`/linecache, so the file's lines are put in linecache
    under the path as given.
    """
    import linecache
    import types

    if src is None:
        with open(path) as f:
            src = f.read()
    linecache.cache[path] = (len(src), None, src.splitlines(True), path)
    mod = types.ModuleType(name)
    mod.__file__ = path
    sys.modules[name] = mod
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod


def _to(obj: Any, device: str) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(o, device) for o in obj)
    return obj


def _clone_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, (list, tuple)):
        return [_clone_cpu(o) for o in obj]
    return obj


def _fresh(inp: list[Any], device: str) -> list[Any]:
    return _to([x.clone() if isinstance(x, torch.Tensor) else x for x in inp], device)


def _mutates(before: list[Any], after: list[Any]) -> bool:
    """Whether the reference wrote into any of its tensor inputs (an in-place task compares those)."""
    for b, a in zip(before, after, strict=False):
        if isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor) and (
                b.shape != a.shape or not torch.equal(b.to(a.dtype), a)):
            return True
    return False


def _nbytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(o) for o in obj)
    return 64


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _scribble(device: str) -> None:
    """Fill freed memory with NaN so a reference that reads uninitialised memory shows it on rerun."""
    try:
        junk = torch.empty(16 * 1024 * 1024, dtype=torch.float32, device=device)
        junk.fill_(float("nan"))
        del junk
    except Exception:
        pass


def plain_outputs(out: Any, trusted: bool = False) -> list[Any]:
    """Forward's outputs as plain CPU data (a flat list of leaves) the judge loads with weights_only.

    Only exact built-in containers (tuple, list, dict) are walked and only plain dense tensors and Python
    scalars are accepted: a subclass could run candidate code here, after forward, where no recorder
    watches it, and a kernel's result is a dense tensor anyway."""
    leaves: list[Any] = []

    def walk(o: Any, depth: int) -> None:
        if depth > 32:
            raise TypeError("forward returned a structure nested too deeply")
        if len(leaves) > MAX_LEAVES:
            raise TypeError(f"forward returned more than {MAX_LEAVES} values")
        t = type(o)
        if t is torch.Tensor or t is torch.nn.Parameter:
            if o.layout != torch.strided:
                raise TypeError(f"forward returned a {o.layout} tensor; return a dense (strided) tensor")
            leaves.append(o.detach().to("cpu", copy=True))
        elif t in (tuple, list) or (trusted and isinstance(o, (tuple, list))):
            for x in o:
                walk(x, depth + 1)
        elif t is dict:
            for k in sorted(o, key=repr):
                walk(o[k], depth + 1)
        elif o is None or t in (bool, int, float, complex, str):
            leaves.append(o)
        elif isinstance(o, torch.Tensor):
            raise TypeError(f"forward returned a tensor subclass ({t.__name__}); return a plain tensor")
        else:
            raise TypeError(f"forward returned an unsupported value of type {t.__name__}")

    walk(out, 0)
    return leaves


# --------------------------------------------------------------------------------------------- reference
class ReferenceRun:
    """Holds the reference outputs for one task group and judges candidates against them."""

    def __init__(self, ref_path: str, group_dir: str, seed: int, trials: int, device: str) -> None:
        torch.set_num_threads(1)
        mod = load_module(REF_MODULE, ref_path)
        get_init = getattr(mod, "get_init_inputs", lambda: [])
        torch.manual_seed(seed)
        init_inputs = list(get_init())
        torch.manual_seed(seed)
        model = mod.Model(*init_inputs).to(device).eval()
        self.device = device
        self.model = model
        self.inputs: list[list[Any]] = []
        self.outputs: list[list[Any]] = []
        self.post_inputs: list[list[Any]] = []
        self.nondeterministic: str | None = None
        for _ in range(trials):
            torch.manual_seed(secrets.randbits(62))  # secret: nothing the candidate sees predicts it
            self.inputs.append(_clone_cpu(list(mod.get_inputs())))
        # On CUDA the candidate is timed on one more secret input set, never seen in a trial, and what its
        # last timed call returned is judged too: a forward that replays cached answers gains nothing.
        self.timing_inputs: list[Any] | None = None
        self.timing_output: list[Any] | None = None
        if device == "cuda":
            torch.manual_seed(secrets.randbits(62))
            self.timing_inputs = _clone_cpu(list(mod.get_inputs()))
        path = os.path.join(group_dir, INPUTS_FILE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)  # supervisors only
        with torch.no_grad():
            for inp in self.inputs:
                dev_inp = _fresh(inp, device)
                out = model(*dev_inp)
                _sync(device)
                self.outputs.append(plain_outputs(out, trusted=True))
                self.post_inputs.append(_clone_cpu(dev_inp))
            self._check_determinism()
            if self.timing_inputs is not None:
                self.timing_output = plain_outputs(model(*_fresh(self.timing_inputs, device)), trusted=True)
        # What one trial's honest answer weighs: supervisors refuse frames far larger than that.
        trial_bytes = max(_nbytes(o) + _nbytes(p) for o, p in zip(self.outputs, self.post_inputs, strict=True))
        with os.fdopen(fd, "wb") as f:
            torch.save({"init_inputs": _clone_cpu(init_inputs),
                        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                        "inputs": self.inputs, "seed": seed, "trial_bytes": trial_bytes,
                        "timing_inputs": self.timing_inputs}, f)

    def _check_determinism(self) -> None:
        from rewards.compare import compare_outputs

        _scribble(self.device)
        dev_inp = _fresh(self.inputs[0], self.device)
        again = plain_outputs(self.model(*dev_inp), trusted=True)
        _sync(self.device)
        cmp = compare_outputs(self.outputs[0], again, None, None, "reference rerun")
        if not cmp.ok:
            self.nondeterministic = cmp.reason or "reference outputs differ between two runs on the same inputs"

    def time_reference(self, warmup: int, reps: int, lock_dir: str | None) -> tuple[float | None, str | None]:
        if self.device != "cuda":
            return None, None
        from rewards.timing import time_cuda

        inp = _to(self.timing_inputs or self.inputs[0], "cuda")
        with torch.no_grad():
            return time_cuda(lambda: self.model(*inp), warmup, reps, lock_dir)

    def time_compiled_reference(self, warmup: int, reps: int, lock_dir: str | None) -> float | None:
        """torch.compile baseline (Inductor), timed like eager; None where compilation fails."""
        if self.device != "cuda":
            return None
        from rewards.timing import time_cuda

        try:
            compiled = torch.compile(self.model)
            inp = _to(self.timing_inputs or self.inputs[0], "cuda")
            with torch.no_grad():
                compiled(*inp)  # compile outside the timed region
                ms, _ = time_cuda(lambda: compiled(*inp), warmup, reps, lock_dir)
            return ms
        except Exception:
            return None

    def judge(self, outputs_path: str, sha256: str | None, atol: float | None, rtol: float | None) -> dict[str, Any]:
        """Compare a candidate's outputs. Any failure here is that candidate's verdict, never the group's."""
        try:
            return self._judge(outputs_path, sha256, atol, rtol)
        except Exception as e:
            return {"ok": False, "max_abs_err": None, "reason": f"candidate outputs could not be compared ({type(e).__name__}: {str(e)[:300]})"}

    def _judge(self, outputs_path: str, sha256: str | None, atol: float | None, rtol: float | None) -> dict[str, Any]:
        import io

        from rewards.compare import compare_outputs
        from rewards.isolation import read_untrusted

        raw = read_untrusted(outputs_path, MAX_OUTPUT_BYTES)
        if raw is None:
            return {"ok": False, "max_abs_err": None, "reason": "candidate outputs missing"}
        if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
            return {"ok": False, "max_abs_err": None, "reason": "candidate outputs were altered after the supervisor wrote them"}
        try:
            data = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
            outs, posts = data["outputs"], data["post_inputs"]
        except Exception as e:
            return {"ok": False, "max_abs_err": None, "reason": f"unreadable candidate outputs ({type(e).__name__})"}
        if len(outs) != len(self.outputs) or len(posts) != len(self.post_inputs):
            return {"ok": False, "max_abs_err": None, "reason": "candidate reported a different number of trials"}
        worst = 0.0
        mutated = any(_mutates(self.inputs[t], self.post_inputs[t]) for t in range(len(self.inputs)))
        for t, (ref_o, cand_o) in enumerate(zip(self.outputs, outs, strict=True)):
            # a task that returns nothing and writes nothing would accept anything
            cmp = compare_outputs(ref_o, cand_o, atol, rtol, f"trial {t} output", require_nonempty=not mutated)
            if not cmp.ok:
                return {"ok": False, "max_abs_err": cmp.max_abs_err, "reason": cmp.reason}
            worst = max(worst, cmp.max_abs_err or 0.0)
        timed = data.get("timing_outputs") if isinstance(data, dict) else None
        if self.timing_output is not None and timed is not None:
            cmp = compare_outputs(self.timing_output, timed, atol, rtol, "last timed call's output")
            if not cmp.ok:
                return {"ok": False, "max_abs_err": cmp.max_abs_err, "reason": "while being timed: " + cmp.reason}
        for t, (ref_p, cand_p) in enumerate(zip(self.post_inputs, posts, strict=True)):
            ref_t = [x for x in ref_p if isinstance(x, torch.Tensor)]
            cmp = compare_outputs(ref_t, [x for x in cand_p if isinstance(x, torch.Tensor)], atol, rtol, f"trial {t} input")
            if not cmp.ok:
                return {"ok": False, "max_abs_err": worst, "reason": "candidate mutated its inputs: " + cmp.reason}
        return {"ok": True, "max_abs_err": worst, "reason": ""}


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


class _Harness:
    def __init__(self, rfd: int, wfd: int, device: str, max_payload: int) -> None:
        self.rfd, self.wfd, self.device, self.max_payload = rfd, wfd, device, max_payload
        self.enforce = True
        self.rec = OpRecorder()
        self.counter: LaunchCounter | None = None
        self.policy: Any = None
        self.stage = "setup"

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        channel.send(self.wfd, header, payload)

    def record(self) -> dict[str, Any]:
        return {"ops": self.rec.summary(), "threads": python_threads(),
                "denied": dict(self.policy.denied) if self.policy is not None else {}}

    def run(self) -> None:
        header, payload = channel.recv(self.rfd, self.max_payload)
        init = channel.decode_payload(payload)
        self.enforce = bool(header.get("enforce_runtime", True))
        self.counter = LaunchCounter(self.rec)
        import logging

        logging.currentframe = lambda: None  # a frame source outside the audit hook's view (findCaller copes)
        guard_operator_registry()
        freeze_modules()
        self.fingerprint = dispatch_fingerprint()
        private_tmp = os.environ.get("TMPDIR") if header.get("private_tmp") else None
        self.policy = arm_audit_hook(sandbox_root=header.get("sandbox_root"), cache_dir=os.environ.get("TRITON_CACHE_DIR"),
                                     allow_compilers=self.device == "cuda", tmp_dir=private_tmp)
        self.stage = "load"
        mod = load_module(CAND_MODULE, "candidate.py", header["source"])
        if not hasattr(mod, "ModelNew"):
            self.send({"event": "error", "status": "compile_error", "error_type": "MissingModelNew",
                       "stage": "load", "log": "candidate defines no ModelNew"})
            return
        self.stage = "init"
        torch.manual_seed(int(header["seed"]))
        model = mod.ModelNew(*init["init_inputs"])
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
                self.trial(model, channel.decode_payload(payload), bool(header.get("profile")))
            elif op == "time":
                self.stage = "timing"
                self.time(model, channel.decode_payload(payload), int(header["warmup"]), int(header["reps"]))
            else:
                return

    def trial(self, model: Any, inp: list[Any], profile: bool) -> None:
        assert self.counter is not None
        dev_inp = _fresh(inp, self.device)
        if self.device == "cuda":  # poison the caching allocator so unwritten outputs read as NaN
            torch.empty(64 * 1024 * 1024, dtype=torch.float32, device="cuda").fill_(float("nan"))
        self.rec.reset()
        before = self.counter.count
        kernels: list[str] | None = None
        with torch.no_grad():
            if profile:
                out, kernels = _profiled(lambda: self._forward(model, dev_inp))
            else:
                out = self._forward(model, dev_inp)
            _sync(self.device)
        self.check_dispatcher()  # before the harness itself copies anything the candidate returned
        launches = self.counter.count - before
        rec = self.record()
        outs = plain_outputs(out)
        posts = _clone_cpu(dev_inp)
        self.send({"event": "trial", "launches": launches, "kernel_names": sorted(self.counter.names),
                   "device_kernels": kernels, **rec}, channel.encode_payload({"outputs": outs, "post_inputs": posts}))

    def check_dispatcher(self) -> None:
        if dispatch_fingerprint() != self.fingerprint:
            if self.policy is not None:
                self.policy.denied["dispatcher"] += 1
            raise PermissionError("tritonforge sandbox: the candidate changed the kernels registered for built-in torch ops")

    def _forward(self, model: Any, dev_inp: list[Any]) -> Any:
        if not self.enforce:
            return model(*dev_inp)
        with self.rec.modes():
            return model(*dev_inp)

    def time(self, model: Any, inputs: list[Any], warmup: int, reps: int) -> None:
        """Time forward on the secret timing inputs, a fresh copy each call (made outside the timed region).
        The last call's output goes back to be judged, and every call must launch a candidate kernel."""
        from rewards.timing import time_cuda

        assert self.counter is not None
        dev = _to(inputs, "cuda")
        state: dict[str, Any] = {"args": _fresh(dev, "cuda"), "out": None, "calls": 0}

        def prepare() -> None:
            state["args"] = _fresh(dev, "cuda")

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
