"""The launch counter: which of the candidate's `@triton.jit` kernels ran, how often and on what, counted where
Triton launches them (`JITFunction.run`, `InterpretedFunction.run`), with the grid probe that counts only grids
holding a program, the plain-data check of kernel arguments, and the places where Triton's own work runs with
the recorder suspended (the interpreter's argument marshalling, the autotuner's benchmarking) or confined
(the interpreter's raw memory access, only inside a kernel body).

Apart from the recorder (`rewards.harness.guard`) because it patches Triton, not torch: the recorder says what
torch executed, this says what Triton launched; it reports into the recorder, never the other way round.
"""

from __future__ import annotations

import sys
from typing import Any

from rewards.harness.guard import OpRecorder, foreign_memory, tensors_among
from rewards.harness.op_policy import CAND_MODULE, initiator


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
        # called with (kernel, args, kwargs) before each candidate launch: `rewards.harness.target_compile` on CPU
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
                if mine and not counter.rec.is_suspended():
                    check_kernel_args(args, kwargs)
                    if counter.rec.active and any(foreign_memory(t, counter.rec) for t in tensors_among(
                            [*args, *(v for k, v in kwargs.items() if k not in ("grid", "warmup"))], depth=4)):
                        counter.rec.host["a kernel launched on a tensor over memory torch did not allocate "
                                         "(numpy, a buffer, DLPack, a file)"] += 1
                programs: list[int] = []
                if "grid" in kwargs:
                    kwargs["grid"] = _grid_probe(kwargs["grid"], programs)
                counter.rec.launch_marks.append(sys._getframe())
                try:
                    if mine and counter.before_launch is not None:
                        counter.before_launch(self, args, kwargs)
                    out = __orig(self, *args, **kwargs)
                except BaseException:
                    counter.failed_in_kernel = counter.failed_in_kernel or mine
                    raise
                finally:
                    counter.rec.launch_marks.pop()
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


def _suspended(rec: OpRecorder, fn: Any, skip: int = 1, own_kw: tuple[str, ...] = ()) -> Any:
    """`fn` (Triton's own marshalling or benchmarking) run with the recorder suspended, for Triton's calls only,
    and only over plain arguments (`plain_for_triton`; the first `skip` positional ones are Triton's own
    objects, as are the keyword arguments `own_kw`): Triton calls methods of what it marshals, and a method the candidate shadowed on a tensor (an
    instance attribute `untyped_storage = functools.partial(torch.clamp, x, out=y)`) would run there
    unrecorded. Candidate code that still runs inside (a hook, a torch mode of its own) is recorded anyway
    (`OpRecorder.is_suspended`)."""
    def wrapper(*a: Any, **k: Any) -> Any:
        # Only Triton's own launch path suspends: forward calling `GridExecutor._init_args_hst` itself, with
        # an argument whose `untyped_storage` is a `functools.partial(torch.clamp, x, out=y)`, had Triton's
        # marshalling run the candidate's torch compute unrecorded (no candidate frame to tell it by).
        if initiator(sys._getframe(1)) != "trusted":
            return fn(*a, **k)
        if (rec.active or rec.watching) and not all(
                plain_for_triton(v) for v in list(a[skip:]) + [v for n, v in k.items() if n not in own_kw]):
            rec.refused["a kernel argument Triton's marshalling would call candidate code on"] += 1
            raise RuntimeError("tritonforge sandbox: a kernel argument is not plain data (an object of the candidate's, "
                            "or a tensor whose methods are shadowed by instance attributes)")
        with rec.hush():
            return fn(*a, **k)

    return wrapper


def plain_for_triton(v: Any, depth: int = 0) -> bool:
    """Whether `v` is data Triton can marshal without running anyone's code: exact tensors (or Triton's
    `TensorWrapper` of one) with no instance attribute shadowing a method, numbers, strings, dtypes, None,
    jit functions, constexprs of those, and lists/tuples/str-keyed dicts of them."""
    import torch
    from triton.runtime.jit import JITFunction, TensorWrapper

    try:
        from triton.runtime.interpreter import InterpretedFunction
        fn_types: tuple[type, ...] = (JITFunction, InterpretedFunction)
    except ImportError:
        fn_types = (JITFunction,)
    import triton.language as tl

    if depth > 8:
        return False
    t = type(v)
    if t is torch.Tensor or t is torch.nn.Parameter:
        return not _shadows(v, t)
    if t is TensorWrapper:
        return not _shadows(v, t) and type(v.base) in (torch.Tensor, torch.nn.Parameter) and not _shadows(v.base, type(v.base))
    if v is None or t in (int, float, bool, str, torch.dtype, tl.dtype) or isinstance(v, fn_types):
        return True
    if t is tl.constexpr:
        return plain_for_triton(v.value, depth + 1)
    if t in (list, tuple):
        return all(plain_for_triton(x, depth + 1) for x in v)
    if t is dict:
        return all(type(key) is str and plain_for_triton(x, depth + 1) for key, x in v.items())
    return False


def _shadows(obj: Any, cls: type) -> bool:
    """Whether an instance attribute of `obj` hides an attribute of its class (a method Triton would call)."""
    try:
        d = vars(obj)
    except TypeError:
        return False
    return any(hasattr(cls, key) for key in d)


def _suspend_interpreter_marshalling(rec: OpRecorder) -> None:
    """The interpreter copies kernel arguments to host storages and back with torch ops of its own."""
    from triton.runtime import interpreter as it

    _confine_interpreter_memory(rec)
    it.GridExecutor._init_args_hst = _suspended(rec, it.GridExecutor._init_args_hst)
    it.GridExecutor._restore_args_dev = _suspended(rec, it.GridExecutor._restore_args_dev)
    it._implicit_cvt = _suspended(rec, it._implicit_cvt, skip=0)


_INTERPRETER_MEMORY = ("load", "store", "atomic_rmw", "atomic_cas")


def _confine_interpreter_memory(rec: OpRecorder) -> None:
    """The interpreter's raw memory access (its C `load`/`store`/atomics, by address) works only while a kernel
    body runs, from the first program on (`set_grid_idx`) to the launch's end. Before that, the launch calls
    the candidate's grid function with the arguments as Triton pointers and Triton's language patched in:
    `tl.load`/`tl.store` there computed on the host, once, outside any kernel (v4_rt_grid_fn_compute); and
    addresses leaked by a jit body were read and written from forward with the same C functions
    (v4_rt_interp_ptr_leak)."""
    from triton.runtime import interpreter as it

    mem = it._interpreter
    if getattr(mem, "_tf_confined", False):
        return
    orig_call = it.GridExecutor.__call__

    def call(self: Any, *a: Any, **k: Any) -> Any:
        rec.kernel_bodies.append(False)
        try:
            return orig_call(self, *a, **k)
        finally:
            rec.kernel_bodies.pop()

    it.GridExecutor.__call__ = call
    builder = it.interpreter_builder
    orig_idx = builder.set_grid_idx

    def set_grid_idx(*a: Any, **k: Any) -> Any:
        if rec.kernel_bodies:
            rec.kernel_bodies[-1] = True
        return orig_idx(*a, **k)

    builder.set_grid_idx = set_grid_idx
    for name in _INTERPRETER_MEMORY:
        orig = getattr(mem, name, None)
        if orig is None:
            continue

        def guarded(*a: Any, __orig=orig, __name=name, **k: Any) -> Any:
            if (rec.active or rec.watching) and not (rec.kernel_bodies and rec.kernel_bodies[-1]):
                rec.refused[f"interpreter memory access outside a kernel body ({__name})"] += 1
                raise RuntimeError("tritonforge sandbox: tensor memory was read or written by address outside a "
                                   "kernel body (a grid function, or host code with a leaked pointer)")
            return __orig(*a, **k)

        setattr(mem, name, guarded)
    mem._tf_confined = True


def _suspend_autotune_benchmarking(rec: OpRecorder) -> None:
    """Autotuning times every config with torch bookkeeping (quantiles, means); the config it picks is
    then launched for real, hooks included, with the recorder on."""
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return
    if hasattr(Autotuner, "_bench"):
        # the Autotuner and its Config are Triton's; the grid is called by the counted launch (recorded)
        Autotuner._bench = _suspended(rec, Autotuner._bench, own_kw=("config", "grid", "warmup"))

