"""Runtime evidence, recorded inside the candidate process while its `ModelNew.forward` runs.

Static rules can never see every path to a PyTorch op (base classes, objects built in `__init__`,
containers of callables, builtins, numpy, torch code inside a jit body under the interpreter), so whether
the candidate's Triton kernels did the work is decided here, from what actually executed:

* `OpRecorder` pushes a `TorchFunctionMode` and a `TorchDispatchMode` for the duration of one forward.
  Every ATen op that executes is checked against `ALLOWED_ATEN` (allocation, views, copies, dtype/device
  moves, the bookkeeping real Triton wrappers do); anything else is a torch fallback. Tensor -> Python /
  numpy escapes (`tolist`, `numpy`, `__array__`, storage access) are refused outright, and scalar reads
  (`.item()`) are capped by the task's size, so an answer cannot be computed in Python or numpy and copied in.
* Host compute over tensor memory that no ATen op would show is closed by mechanism, not by a list of
  methods: (1) host views of tensor memory cannot be made by the candidate at any time (the function mode
  stays on from before the candidate's module loads until the process ends, so a numpy view made at import
  or in `__init__` is refused like one made in forward); (2) in forward every CPU tensor an op or a kernel
  launch touches must live in memory torch allocated (a tensor over numpy, a bytearray, DLPack or a file is
  host compute waiting to happen); (3) a torch function handed a Python callable in forward (`apply_`,
  `map_`, ...) would run Python per element: refused; (4) a dtype cast in forward that changes a value
  (truncation, a bool mask, integer wrap-around) is compute unless it rounds to a dtype the answer itself has.
* Custom operators (`torch.library.custom_op` / `triton_op`) are not opaque: their Python body is run
  under a fresh recorder, so a `wrap_triton` launch counts and a torch op inside still shows.
* Under the Triton interpreter the recorder is suspended only inside the interpreter's own argument
  marshalling (host copies in and out), never while the kernel body runs: a tensor smuggled into a jit
  body as a constexpr and used with torch ops is recorded like any other.
* `LaunchCounter` counts launches of `@triton.jit` functions defined in the candidate module, per compiled
  kernel name, so that on CUDA every device kernel the profiler saw can be matched launch for launch.
* `initiator` tells whose code asked for something: the candidate's or torch/triton/the harness's.

The audit-hook policy armed before candidate code is loaded, the frozen modules and the operator-registry
guard are `rewards.harness.audit`.

All of this runs in the process that executes untrusted code, so it is a layer, not the boundary: the
report it produces leaves through a pipe that only the harness holds (`rewards.harness.channel`), and the
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
# Scalar reads (`.item()`, `float(t)`, `int(t)`) per forward, counted in bytes read: enough for lengths and
# flags, and a tiny share (1/16) of the bytes the task hands forward, so that no answer can be read out and
# computed in Python. Bytes, not reads: a uint8 input viewed as complex128 gives 16 elements per `.item()`.
MAX_SCALAR_READS = 64  # four-byte reads at most (32 eight-byte ones)
MIN_SCALAR_READS = 2  # eight-byte reads at least (two Python numbers, whatever the task's size)
MAX_SCALAR_BYTES = 4 * MAX_SCALAR_READS
MIN_SCALAR_BYTES = 8 * MIN_SCALAR_READS
SCALAR_BYTES_PER_INPUT_BYTE = 1 / 16
# Tensor methods that hand host code a view of a tensor's memory (numpy arrays, DLPack capsules, storages
# and their addresses). Refused to the candidate's code at every stage, not only in forward: a view made at
# import or in `__init__` of a buffer that forward's kernels fill is a host-side compute engine.
HOST_VIEWS = frozenset({"numpy", "__array__", "__dlpack__", "untyped_storage", "storage", "_typed_storage"})
# Allowed ops that move values from tensor inputs into a result that may have another dtype (a conversion:
# `_record_casts`): copies, concatenation (type promotion, out=) and fill with a 0-d tensor as the value.
_VALUE_MOVES = frozenset({"_to_copy", "copy_", "copy", "_copy_from", "_copy_from_and_resize", "cat", "stack",
                          "fill", "fill_"})
# Allowed ops that write a tensor's values out: reading a conjugate/negative view, they negate (`_lazy_sign`).
_MATERIALIZES = _VALUE_MOVES | {"clone", "resolve_conj", "resolve_neg", "contiguous", "lift_fresh_copy",
                                "_copy_from_and_resize"}
# Torch functions that read a tensor argument's values on the host and hand them back as shapes, with no
# `_local_scalar_dense` (C++ reads the index tensor before any op is dispatched): (position, keyword).
_HOST_READ_FUNCS = {"tensor_split": (1, "tensor_indices_or_sections")}
_ALLOWED_NAMESPACES = frozenset({"aten"})


class OpRecorder:
    """What one forward executed: forbidden ops, refused escapes, scalar reads (a plain record)."""

    def __init__(self) -> None:
        self.forbidden: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.host: Counter[str] = Counter()  # host-side compute over tensor memory (no ATen op of its own)
        self.scalar_reads = 0
        self.scalar_bytes = 0
        self.scalar_budget = MAX_SCALAR_BYTES  # bytes, set per trial from the task's inputs (`scalar_read_budget`)
        self.answer_dtypes: frozenset[Any] = frozenset()  # dtypes of the reference's answer (casts to them round)
        self.suspended = 0
        # Frames of the harness's own suspended regions, innermost last (`hush`): code of the candidate's that
        # runs inside one (a hook, a torch mode, a method shadowed on an argument) is recorded all the same.
        self.suspend_marks: list[Any] = []
        # Frames of kernel launches in progress (LaunchCounter.run): Triton asks for data_ptr there.
        self.launch_marks: list[Any] = []
        # One flag per interpreter launch in progress: whether its kernel body has started (`_confine_...`).
        self.kernel_bodies: list[bool] = []
        self.active = 0  # recorded regions (forward, custom-op bodies) currently open
        self.watching = False  # the function mode is on for the process's life (`watch`): host views refused
        self.function_mode: _FunctionMode | None = None

    def reset(self) -> None:
        self.forbidden.clear()
        self.refused.clear()
        self.host.clear()
        self.scalar_reads = 0
        self.scalar_bytes = 0

    def count_scalar_read(self, nbytes: int) -> None:
        """One read of `nbytes` bytes of tensor values into Python, against the task's budget."""
        self.scalar_reads += 1
        self.scalar_bytes += nbytes
        if self.scalar_bytes > self.scalar_budget:
            self.host[f"more than {self.scalar_budget} bytes of scalar reads (.item()/float()/int()) "
                      "for this task's size"] += 1

    def hush(self) -> _Hush:
        """Suspend the record for the harness's own bookkeeping in the calling function (see `is_suspended`)."""
        return _Hush(self, sys._getframe(1))

    def is_suspended(self) -> bool:
        """Whether what runs now is the harness's (or Triton's) own suspended work. A suspended region marked by
        `hush` stays suspended only while no frame of the candidate's is newer than the mark: a Python hook, a
        torch mode of the candidate's or a method it shadowed on an argument runs inside the region, and is the
        candidate computing, not the harness."""
        if not self.suspended:
            return False
        if not self.suspend_marks:
            return True
        return not candidate_since(sys._getframe(1), self.suspend_marks[-1])

    def summary(self) -> dict[str, Any]:
        return {"forbidden": dict(self.forbidden), "refused": dict(self.refused), "host": dict(self.host),
                "scalar_reads": self.scalar_reads, "scalar_bytes": self.scalar_bytes}

    def modes(self) -> _Modes:
        return _Modes(self)

    def watch(self) -> _FunctionMode:
        """Push the function mode for the rest of the process (before candidate code loads): from here on
        the candidate's code cannot make host views of tensor memory, and in forward every torch call is
        checked. Forward's recorded regions then push only the dispatch mode."""
        fm = _FunctionMode(self)
        with self.hush():
            fm.__enter__()
        self.function_mode, self.watching = fm, True
        return fm


class _Hush:
    def __init__(self, rec: OpRecorder, frame: Any) -> None:
        self.rec, self.frame = rec, frame

    def __enter__(self) -> None:
        self.rec.suspended += 1
        self.rec.suspend_marks.append(self.frame)

    def __exit__(self, *exc: object) -> None:
        self.rec.suspend_marks.pop()
        self.rec.suspended -= 1


def _is_candidate_frame(f: Any) -> bool:
    return f.f_globals.get("__name__") == CAND_MODULE or f.f_code.co_filename == "candidate.py"


def candidate_since(frame: Any, mark: Any) -> bool:
    """Whether a frame of the candidate's lies between `frame` and the older frame `mark` (the candidate's
    code runs inside the region `mark` opened). A mark no longer on the stack counts as candidate code."""
    f = frame
    while f is not None and f is not mark:
        if _is_candidate_frame(f):
            return True
        f = f.f_back
    return f is None


def scalar_read_budget(inputs: Any) -> int:
    """Bytes of scalar reads one forward may make: a tiny share of the bytes of the task's inputs (a length, a
    flag), between MIN_SCALAR_BYTES and MAX_SCALAR_BYTES. 64 reads were a whole solution of a 32+32-element
    dot product; 64 reads of complex128 views were all 1024 bytes of a uint8 input."""
    import torch

    def nbytes(o: Any) -> int:
        if isinstance(o, torch.Tensor):
            return o.numel() * o.element_size()
        if isinstance(o, (list, tuple)):
            return sum(nbytes(x) for x in o)
        if isinstance(o, dict):
            return sum(nbytes(x) for x in o.values())
        return 0

    return max(MIN_SCALAR_BYTES, min(MAX_SCALAR_BYTES, int(nbytes(inputs) * SCALAR_BYTES_PER_INPUT_BYTE)))


class _FunctionMode(TorchFunctionMode):
    def __init__(self, rec: OpRecorder) -> None:
        super().__init__()
        self.rec = rec

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        rec = self.rec
        if not rec.is_suspended():
            name = getattr(func, "__name__", "")
            if rec.active:
                if name in DENIED_FUNCTIONS or (
                        name in DENIED_FROM_CANDIDATE and address_for_candidate(rec, sys._getframe(1))):
                    rec.refused[name] += 1
                    raise RuntimeError(f"tritonforge sandbox: Tensor.{name} is not allowed inside forward "
                                       "(computing outside torch/Triton hides the work from the judge)")
                if name in _HOST_READ_FUNCS:
                    _count_host_read(rec, name, args, kwargs)
                if _python_callback(args, kwargs):
                    rec.host[f"{name} with a Python callback"] += 1
                    rec.refused[f"{name} (Python callback)"] += 1
                    raise RuntimeError(f"tritonforge sandbox: {name} was handed a Python callable inside forward: "
                                       "torch would run Python per element, outside the kernels")
            elif rec.watching and ((name in HOST_VIEWS and candidate_on_stack(sys._getframe(1))) or (
                    name in DENIED_FROM_CANDIDATE and address_for_candidate(rec, sys._getframe(1)))):
                rec.refused[name] += 1
                raise RuntimeError(f"tritonforge sandbox: Tensor.{name} is not allowed in a candidate (a host view "
                                   "of tensor memory computes where no kernel and no op record can see it)")
        return func(*args, **(kwargs or {}))


def _count_host_read(rec: OpRecorder, name: str, args: Any, kwargs: Any) -> None:
    """A torch function that reads an index tensor on the host (`tensor_split(x, indices)`: the pieces' lengths
    hand every index to Python) counts its bytes as scalar reads; a 0-d one is read by `.item()` already."""
    import torch

    pos, key = _HOST_READ_FUNCS[name]
    t = args[pos] if len(args) > pos else (kwargs or {}).get(key)
    if isinstance(t, torch.Tensor) and t.dim() > 0:
        rec.count_scalar_read(int(t.numel()) * _itemsize(t))


def address_for_candidate(rec: OpRecorder, frame: Any) -> bool:
    """Whether a tensor's address (`data_ptr`) is asked for on the candidate's behalf. Triton needs it while it
    launches a kernel (`LaunchCounter.run` marks each launch); anywhere else, any candidate frame below counts,
    not only the nearest party: `triton.reinterpret(t, dtype).data_ptr()` has Triton's `TensorWrapper` ask
    for the candidate, and an address is all an `__array_interface__` needs to make a numpy view. Inside a
    launch, a candidate frame newer than the launch (its grid function, a jit body under the interpreter)
    is the candidate asking."""
    if rec.launch_marks:
        return candidate_since(frame, rec.launch_marks[-1])
    return candidate_on_stack(frame)


def _python_callback(args: Any, kwargs: Any) -> bool:
    """Whether a torch call is handed something callable (a function, a lambda, a class, a bound method) that
    torch would call back: `apply_`/`map_`/`map2_` run it per element, in Python, unrecorded."""
    import torch

    def cb(v: Any) -> bool:
        return callable(v) and not isinstance(v, torch.Tensor)

    for v in list(args) + list((kwargs or {}).values()):
        if cb(v) or (type(v) in (list, tuple) and any(cb(x) for x in v)):
            return True
    return False


def candidate_on_stack(frame: Any) -> bool:
    """Whether the candidate's code is anywhere below `frame` (it asked for this, directly or through a
    helper: numpy's `asarray` calls `Tensor.__array__` from a torch frame on the candidate's behalf)."""
    f = frame
    while f is not None:
        if _is_candidate_frame(f):
            return True
        f = f.f_back
    return False


class _DispatchMode(TorchDispatchMode):
    def __init__(self, rec: OpRecorder) -> None:
        super().__init__()
        self.rec = rec

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        rec = self.rec
        if rec.is_suspended():
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
            rec.count_scalar_read(_itemsize(args[0] if args else None))
        if packet in _MATERIALIZES and any(_lazy_sign(t) for t in _tensor_args(args, kwargs)):
            rec.host[f"aten::{packet} materializes a conjugate/negative view (a negation outside the kernels)"] += 1
        if any(foreign_memory(t, rec) for t in _tensor_args(args, kwargs)):
            rec.host[f"aten::{packet} on a tensor over memory torch did not allocate (numpy, a buffer, DLPack, a file)"] += 1
        out = func(*args, **kwargs)
        if packet in _VALUE_MOVES:
            _record_casts(rec, packet, args, kwargs, out)
        return out


def _lazy_sign(t: Any) -> bool:
    """Whether a tensor carries torch's lazy conjugate or negative bit: an op that writes its values out
    (clone, copy_, resolve_conj...) negates them on the way (`conj()` of a complex tensor whose imaginary part is
    the input, then `resolve_conj()`, is `-x` from allowed ops only)."""
    import torch

    return isinstance(t, torch.Tensor) and (bool(torch.is_conj(t)) or bool(torch.is_neg(t)))


def _itemsize(t: Any) -> int:
    """Bytes one scalar read of `t` hands Python (the widest, complex128, where it cannot be told)."""
    import torch

    try:
        return int(torch.empty((), dtype=t.dtype).element_size()) if isinstance(t, torch.Tensor) else 16
    except Exception:
        return 16


def _tensor_args(args: Any, kwargs: Any) -> list[Any]:
    import torch

    found = []
    for v in list(args) + list(kwargs.values()):
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif type(v) in (list, tuple):
            found.extend(x for x in v if isinstance(x, torch.Tensor))
    return found


def foreign_memory(t: Any, rec: OpRecorder) -> bool:
    """Whether a CPU tensor lives in memory torch did not allocate: `from_numpy`, `frombuffer`, DLPack and
    `from_file` give non-resizable storages over someone else's bytes, which host code (numpy, a bytearray,
    a file) reads and writes with no op to record. Torch's own allocations are resizable."""
    import torch

    if type(t) not in (torch.Tensor, torch.nn.Parameter) or t.device.type != "cpu":
        return False
    with rec.hush():
        try:
            return not torch.Tensor.untyped_storage(t).resizable()
        except Exception:
            return False


def _record_casts(rec: OpRecorder, packet: str, args: Any, kwargs: Any, out: Any) -> None:
    """Record a dtype conversion that changed a value (float -> int truncation, a bool mask, integer wrap-around,
    rounding to a narrower float): that is compute, unless a kernel does it. Every op that moves values from
    tensor inputs into a result of another dtype converts them: the copies, `cat`/`stack` (type promotion, an
    `out=` of another dtype) and `fill_` with a 0-d tensor as the value; each such input must survive the
    round trip to the result's dtype. Rounding a float to a dtype the reference's answer has is the answer's
    own last step (the reference casts its output too), not compute. Only class-level torch functions are
    called on the candidate's tensors (an instance attribute can shadow a method such as `to`)."""
    import torch

    dst = out if isinstance(out, torch.Tensor) else None
    if dst is None:
        return
    for src in _tensor_args(args, kwargs):
        if src is dst or src.dtype == dst.dtype:
            continue
        if torch.is_floating_point(src) and torch.is_floating_point(dst) and dst.dtype in rec.answer_dtypes:
            continue
        with rec.hush():
            try:
                fwd = torch.Tensor.to(src, dtype=dst.dtype)
                back = torch.Tensor.to(fwd, dtype=src.dtype)
                # the round trip (truncation, rounding, wrap-around lost on the way back) and the values
                # themselves compared with type promotion (int8 -5 -> uint8 251 round-trips exactly)
                same = torch.logical_and(torch.eq(back, src), torch.eq(fwd, src))
                if torch.is_floating_point(src) or torch.is_complex(src):
                    same = torch.logical_or(same, torch.logical_and(torch.isnan(back), torch.isnan(src)))
                changed = not bool(torch.all(same))
            except Exception:
                changed = True  # a cast the harness cannot undo to compare changed something it cannot vouch for
        if changed:
            rec.host[f"aten::{packet} cast {src.dtype} -> {dst.dtype} that changes values (cast inside the kernel)"] += 1


def _custom_op_body(func: Any) -> Any:
    """The Python implementation behind a `torch.library.custom_op`/`triton_op`, or None."""
    try:
        from torch._library.custom_ops import OPDEFS

        opdef = OPDEFS.get(f"{func.namespace}::{func.overloadpacket.__name__}")
        return getattr(opdef, "_init_fn", None)
    except Exception:
        return None


class _Modes:
    """The modes of one recorded region (function mode outermost, as torch expects). Where the recorder's
    function mode is already on for the process (`OpRecorder.watch`), a region adds the dispatch mode only:
    one function mode sees every torch call once."""

    def __init__(self, rec: OpRecorder) -> None:
        self.rec = rec
        self.fm = None if rec.function_mode is not None else _FunctionMode(rec)
        self.dm = _DispatchMode(rec)

    def __enter__(self) -> _Modes:
        rec = self.rec
        with rec.hush():  # pushing our own modes is not the candidate switching the recorder off
            if self.fm is not None:
                self.fm.__enter__()
            self.dm.__enter__()
        rec.active += 1
        return self

    def __exit__(self, *exc: object) -> None:
        rec = self.rec
        rec.active -= 1
        with rec.hush():
            self.dm.__exit__(*exc)
            if self.fm is not None:
                self.fm.__exit__(*exc)


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
                    if counter.rec.active and any(foreign_memory(t, counter.rec) for t in _kernel_tensors(args, kwargs)):
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


def _kernel_tensors(args: tuple, kwargs: dict[str, Any]) -> list[Any]:
    """The tensors among a launch's arguments (plain data only: `check_kernel_args` passed them)."""
    import torch

    found: list[Any] = []

    def walk(v: Any, depth: int) -> None:
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif type(v) in (tuple, list) and depth < 4:
            for x in v:
                walk(x, depth + 1)

    for v in list(args) + [v for k, v in kwargs.items() if k not in ("grid", "warmup")]:
        walk(v, 0)
    return found


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
        if _is_candidate_frame(f):
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


def guard_raw_exports(rec: OpRecorder) -> None:
    """Refuse the candidate the tensor exports that bypass torch's function modes (`torch.utils.dlpack.
    to_dlpack` is a bare C function): a DLPack capsule is a host view of the tensor's memory for numpy."""
    import torch

    C = torch._C
    wrapped: dict[int, Any] = {}
    for name in ("_to_dlpack", "_to_dlpack_versioned"):
        orig = getattr(C, name, None)
        if not callable(orig):
            continue

        def guarded(*a: Any, __orig=orig, __name=name, **k: Any) -> Any:
            if not rec.is_suspended() and candidate_on_stack(sys._getframe(1)):
                rec.refused[__name] += 1
                raise RuntimeError(f"tritonforge sandbox: torch._C.{__name} is not allowed in a candidate (a host "
                                   "view of tensor memory computes where no kernel and no op record can see it)")
            return __orig(*a, **k)

        wrapped[id(orig)] = guarded
    _replace_everywhere(wrapped)  # torch._C's own entry and every module that imported the function


# The thread-local switches that take the recorder's modes out of the dispatch path. Called from inside a
# recorded forward, torch ops run between switching off and on again unseen (`_disable_current_modes`,
# excluding the Python dispatch key, the Python dispatcher with a `py_impl` kernel on an allowed op...).
_PY_KEY_NAMES = ("Python", "PythonTLSSnapshot", "PythonDispatcher", "PreDispatch")


# The switches that take the function mode away; refused for the candidate's whole life, not only in forward.
_WATCHED_SWITCHES = frozenset({"_pop_torch_function_stack", "DisableTorchFunction"})
_PROFILER_SWITCHES = ("_enable_profiler", "_disable_profiler", "_prepare_profiler", "_toggle_collection_dynamic",
                      "_enable_profiler_legacy", "_disable_profiler_legacy")


def guard_mode_switches(rec: OpRecorder) -> None:
    """Refuse, inside a recorded region, the torch primitives that pop the recorder's modes, exclude the
    Python dispatch key, turn on the Python dispatcher (which runs `py_impl` kernels of built-in ops behind
    an allowed op's name) or call a kernel below the Python key (`redispatch`, `_op_dk`). Whoever asks
    (torch's own helpers such as `_disable_current_modes` act for the candidate): the harness's own
    suspended sections (interpreter marshalling, autotune benchmarking, entering/leaving the recorder)
    are let through. What such switches leave behind after an unrecorded stretch (`__init__`, backward)
    is `rewards.harness.child._Harness.check_dispatcher`'s."""
    import torch
    from torch._C import DispatchKey, DispatchKeySet

    C = torch._C
    py_keys = [getattr(DispatchKey, n) for n in _PY_KEY_NAMES if hasattr(DispatchKey, n)]

    def live() -> bool:
        return rec.active > 0 and not rec.is_suspended()

    def watched() -> bool:
        # the function mode is on from before the candidate loads: popping or disabling it in `__init__`
        # (then pushing it back) would let a host view of tensor memory be made unseen
        return (rec.active > 0 or rec.watching) and not rec.is_suspended()

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
            if (watched() if __name in _WATCHED_SWITCHES else live()) and __bad(*a, **k):
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
