"""Code that runs inside forked sandbox children: what both roles share (loading a module, moving
tensors, a forward's outputs as plain data) and the candidate harness. The two roles:

* reference process (one per task group, trusted task code, forked before any candidate code exists
  anywhere in its ancestry): `rewards.oracle.reference_run`.
* candidate harness (`run_candidate`, one per candidate, in the isolated process, below the trusted
  supervisor of `rewards.sandbox.supervisor`): receives the constructor inputs and weights, loads the candidate,
  builds `ModelNew`, reseeds every RNG from a CSPRNG, then receives each trial's inputs only when that
  trial runs and sends back outputs plus the runtime record of what executed (`rewards.harness.guard`). It never
  writes a report file: whatever the candidate writes to disk is ignored.
"""

from __future__ import annotations

import collections
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
from rewards.harness.guard import OpRecorder
from rewards.harness.launch_counter import LaunchCounter
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
PLAIN_KEYS = (str, int, float, bool, type(None))  # dict keys in a candidate's result: no code of its own
# Values an input may hold after forward besides tensors and containers (what `decode_payload` can give).
PLAIN_VALUES = (type(None), bool, int, float, complex, str, torch.dtype, torch.device)
# Bound once, before candidate code exists. The harness copies what forward returned and left in its inputs
# through these, never `t.detach()`: a tensor has a `__dict__` and `Tensor.detach` is a non-data
# descriptor, so `out.detach = f` (no audit event) would run the candidate's `f` there, after forward and
# unrecorded, and whatever `f` computed in torch would be copied as the answer.
_DETACH, _TENSOR_TO = torch.Tensor.detach, torch.Tensor.to
_EXACT_TENSORS = (torch.Tensor, torch.nn.Parameter)


def _copy_cpu(t: torch.Tensor) -> torch.Tensor:
    """A CPU copy of a tensor of an exact type (checked by the caller), no method looked up on `t`."""
    return _TENSOR_TO(_DETACH(t), "cpu", copy=True)
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
        return _rebuilt(obj, [_to(o, device) for o in obj])
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def _rebuilt(seq: list | tuple, items: list[Any]) -> Any:
    """`seq`'s type holding `items`: a namedtuple takes them as fields, a list/tuple (or torch.Size) as one."""
    if type(seq) in (list, tuple):
        return type(seq)(items)
    return type(seq)(*items) if hasattr(seq, "_fields") else type(seq)(items)


def _clone_cpu(obj: Any, trusted: bool = True) -> Any:
    """CPU copies of the tensors in `obj` (lists and tuples walked).

    `trusted=False` (a candidate's inputs after its forward): only exact tensor types and containers and
    the plain values inputs are made of. Forward can re-class an input tensor (torch's own
    `UninitializedTensorMixin.materialize` assigns `__class__` for whoever calls it) or put an object of
    its own into an input list or dict; the copy (a subclass's `__torch_function__`) or the pickling of the
    result (`__reduce_ex__`) would then run its code after forward, unrecorded."""
    if not trusted:
        return _clone_untrusted(obj, 0)
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if type(obj) in (tuple, torch.Size):  # kept as they are (both survive weights_only loading): a task's
        return type(obj)(_clone_cpu(o) for o in obj)  # torch.Size input reached the candidate as a list
    if isinstance(obj, (list, tuple)):
        return [_clone_cpu(o) for o in obj]
    return obj


def _clone_untrusted(obj: Any, depth: int) -> Any:
    t = type(obj)
    if depth > 32:
        raise TypeError("an input is nested too deeply")
    if t in _EXACT_TENSORS:
        return _copy_cpu(obj)
    if t in (list, tuple, torch.Size):  # torch.Size: a C type, as a task's input hands it
        return [_clone_untrusted(o, depth + 1) for o in obj]
    if t is dict and all(type(k) in PLAIN_KEYS for k in obj):
        return {k: _clone_untrusted(v, depth + 1) for k, v in obj.items()}
    if t in PLAIN_VALUES:
        return obj
    raise TypeError(f"forward left an input holding a {t.__name__}; inputs hold plain tensors and values")


def _fresh(inp: list[Any], device: str) -> list[Any]:
    """A call's own copies of `inp`'s tensors, nested ones too (an input may be a list of tensors: a
    foreach-style in-place update). Cloning only the top level let a CPU reference write into the very
    tensors it keeps as the trial's inputs, which the candidate then received already updated."""
    def fresh(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.clone()
        if isinstance(x, (list, tuple, dict)) and not input_tensors(x):
            return x  # a torch.Size, a namedtuple of numbers: nothing to copy, and kept as it is
        if isinstance(x, (list, tuple)):
            return _rebuilt(x, [fresh(o) for o in x])
        if isinstance(x, dict):
            return {k: fresh(v) for k, v in x.items()}
        return x

    return _to([fresh(x) for x in inp], device)


def input_tensors(obj: Any) -> list[torch.Tensor]:
    """The tensors among a call's inputs in a fixed order, nested ones included (a list of tensors updated
    in place is an answer as much as a top-level tensor is)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in input_tensors(o)]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in input_tensors(v)]
    return []


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _result_leaves(out: Any, trusted: bool) -> list[Any]:
    """The leaves of forward's result in judging order (dicts by key), uncopied: plain dense tensors and
    Python scalars. The one walk of a result, for its values (`plain_outputs`) and for its gradients
    (`input_grads`).

    Only exact built-in containers (tuple, list, dict or OrderedDict with str/int keys) are walked and only exact tensor
    types accepted: a subclass, or a key's `repr` while sorting, could run candidate code here, after
    forward, where no recorder watches it; a kernel's result is a dense tensor anyway."""
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
            leaves.append(o)
        elif t in (tuple, list) or (trusted and isinstance(o, (tuple, list))):
            for x in o:
                walk(x, depth + 1)
        elif t is dict or t is collections.OrderedDict or (trusted and isinstance(o, dict)):
            # OrderedDict: a C type of the stdlib, its iteration and lookups run no code of the candidate's
            bad = next((k for k in o if type(k) not in PLAIN_KEYS), None) if not trusted else None
            if bad is not None:  # sorting calls repr(key): a key of the candidate's class would run its code
                raise TypeError(f"forward returned a dict keyed by {type(bad).__name__}; use str or int keys")
            # the keys are part of the answer: without this leaf {"a": .., "b": ..} passed for {"neg": .., "pos": ..}
            leaves.append("dict keys " + repr(sorted(o, key=repr)))
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


def _is_tensor_leaf(o: Any) -> bool:
    return type(o) is torch.Tensor or type(o) is torch.nn.Parameter


def plain_outputs(out: Any, trusted: bool = False) -> list[Any]:
    """Forward's outputs as plain CPU data (a flat list of leaves) the judge loads with weights_only."""
    # not o.detach(): an instance attribute could shadow it
    return [_copy_cpu(o) if _is_tensor_leaf(o) else o for o in _result_leaves(out, trusted)]


def grad_leaves(dev_inp: list[Any], grad_idx: list[int]) -> None:
    """Make the inputs the task's test differentiates by (`grad_idx`, from the trusted reference) leaves
    that require grad, in place in `dev_inp`."""
    for i in grad_idx:
        x = dev_inp[i] if 0 <= i < len(dev_inp) else None
        if type(x) is torch.Tensor and x.is_floating_point():
            dev_inp[i] = x.detach().requires_grad_(True)


def input_grads(out: Any, dev_inp: list[Any], grad_idx: list[int], trusted: bool = False) -> list[Any]:
    """Gradients of forward's outputs with respect to the `grad_idx` inputs, as plain CPU values.

    The judge runs this, after forward's outputs and inputs were copied and outside the recorded forward:
    a backward that reduces with torch (`dy.sum(0)`, as the benchmarks' own autograd Functions do) is not
    a forward computed in torch, and a backward that writes into forward's results changes nothing judged.
    Each output gets a fixed pseudo-random cotangent (the same on both sides), so every element counts;
    an input no output depends on reads "no gradient" on both sides alike."""
    # The same walk as the values' (it already passed there): the float tensors that require grad.
    # requires_grad and dtype are attributes no instance entry can shadow.
    roots = [o for o in _result_leaves(out, trusted) if _is_tensor_leaf(o) and o.requires_grad
             and o.dtype.is_floating_point]
    leaves = [dev_inp[i] for i in grad_idx if 0 <= i < len(dev_inp) and type(dev_inp[i]) is torch.Tensor
              and dev_inp[i].requires_grad]
    if not roots or not leaves:
        return ["no gradient"] * len(grad_idx)
    cots = []
    for k, r in enumerate(roots):
        g = torch.Generator().manual_seed(1234 + k)
        cots.append(torch.randn(r.shape, generator=g, dtype=torch.float32).to(device=r.device, dtype=r.dtype))
    with torch.enable_grad():
        grads = torch.autograd.grad(roots, leaves, grad_outputs=cots, allow_unused=True)
    # A gradient may be the very tensor the candidate's backward returned: copied like forward's outputs.
    out: list[Any] = []
    for g in grads:
        if g is not None and not trusted and type(g) not in _EXACT_TENSORS:
            raise TypeError(f"backward produced a gradient of type {type(g).__name__}; return plain tensors")
        out.append(_copy_cpu(g) if g is not None else "no gradient")
    return out


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
        model = mod.ModelNew(*_fresh(list(init["init_inputs"]), "cpu"))
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
        dev_inp = _fresh(inp, self.device)
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
            _sync(self.device)
        self.check_dispatcher()  # before the harness itself copies anything the candidate returned
        launches = self.counter.count - before
        launched = {k: v - before_by_name.get(k, 0) for k, v in self.counter.by_name.items() if v > before_by_name.get(k, 0)}
        outs = plain_outputs(out)
        posts = _clone_cpu(dev_inp, trusted=False)
        if grad_idx:  # after the copies: what backward writes into forward's results is not judged
            self.stage = "backward"
            outs += input_grads(out, dev_inp, grad_idx)
            _sync(self.device)
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
