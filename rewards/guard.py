"""Runtime evidence, recorded inside the candidate process while its `ModelNew.forward` runs.

Static rules can never see every path to a PyTorch op (base classes, objects built in `__init__`,
containers of callables, builtins, numpy, torch code inside a jit body under the interpreter), so whether
the candidate's Triton kernels did the work is decided here, from what actually executed:

* `OpRecorder` pushes a `TorchFunctionMode` and a `TorchDispatchMode` for the duration of one forward.
  Every ATen op that executes is checked against `ALLOWED_ATEN` (allocation, views, copies, dtype/device
  moves, the bookkeeping real Triton wrappers do); anything else is a torch fallback. Tensor -> Python /
  numpy escapes (`tolist`, `numpy`, `__array__`, storage access) are refused outright, and scalar reads
  (`.item()`) are capped, so an answer cannot be computed in Python or numpy and copied in.
* Custom operators (`torch.library.custom_op` / `triton_op`) are not opaque: their Python body is run
  under a fresh recorder, so a `wrap_triton` launch counts and a torch op inside still shows.
* Under the Triton interpreter the recorder is suspended only inside the interpreter's own argument
  marshalling (host copies in and out), never while the kernel body runs: a tensor smuggled into a jit
  body as a constexpr and used with torch ops is recorded like any other.
* `LaunchCounter` counts launches of `@triton.jit` functions defined in the candidate module, per compiled
  kernel name, so that on CUDA every device kernel the profiler saw can be matched launch for launch.
* `initiator` tells whose code asked for something: the candidate's or torch/triton/the harness's.

The audit-hook policy armed before candidate code is loaded, the frozen modules and the operator-registry
guard are `rewards.audit`.

All of this runs in the process that executes untrusted code, so it is a layer, not the boundary: the
report it produces leaves through a pipe that only the harness holds (`rewards.channel`), and the
correctness of the outputs is judged in another process.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

CAND_MODULE = "tf_candidate"

# ATen ops (overload packet names) a Triton wrapper may execute: allocation, views, copies, dtype and
# device moves, metadata and scalar bookkeeping. Everything else computes.
ALLOWED_ATEN = frozenset({
    # allocation / fill with constants
    "empty", "empty_like", "empty_strided", "empty_permuted", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full", "fill",
    "fill_", "zero", "zero_", "arange", "scalar_tensor", "lift_fresh", "lift_fresh_copy", "resize_",
    "resize", "set_", "set",
    # views and layout
    "view", "_unsafe_view", "reshape", "_reshape_alias", "as_strided", "expand", "permute", "transpose",
    "t", "squeeze", "unsqueeze", "squeeze_", "unsqueeze_", "select", "slice", "narrow", "split",
    "split_with_sizes", "tensor_split", "chunk", "unbind", "unflatten", "flatten", "view_as", "movedim",
    "alias", "detach", "detach_", "contiguous", "expand_as", "broadcast_to", "swapaxes", "transpose_",
    "t_", "conj", "resolve_conj", "resolve_neg", "_conj", "real", "view_as_real", "view_as_complex",
    # copies and moves
    "clone", "copy", "copy_", "_to_copy", "to", "_copy_from", "_copy_from_and_resize", "cat", "stack",
    "_has_compatible_shallow_copy_type", "record_stream",
    # random draws: noise cannot compute a deterministic answer (random tasks are labelled nondeterministic)
    "randn", "rand", "randint", "randperm", "normal", "normal_", "uniform", "uniform_", "bernoulli",
    "bernoulli_", "random_", "randn_like", "rand_like", "randint_like", "exponential_", "geometric_",
    # metadata and scalars
    "sym_size", "sym_stride", "sym_numel", "sym_storage_offset", "is_contiguous", "_local_scalar_dense",
    "size", "stride", "numel", "dim", "is_same_size", "is_nonzero",
})
# Tensor methods (torch-function level) that move data out of torch where no op can see it.
DENIED_FUNCTIONS = frozenset({
    "tolist", "numpy", "__array__", "__array_wrap__", "__dlpack__", "untyped_storage", "storage",
    "_typed_storage", "__reduce_ex__", "__setstate__", "_make_subclass", "register_hook",
    # printing a tensor reads every value with the recorder's modes disabled (torch._tensor_str)
    "__repr__", "__str__", "__format__",
})
# Refused only when the candidate's own code calls them (Triton's launcher needs them).
DENIED_FROM_CANDIDATE = frozenset({"data_ptr", "storage_offset_ptr", "_cdata"})
MAX_SCALAR_READS = 64  # `.item()` per forward: enough for shapes and flags, far too few to compute an output
_ALLOWED_NAMESPACES = frozenset({"aten"})


class OpRecorder:
    """What one forward executed: forbidden ops, refused escapes, scalar reads (a plain record)."""

    def __init__(self) -> None:
        self.forbidden: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.scalar_reads = 0
        self.suspended = 0
        self.active = 0  # recorded regions (forward, custom-op bodies) currently open

    def reset(self) -> None:
        self.forbidden.clear()
        self.refused.clear()
        self.scalar_reads = 0

    def summary(self) -> dict[str, Any]:
        return {"forbidden": dict(self.forbidden), "refused": dict(self.refused), "scalar_reads": self.scalar_reads}

    def modes(self) -> _Modes:
        return _Modes(self)


class _FunctionMode(TorchFunctionMode):
    def __init__(self, rec: OpRecorder) -> None:
        super().__init__()
        self.rec = rec

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        name = getattr(func, "__name__", "")
        if not self.rec.suspended and (name in DENIED_FUNCTIONS or (
                name in DENIED_FROM_CANDIDATE and initiator(sys._getframe(1)) == "candidate")):
            self.rec.refused[name] += 1
            raise RuntimeError(f"tritonforge sandbox: Tensor.{name} is not allowed inside forward "
                               "(computing outside torch/Triton hides the work from the judge)")
        return func(*args, **(kwargs or {}))


class _DispatchMode(TorchDispatchMode):
    def __init__(self, rec: OpRecorder) -> None:
        super().__init__()
        self.rec = rec

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        rec = self.rec
        if rec.suspended:
            return func(*args, **kwargs)
        packet = func.overloadpacket.__name__
        namespace = getattr(func, "namespace", "aten")
        if namespace not in _ALLOWED_NAMESPACES:
            body = _custom_op_body(func)
            if body is None:
                rec.forbidden[f"{namespace}::{packet}"] += 1
                return func(*args, **kwargs)
            with _Modes(rec):  # run the custom op's Python body where it can be seen
                return body(*args, **kwargs)
        if packet not in ALLOWED_ATEN:
            rec.forbidden[f"aten::{packet}"] += 1
        elif packet == "_local_scalar_dense":
            rec.scalar_reads += 1
            if rec.scalar_reads > MAX_SCALAR_READS:
                rec.forbidden["aten::_local_scalar_dense (too many .item() reads)"] += 1
        return func(*args, **kwargs)


def _custom_op_body(func: Any) -> Any:
    """The Python implementation behind a `torch.library.custom_op`/`triton_op`, or None."""
    try:
        from torch._library.custom_ops import OPDEFS

        opdef = OPDEFS.get(f"{func.namespace}::{func.overloadpacket.__name__}")
        return getattr(opdef, "_init_fn", None)
    except Exception:
        return None


class _Modes:
    """Both modes for one region (function mode outermost, as torch expects)."""

    def __init__(self, rec: OpRecorder) -> None:
        self.fm, self.dm = _FunctionMode(rec), _DispatchMode(rec)

    def __enter__(self) -> _Modes:
        rec = self.fm.rec
        rec.suspended += 1  # pushing our own modes is not the candidate switching the recorder off
        try:
            self.fm.__enter__()
            self.dm.__enter__()
        finally:
            rec.suspended -= 1
        rec.active += 1
        return self

    def __exit__(self, *exc: object) -> None:
        rec = self.fm.rec
        rec.active -= 1
        rec.suspended += 1
        try:
            self.dm.__exit__(*exc)
            self.fm.__exit__(*exc)
        finally:
            rec.suspended -= 1


class LaunchCounter:
    """Counts launches of @triton.jit kernels whose source lives in the candidate module.

    Patched on the classes (JITFunction.run, InterpretedFunction.run), so kernels defined anywhere in the
    candidate, wrapped by autotune/heuristics or not, are seen, on GPU and under the interpreter alike.
    A launch counts only when its grid holds at least one program (`kernel[(0,)](...)` proves nothing).
    Kernel arguments must be plain data (exact tensors, tuples, numbers, strings, dtypes, jit functions):
    Triton calls methods of its arguments while it marshals them, and an argument object of the
    candidate's own type would run candidate code there. Only Triton's argument marshalling under the
    interpreter and the autotuner's benchmarking (whose winning config is then launched, recorded) run
    with the recorder suspended.
    """

    def __init__(self, rec: OpRecorder) -> None:
        self.count = 0
        # launches per compiled kernel name; the foreign-kernel check compares counts, not names, so a
        # kernel named like a vendor library's (or renamed after compiling) cannot vouch for one
        self.by_name: dict[str, int] = {}
        self.failed_in_kernel = False  # an exception escaped a candidate kernel launch (build/JIT errors)
        # called with (kernel, args, kwargs) before each candidate launch: `rewards.target_compile` on CPU
        # compiles it for the GPU target there and raises what the GPU would
        self.before_launch: Any = None
        self.rec = rec
        self._install()

    def _install(self) -> None:
        from triton.runtime import jit as _jit

        classes: list[type] = [_jit.JITFunction]
        try:
            from triton.runtime.interpreter import InterpretedFunction

            classes.append(InterpretedFunction)
            _suspend_interpreter_marshalling(self.rec)
        except ImportError:
            pass
        _suspend_autotune_benchmarking(self.rec)
        counter = self
        try:
            from triton.compiler.compiler import CompiledKernel
        except ImportError:  # pragma: no cover - every Triton this runs on has it
            CompiledKernel = None
        for cls in classes:
            orig = cls.run
            # On a GPU a launch hands back the kernel it ran; None (a `jit_cache_hook` that skipped the
            # compile) or anything else launched nothing that the count could stand for.
            compiled = CompiledKernel if cls is _jit.JITFunction else None

            def run(self, *args, __orig=orig, __compiled=compiled, **kwargs):  # noqa: ANN001
                fn = getattr(self, "fn", None)
                mine = getattr(fn, "__module__", None) == CAND_MODULE
                if "warmup" in kwargs and type(kwargs["warmup"]) is not bool:
                    # asked once, here: an object whose truth flips would tell Triton "warmup" (nothing
                    # launched) and the count "launch"
                    kwargs["warmup"] = bool(kwargs["warmup"])
                warmup = kwargs.get("warmup", False)
                if mine and not counter.rec.suspended:
                    check_kernel_args(args, kwargs)
                programs: list[int] = []
                if "grid" in kwargs:
                    kwargs["grid"] = _grid_probe(kwargs["grid"], programs)
                try:
                    if mine and counter.before_launch is not None:
                        counter.before_launch(self, args, kwargs)
                    out = __orig(self, *args, **kwargs)
                except BaseException:
                    counter.failed_in_kernel = counter.failed_in_kernel or mine
                    raise
                if mine and not warmup and programs and programs[-1] > 0 and (
                        __compiled is None or type(out) is __compiled):
                    counter.count += 1
                    name = _compiled_name(self, out, fn)
                    counter.by_name[name] = counter.by_name.get(name, 0) + 1
                return out

            cls.run = run


def _compiled_name(jit: Any, out: Any, fn: Any) -> str:
    """The name the device knows a launched kernel by: the compiled kernel's own (Triton names it after
    `repr`/the function, not necessarily `fn.__name__`), else the JIT function's."""
    name = getattr(getattr(out, "metadata", None), "name", None)
    if type(name) is not str:
        name = getattr(jit, "__name__", None)
    if type(name) is not str:
        name = getattr(fn, "__name__", "?")
    return name if type(name) is str else "?"


def _plain_grid(g: Any) -> tuple[int, ...]:
    """A grid as a plain tuple of plain ints: what is counted is exactly what Triton is handed (a tuple
    subclass could iterate as (1,) for the count and index as (0,) for the launch: counted, never run)."""
    import operator

    if isinstance(g, tuple):
        items = [tuple.__getitem__(g, i) for i in range(tuple.__len__(g))]
    elif isinstance(g, list):
        items = [list.__getitem__(g, i) for i in range(list.__len__(g))]
    else:
        items = [g]
    return tuple(int.__int__(operator.index(d)) for d in items)  # int.__int__: an exact int, whatever __int__ says


_MAX_LAUNCHED_PROGRAMS = 2**31 - 1


def _grid_probe(grid: Any, programs: list[int]) -> Any:
    """Record how many programs a launch's grid asks for (a callable grid is wrapped, not called twice)
    and hand Triton the very grid that was counted."""

    def size(g: tuple[int, ...]) -> int:
        n = 1
        for d in g:
            if d < 1:  # a grid with no program (a negative dimension ran none under the interpreter)
                return 0
            n *= d
        # Triton's CUDA launcher multiplies the grid in C ints and launches only when that product is > 0:
        # (65536, 65536) wraps to 0 there, no kernel runs, and a count for it would cover a foreign one.
        return n if n <= _MAX_LAUNCHED_PROGRAMS else 0

    if callable(grid):
        def probe(meta: Any) -> Any:
            g = _plain_grid(grid(meta))
            programs.append(size(g))
            return g

        return probe
    g = _plain_grid(grid)
    programs.append(size(g))
    return g


def check_kernel_args(args: tuple, kwargs: dict[str, Any]) -> None:
    """Refuse kernel arguments Triton would call candidate code on while marshalling them."""
    import torch
    from triton.runtime.jit import JITFunction, TensorWrapper

    try:
        from triton.runtime.interpreter import InterpretedFunction
        fn_types: tuple[type, ...] = (JITFunction, InterpretedFunction)
    except ImportError:
        fn_types = (JITFunction,)
    try:
        import triton.language as tl
        dtype_types: tuple[type, ...] = (torch.dtype, tl.dtype)
        constexpr = tl.constexpr
    except Exception:
        dtype_types, constexpr = (torch.dtype,), None

    def ok(v: Any, depth: int) -> bool:
        t = type(v)
        if t is torch.Tensor or t is torch.nn.Parameter or t is TensorWrapper:
            return t is not TensorWrapper or type(v.base) in (torch.Tensor, torch.nn.Parameter)
        if v is None or t in (int, float, bool, str):
            return True
        if t in (tuple, list):
            return depth < 4 and all(ok(x, depth + 1) for x in v)
        if constexpr is not None and t is constexpr:
            return ok(v.value, depth + 1)
        return isinstance(v, dtype_types + fn_types)

    for i, v in enumerate(args):
        if not ok(v, 0):
            raise TypeError(f"kernel argument {i} has type {type(v).__name__}: pass tensors, numbers, strings or dtypes")
    for k, v in kwargs.items():
        if k in ("grid", "warmup"):
            continue
        if not ok(v, 0):
            raise TypeError(f"kernel argument {k!r} has type {type(v).__name__}: pass tensors, numbers, strings or dtypes")


def _suspended(rec: OpRecorder, fn: Any) -> Any:
    def wrapper(*a: Any, **k: Any) -> Any:
        # Only Triton's own launch path suspends: forward calling `GridExecutor._init_args_hst` itself, with
        # an argument whose `untyped_storage` is a `functools.partial(torch.clamp, x, out=y)`, had Triton's
        # marshalling run the candidate's torch compute unrecorded (no candidate frame to tell it by).
        if initiator(sys._getframe(1)) != "trusted":
            return fn(*a, **k)
        rec.suspended += 1
        try:
            return fn(*a, **k)
        finally:
            rec.suspended -= 1

    return wrapper


def _suspend_interpreter_marshalling(rec: OpRecorder) -> None:
    """The interpreter copies kernel arguments to host storages and back with torch ops of its own."""
    from triton.runtime import interpreter as it

    it.GridExecutor._init_args_hst = _suspended(rec, it.GridExecutor._init_args_hst)
    it.GridExecutor._restore_args_dev = _suspended(rec, it.GridExecutor._restore_args_dev)
    it._implicit_cvt = _suspended(rec, it._implicit_cvt)


def _suspend_autotune_benchmarking(rec: OpRecorder) -> None:
    """Autotuning times every config with torch bookkeeping (quantiles, means); the config it picks is
    then launched for real, hooks included, with the recorder on."""
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return
    if hasattr(Autotuner, "_bench"):
        Autotuner._bench = _suspended(rec, Autotuner._bench)


_TRUSTED_ROOTS = frozenset({"torch", "triton", "rewards"})


def initiator(frame: Any) -> str | None:
    """Who asked for what happens in `frame`: walking outwards past standard-library and other helper
    frames (functools, typing, logging, numpy... act on someone's behalf), the first frame that is the
    candidate's ("candidate") or torch/triton/the harness ("trusted"); None when neither is on the stack."""
    root = initiator_root(frame)
    return None if root is None else ("candidate" if root == CAND_MODULE else "trusted")


def initiator_root(frame: Any) -> str | None:
    """Like `initiator`, but names the deciding party: CAND_MODULE, or "torch" / "triton" / "rewards"."""
    f = frame
    while f is not None:
        name = f.f_globals.get("__name__", "") or ""
        if name == CAND_MODULE or f.f_code.co_filename == "candidate.py":
            return CAND_MODULE
        root = name.split(".")[0]
        if root in _TRUSTED_ROOTS:
            return root
        f = f.f_back
    return None


def python_threads() -> int:
    """Threads running Python code; a helper thread could compute outside the recorder (modes are per thread)."""
    return len(sys._current_frames())


_THREAD_STARTS = [0]


def thread_starts() -> int:
    """Python threads the candidate started since `count_thread_starts` (alive or long gone)."""
    return _THREAD_STARTS[0]


def count_thread_starts() -> None:
    """Count every Python thread started from now on. Counting the threads alive after forward misses one
    that forward starts and joins before it returns: it computed with torch in a thread of its own, where
    the recorder's modes (thread-local) never saw it. Python 3.11 raises no audit event for a thread start,
    so the start functions themselves are wrapped, wherever a loaded module holds them."""
    import _thread

    originals = {id(f): f for f in (_thread.start_new_thread, getattr(_thread, "start_new", None),
                                    getattr(_thread, "start_joinable_thread", None)) if f is not None}

    def wrap(orig: Any) -> Any:
        def start(*a: Any, **k: Any) -> Any:
            # Only the candidate's own threads: torch or Triton starting a helper (a compile pool on a
            # GPU) is not the candidate computing elsewhere. `threading` acts for whoever called it.
            if initiator(sys._getframe(1)) != "trusted":
                _THREAD_STARTS[0] += 1
            return orig(*a, **k)

        return start

    wrapped = {i: wrap(f) for i, f in originals.items()}
    _replace_everywhere(wrapped)


def _replace_everywhere(wrapped: dict[int, Any]) -> None:
    """Rebind every module global that is one of the original objects (by id) to its wrapper."""
    for mod in list(sys.modules.values()):
        d = getattr(mod, "__dict__", None)
        if not isinstance(d, dict):
            continue
        for k, v in list(d.items()):
            w = wrapped.get(id(v))
            if w is not None:
                d[k] = w


# The thread-local switches that take the recorder's modes out of the dispatch path. Called from inside a
# recorded forward, torch ops run between switching off and on again unseen (`_disable_current_modes`,
# excluding the Python dispatch key, the Python dispatcher with a `py_impl` kernel on an allowed op...).
_PY_KEY_NAMES = ("Python", "PythonTLSSnapshot", "PythonDispatcher", "PreDispatch")


_PROFILER_SWITCHES = ("_enable_profiler", "_disable_profiler", "_prepare_profiler", "_toggle_collection_dynamic",
                      "_enable_profiler_legacy", "_disable_profiler_legacy")


def guard_mode_switches(rec: OpRecorder) -> None:
    """Refuse, inside a recorded region, the torch primitives that pop the recorder's modes, exclude the
    Python dispatch key, turn on the Python dispatcher (which runs `py_impl` kernels of built-in ops behind
    an allowed op's name) or call a kernel below the Python key (`redispatch`, `_op_dk`). Whoever asks
    (torch's own helpers such as `_disable_current_modes` act for the candidate): the harness's own
    suspended sections (interpreter marshalling, autotune benchmarking, entering/leaving the recorder)
    are let through. What such switches leave behind after an unrecorded stretch (`__init__`, backward)
    is `rewards.child._Harness.check_dispatcher`'s."""
    import torch
    from torch._C import DispatchKey, DispatchKeySet

    C = torch._C
    py_keys = [getattr(DispatchKey, n) for n in _PY_KEY_NAMES if hasattr(DispatchKey, n)]

    def live() -> bool:
        return rec.active > 0 and not rec.suspended

    def refuse(name: str) -> None:
        rec.refused[name] += 1
        raise RuntimeError(f"tritonforge sandbox: torch._C.{name} is not allowed inside forward "
                           "(it takes ops out of the judge's record)")

    def py_key(k: Any) -> bool:
        return any(k == pk for pk in py_keys)

    def py_keyset(ks: Any) -> bool:
        return isinstance(ks, DispatchKeySet) and any(ks.has(pk) for pk in py_keys)

    def top_is(stack_len: Any, at: Any, cls: type) -> bool:
        n = stack_len()
        return n > 0 and isinstance(at(n - 1), cls)

    checks: dict[str, Any] = {
        "_pop_torch_function_stack": lambda *a, **k: top_is(C._len_torch_function_stack, C._get_function_stack_at,
                                                             _FunctionMode) and not _mode_handoff(sys._getframe(2)),
        "_pop_torch_dispatch_stack": lambda *a, **k: (not a or a[0] is None) and top_is(
            C._len_torch_dispatch_stack, C._get_dispatch_stack_at, _DispatchMode),
        "_set_dispatch_mode": lambda *a, **k: True,
        "_unset_dispatch_mode": lambda *a, **k: True,
        "DisableTorchFunction": lambda *a, **k: True,
        "_DisableTorchDispatch": lambda *a, **k: True,
        "_ForceDispatchKeyGuard": lambda *a, **k: True,
        "_EnablePythonDispatcher": lambda *a, **k: True,
        "_RestorePythonTLSSnapshot": lambda *a, **k: True,
        "_ExcludeDispatchKeyGuard": lambda *a, **k: bool(a) and py_keyset(a[0]),
        "ExcludeDispatchKeyGuard": lambda *a, **k: bool(a) and py_keyset(a[0]),
        "_IncludeDispatchKeyGuard": lambda *a, **k: bool(a) and py_key(a[0]),
        "_SetExcludeDispatchKeyGuard": lambda *a, **k: bool(a) and py_key(a[0]) and (len(a) < 2 or bool(a[1])),
        "_dispatch_tls_set_dispatch_key_excluded": lambda *a, **k: bool(a) and py_key(a[0]),
        "_dispatch_tls_set_dispatch_key_included": lambda *a, **k: bool(a) and py_key(a[0]),
    }
    # The profiler's switches: forward stopping it, or turning its device collection off and on around a
    # stretch, hides that stretch's device kernels from the foreign-kernel check (the harness starts and
    # stops its own profiler outside the recorded region).
    profiler_checks = {n: (lambda *a, **k: True) for n in _PROFILER_SWITCHES}
    wrapped: dict[int, Any] = {}
    for owner, name, bad in [(C, n, b) for n, b in checks.items()] + [
            (getattr(C, "_autograd", None), n, b) for n, b in profiler_checks.items()]:
        orig = getattr(owner, name, None)
        if orig is None:
            continue

        def guarded(*a: Any, __orig=orig, __bad=bad, __name=name, **k: Any) -> Any:
            if live() and __bad(*a, **k):
                refuse(__name)
            return __orig(*a, **k)

        wrapped[id(orig)] = guarded
    _replace_everywhere(wrapped)

    handle = C._DispatchOperatorHandle
    orig_redispatch = handle.redispatch_boxed

    def redispatch_boxed(self: Any, *a: Any, **k: Any) -> Any:
        # custom_op's autograd kernel redispatches below autograd with the Python key still in the set
        if live() and not (a and isinstance(a[0], DispatchKeySet) and a[0].has(DispatchKey.Python)):
            refuse("_DispatchOperatorHandle.redispatch_boxed")
        return orig_redispatch(self, *a, **k)

    handle.redispatch_boxed = redispatch_boxed

    from torch._ops import OpOverload

    def get_op_dk(self: Any) -> Any:
        orig = self.__dict__["_op_dk"]

        def op_dk(*a: Any, **k: Any) -> Any:
            if live():
                refuse("OpOverload._op_dk")
            return orig(*a, **k)

        return op_dk

    def set_op_dk(self: Any, value: Any) -> None:
        self.__dict__["_op_dk"] = value

    OpOverload._op_dk = property(get_op_dk, set_op_dk)


def _mode_handoff(frame: Any) -> bool:
    """Whether this pop of the recorder's function mode is torch handing a call of its own Python API to
    that mode (`handle_torch_function`, called by torch code: `F.pad`, `Tensor.split`...): the mode is
    popped only while its own `__torch_function__` runs, so the call is seen, and the dispatch mode still
    records every ATen op beneath it. Called by the candidate (directly, or `_pop_mode_temporarily` by
    hand) it is a way out of the record and stays refused."""
    f = frame
    for _ in range(8):
        if f is None:
            return False
        if f.f_code.co_name == "handle_torch_function" and f.f_globals.get("__name__") == "torch.overrides":
            caller = f.f_back
            name = (caller.f_globals.get("__name__", "") or "") if caller is not None else ""
            return name.split(".")[0] == "torch" and name != "torch.overrides"
        f = f.f_back
    return False


def tls_state() -> tuple[Any, ...]:
    """The thread-local dispatch state forward must find as the harness left it: included/excluded dispatch
    keys (a Python key excluded in `__init__` would hide every forward op from the recorder; the Python
    dispatcher left on would run `py_impl` kernels behind allowed ops) and torch-function switches."""
    import torch

    C = torch._C
    return (repr(C._dispatch_tls_local_include_set()), repr(C._dispatch_tls_local_exclude_set()),
            C._is_torch_function_enabled(), C._is_torch_function_mode_enabled(),
            C._is_torch_function_all_disabled())
