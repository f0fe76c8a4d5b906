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
* `LaunchCounter` (`rewards.harness.launch_counter`) counts launches of `@triton.jit` functions defined in
  the candidate module, per compiled kernel name, so that on CUDA every device kernel the profiler saw can
  be matched launch for launch.
* `initiator` (`rewards.harness.op_policy`, with the op lists) tells whose code asked for something: the
  candidate's or torch/triton/the harness's.
* The process-wide guards that keep the recorder's modes in place (thread starts, raw DLPack exports, the
  torch switches that pop modes or exclude the Python key, the thread-local dispatch state) are
  `rewards.harness.process_guards`.

This module is the recorder itself: `OpRecorder`, its torch function and dispatch modes, and the accounting
they do per op (casts that change values, tensors over foreign memory, scalar reads).

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

from rewards.harness.op_policy import (
    ALLOWED_ATEN,
    DENIED_FROM_CANDIDATE,
    DENIED_FUNCTIONS,
    HOST_VIEWS,
    MAX_SCALAR_BYTES,
    candidate_on_stack,
    candidate_since,
)

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
        self.function_mode: RecorderFunctionMode | None = None

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

    def watch(self) -> RecorderFunctionMode:
        """Push the function mode for the rest of the process (before candidate code loads): from here on
        the candidate's code cannot make host views of tensor memory, and in forward every torch call is
        checked. Forward's recorded regions then push only the dispatch mode."""
        fm = RecorderFunctionMode(self)
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



class RecorderFunctionMode(TorchFunctionMode):
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



class RecorderDispatchMode(TorchDispatchMode):
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
        if packet in _MATERIALIZES and any(_lazy_sign(t) for t in tensors_among([*args, *kwargs.values()])):
            rec.host[f"aten::{packet} materializes a conjugate/negative view (a negation outside the kernels)"] += 1
        if any(foreign_memory(t, rec) for t in tensors_among([*args, *kwargs.values()])):
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




def tensors_among(values: Any, depth: int = 1) -> list[Any]:
    """The tensors among `values` (an op's or a launch's arguments), in order, looking into exact lists and
    tuples `depth` levels deep: an op's arguments one level (`cat([a, b])`), a launch's four. Exact container
    types only, never a subclass's iteration: these are the candidate's objects, walked while it is recorded."""
    import torch

    found: list[Any] = []

    def walk(v: Any, level: int) -> None:
        if isinstance(v, torch.Tensor):
            found.append(v)
        elif type(v) in (list, tuple) and level < depth:
            for x in v:
                walk(x, level + 1)

    for v in values:
        walk(v, 0)
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
    for src in tensors_among([*args, *kwargs.values()]):
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
        self.fm = None if rec.function_mode is not None else RecorderFunctionMode(rec)
        self.dm = RecorderDispatchMode(rec)

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

