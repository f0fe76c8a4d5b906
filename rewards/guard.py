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
* `LaunchCounter` counts launches of `@triton.jit` functions defined in the candidate module.
* `arm_audit_hook` installs a `sys.addaudithook` policy (it cannot be removed) before candidate code is
  loaded: no subprocesses, sockets, ctypes, signals to others, introspection of frames, code objects or
  the garbage collector from candidate code, no writes outside the Triton cache, no reads of the
  sandbox's other files, no imports outside the allowlist.

All of this runs in the process that executes untrusted code, so it is a layer, not the boundary: the
report it produces leaves through a pipe that only the harness holds (`rewards.channel`), and the
correctness of the outputs is judged in another process.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import types
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
        self.fm.__enter__()
        self.dm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.dm.__exit__(*exc)
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
        self.names: set[str] = set()
        self.failed_in_kernel = False  # an exception escaped a candidate kernel launch (build/JIT errors)
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
        for cls in classes:
            orig = cls.run

            def run(self, *args, __orig=orig, **kwargs):  # noqa: ANN001
                fn = getattr(self, "fn", None)
                mine = getattr(fn, "__module__", None) == CAND_MODULE
                warmup = kwargs.get("warmup", False)
                if mine and not counter.rec.suspended:
                    check_kernel_args(args, kwargs)
                programs: list[int] = []
                if "grid" in kwargs:
                    kwargs["grid"] = _grid_probe(kwargs["grid"], programs)
                try:
                    out = __orig(self, *args, **kwargs)
                except BaseException:
                    counter.failed_in_kernel = counter.failed_in_kernel or mine
                    raise
                if mine and not warmup and programs and programs[-1] > 0:
                    counter.count += 1
                    counter.names.add(getattr(fn, "__name__", "?"))
                return out

            cls.run = run


def _grid_probe(grid: Any, programs: list[int]) -> Any:
    """Record how many programs a launch's grid asks for (a callable grid is wrapped, not called twice)."""

    def size(g: Any) -> int:
        n = 1
        for d in tuple(g) if isinstance(g, (tuple, list)) else (g,):
            n *= int(d)
        return n

    if callable(grid):
        def probe(meta: Any) -> Any:
            g = grid(meta)
            programs.append(size(g))
            return g

        return probe
    programs.append(size(grid))
    return grid


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
    f = frame
    while f is not None:
        name = f.f_globals.get("__name__", "") or ""
        if name == CAND_MODULE or f.f_code.co_filename == "candidate.py":
            return "candidate"
        if name.split(".")[0] in _TRUSTED_ROOTS:
            return "trusted"
        f = f.f_back
    return None


def python_threads() -> int:
    """Threads running Python code; a helper thread could compute outside the recorder (modes are per thread)."""
    return len(sys._current_frames())


# --------------------------------------------------------------------------------------------- audit hook
# Events refused when the code that raised them is the candidate's own (its module, or code it exec'd).
_DENY_FROM_CANDIDATE = frozenset({
    "object.__getattr__", "object.__setattr__", "object.__delattr__", "sys._getframe", "sys._current_frames",
    "sys.settrace", "sys.setprofile", "sys._getframemodulename", "exec", "compile", "code.__new__",
    "function.__new__", "builtins.input", "builtins.breakpoint", "cpython.run_command",
})
# Events that hand out frames (whose f_back/f_locals are not audited): refused while candidate code is on
# the stack unless raised by a library the harness trusts (torch and triton inspect their own frames).
_FRAME_EVENTS = frozenset({"sys._getframe", "sys._current_frames", "sys._getframemodulename", "object.__getattr__"})
# Events refused whoever raised them, once armed: nothing the harness needs after loading the candidate.
_DENY_ALWAYS_PREFIXES = (
    "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "socket.", "ctypes.", "mmap.", "os.chmod", "os.chown", "os.link", "os.symlink",
    "os.truncate", "os.setxattr", "os.removexattr", "os.putenv", "os.unsetenv", "signal.pthread_kill",
    "sys.addaudithook", "gc.", "_posixsubprocess.", "pty.", "resource.setrlimit", "fcntl.", "sys.monitoring",
    "pickle.find_class", "webbrowser.", "urllib.", "http.", "ftplib.", "smtplib.",
    "os.listdrives", "winreg.", "syslog.",
)
# Modules candidate code may import at run time (static rules enforce the same list on import statements).
_IMPORT_ALLOWED = frozenset({
    "torch", "triton", "math", "numpy", "typing", "typing_extensions", "functools", "itertools", "collections",
    "dataclasses", "abc", "enum", "numbers", "__future__", "warnings", "random", "time", "contextlib", "copy",
    "logging", "operator",
})


# Standard-library modules that generate and patch classes on the candidate's behalf in normal use.
_CODEGEN_MODULES = frozenset({"dataclasses", "collections", "enum", "abc"})
_CALLER_NAME_MODULES = _CODEGEN_MODULES | {"typing", "typing_extensions"}


def _module_of(obj: Any) -> str | None:
    """`__module__` from a class's own dict (read without running any of its code); None otherwise."""
    if isinstance(obj, type):
        return type.__dict__["__dict__"].__get__(obj).get("__module__")
    return None


def _candidate_owned(obj: Any) -> bool:
    """Whether `obj` is a class or function the candidate module defined (read without running its code)."""
    if isinstance(obj, type):
        own = type.__dict__["__dict__"].__get__(obj)
        return own.get("__module__") == CAND_MODULE
    if type(obj) is types.FunctionType:
        return types.FunctionType.__dict__["__globals__"].__get__(obj).get("__name__") == CAND_MODULE
    return False


_COMPILERS = frozenset({"cc", "gcc", "clang", "ptxas", "ldconfig", "nvdisasm", "cuobjdump", "c++", "g++"})


class _Policy:
    def __init__(self, sandbox_root: str | None, cache_dir: str | None, allow_compilers: bool,
                 tmp_dir: str | None = None) -> None:
        self.allow_compilers = allow_compilers
        self.tmp_dir = os.path.realpath(tmp_dir) + os.sep if tmp_dir else None
        self.caller: Any = None
        self.armed = False
        self.busy = False
        self.sandbox_root = os.path.realpath(sandbox_root) + os.sep if sandbox_root else None
        self.cache_dir = os.path.realpath(cache_dir) + os.sep if cache_dir else None
        self.scratch_dir = os.path.realpath(tempfile.gettempdir()) + os.sep  # resolved before arming
        self.denied: Counter[str] = Counter()

    def _candidate_on_stack(self) -> bool:
        f = self.caller
        while f is not None:
            if f.f_globals.get("__name__", "") == CAND_MODULE:
                return True
            f = f.f_back
        return False

    def deny(self, event: str, why: str, count: bool = True) -> None:
        if count:
            self.denied[event] += 1
        raise PermissionError(f"tritonforge sandbox: {event} is not allowed ({why})")

    def __call__(self, event: str, args: tuple) -> None:
        if not self.armed or self.busy:
            return
        self.busy = True
        try:
            self.caller = sys._getframe(1)  # the Python frame whose action raised the event
            self._check(event, args)
        finally:
            self.caller = None
            self.busy = False

    def _check(self, event: str, args: tuple) -> None:
        if event.startswith(("subprocess.", "os.posix_spawn", "os.exec", "_posixsubprocess.")):
            if not (self.allow_compilers and self._triton_compiler_call(args)):
                # On CUDA torch/triton probe for tools on their own (`which nvcc` and the like, inside a
                # try): refused all the same, but not held against the candidate, whose kernel then compiles.
                quiet = self.allow_compilers and initiator(self.caller) == "trusted"
                self.deny(event, f"no subprocesses in a kernel ({_exe_name(args) or '?'})", count=not quiet)
            return
        if self.allow_compilers and event.startswith(("ctypes.", "os.chmod", "mmap.")) and initiator(self.caller) == "trusted":
            return  # on CUDA, Triton's driver and compiler (and torch's) may need these; never candidate code
        if event.startswith(_DENY_ALWAYS_PREFIXES):
            self.deny(event, "no process, network, native-code or introspection access in a kernel")
        if event in _DENY_FROM_CANDIDATE or event in _FRAME_EVENTS:
            direct = (self.caller.f_globals.get("__name__", "") or "") if self.caller is not None else ""
            codegen = direct.split(".")[0] in _CODEGEN_MODULES
            if event in ("object.__setattr__", "object.__delattr__") and args and (
                    _candidate_owned(args[0]) or (codegen and _module_of(args[0]) in _CODEGEN_MODULES)):
                return  # a class the candidate defines, or a fresh one namedtuple/Enum is building (never torch's)
            if event == "object.__getattr__" and args and _candidate_owned(args[0]):
                return  # `__code__` of its own function (inspect.signature for @dataclass); frames stay closed
            if event in ("exec", "compile") and codegen:
                return  # dataclasses/namedtuple/enum generate methods from identifiers, not from strings of code
            if event == "sys._getframe" and direct.split(".")[0] in _CALLER_NAME_MODULES:
                return  # they read the caller's module name from the frame and never hand the frame out
            if initiator(self.caller) == "candidate":
                self.deny(event, "candidate code (directly or through a helper library) may not introspect or generate code")
        if event == "import" and args and isinstance(args[0], str):
            root = args[0].split(".")[0]
            if root not in _IMPORT_ALLOWED and initiator(self.caller) == "candidate":
                self.deny(event, f"module {args[0]!r} is not on the import allowlist")
        elif event == "open" and args:
            self._check_open(args)
        elif (event in ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.utime")
              or event.startswith("shutil.")) and args:
            path = args[0]
            scratch = isinstance(path, (str, bytes, os.PathLike)) and self._compiler_scratch(os.path.realpath(os.fsdecode(path)))
            if not self._writable(path) and not scratch and self._candidate_on_stack():
                self.deny(event, "only the sandbox's private temporary directory is writable")

    def _triton_compiler_call(self, args: tuple) -> bool:
        """On GPU Triton compiles its launcher (cc) and cubins (ptxas) in subprocesses: allow exactly that."""
        name = _exe_name(args)
        if not (name in _COMPILERS or name.startswith(("gcc", "clang", "ptxas"))):
            return False
        return initiator(self.caller) == "trusted"

    def _compiler_scratch(self, real: str) -> bool:
        """On CUDA without a private /tmp (no mount namespace), Triton's compiler still writes its ptx/cubin
        scratch files into the temporary directory (then the candidate's work dir inside the sandbox root):
        allowed for torch/triton themselves, never the candidate."""
        return (self.allow_compilers and self.tmp_dir is None and _under(real, self.scratch_dir)
                and initiator(self.caller) == "trusted")

    def _writable(self, path: Any) -> bool:
        """Inside the Triton cache or the candidate's private temporary directory (a tmpfs that vanishes
        with it, as root); `path` is resolved once."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            return False
        real = os.path.realpath(os.fsdecode(path))
        return _under(real, self.cache_dir) or _under(real, self.tmp_dir)

    def _check_open(self, args: tuple) -> None:
        path, mode = args[0], args[1] if len(args) > 1 else "r"
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if isinstance(path, int):
            # Triton's CUDA compiler wraps the fds of `tempfile.NamedTemporaryFile` (mkstemp + open(fd)) for
            # ptxas; the candidate (directly or through a helper) must not reopen inherited ones.
            if initiator(self.caller) != "trusted":
                self.deny("open", "opening inherited file descriptors")
            return
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        p = os.fsdecode(path)
        real = os.path.realpath(p)
        if _PROC_PRIVATE.match(real):
            self.deny("open", "process file descriptors and memory are private to the harness")
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        in_cache = _under(real, self.cache_dir)
        scratch = self._compiler_scratch(real)
        if writing and not in_cache and not _under(real, self.tmp_dir) and not scratch and real != os.devnull:
            self.deny("open", f"writing {p!r}: only the sandbox's private temporary directory is writable")
        if _under(real, self.sandbox_root) and not in_cache and not scratch:
            self.deny("open", f"{p!r}: the sandbox's files are the harness's")


def _exe_name(args: tuple) -> str:
    """Base name of the program a subprocess/exec audit event starts ("" when it cannot be told)."""
    exe = args[0] if args else None
    if exe is None and len(args) > 1:  # subprocess.Popen(executable=None, args=[...], ...)
        exe = args[1]
    if isinstance(exe, (list, tuple)):
        exe = exe[0] if exe else None
    return os.path.basename(os.fsdecode(exe)) if isinstance(exe, (str, bytes, os.PathLike)) else ""


# A process's descriptors, memory and environment (also per thread): /proc/meminfo and the like stay readable.
_PROC_PRIVATE = re.compile(r"^/proc/[^/]+/(task/[^/]+/)?(fd|fdinfo|mem|environ|map_files)(/|$)")


def _under(real: str, root: str | None) -> bool:
    """`real` (a resolved path) is `root` or inside it (`root` ends with a separator)."""
    return root is not None and (real + os.sep).startswith(root)


_POLICY: _Policy | None = None

# Operator namespaces that ship with torch: a candidate may define ops in a namespace of its own
# (`custom_op`, `triton_op`), never add kernels to these (a Python kernel for `aten::clone` would run
# torch code behind an allowed op's name, with the recorder's modes popped).
BUILTIN_NAMESPACES = frozenset({"aten", "prims", "prim", "quantized", "_quantized", "sparse", "rngprims",
                                "higher_order", "inductor", "_c10d_functional", "c10d", "_dtensor", "mkldnn",
                                "mkl", "onednn", "profiler", "_test", "debugprims", "quantized_decomposed",
                                "torchvision", "fbgemm", "_inductor_test", "triton", "xla", "cuda", "mps"})


def guard_operator_registry() -> None:
    """Refuse `torch.library.Library(<built-in namespace>, "IMPL"/"FRAGMENT")` (and so `impl`,
    `register_kernel`, `register_fake`... on built-in ops) once installed; custom namespaces stay open."""
    import torch.library as tlib

    orig_init = tlib.Library.__init__

    def init(self, ns, kind, dispatch_key="", *a, **k):  # noqa: ANN001, ANN002, ANN003
        if kind != "DEF" and str(ns) in BUILTIN_NAMESPACES and initiator(sys._getframe(1)) == "candidate":
            raise PermissionError(f"tritonforge sandbox: registering kernels for built-in operators ({ns}) is not allowed")
        return orig_init(self, ns, kind, dispatch_key, *a, **k)

    tlib.Library.__init__ = init


class _GuardedModule(types.ModuleType):
    """A module whose attributes candidate code cannot rebind (module setattr raises no audit event)."""

    def __setattr__(self, name: str, value: Any) -> None:
        _refuse_module_patch(self, name)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        _refuse_module_patch(self, name)
        super().__delattr__(name)

    # Modules are singletons. Triton's dependency finder skips globals whose type *is* ModuleType and
    # deep-copies the rest (to notice later rebinding): a guarded module must survive that as itself.
    def __copy__(self) -> _GuardedModule:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _GuardedModule:
        return self


def _refuse_module_patch(mod: Any, name: str) -> None:
    if _POLICY is not None and _POLICY.armed and initiator(sys._getframe(2)) == "candidate":
        _POLICY.denied["module_patch"] += 1
        raise PermissionError(f"tritonforge sandbox: rebinding {mod.__name__}.{name} is not allowed")


def freeze_modules() -> int:
    """Give every loaded module (torch, triton, numpy, the standard library, the harness) a class that
    refuses attribute writes from candidate code. Reads cost nothing extra. Returns how many."""
    n = 0
    for mod in list(sys.modules.values()):
        if type(mod) is types.ModuleType and mod.__name__ != CAND_MODULE:
            try:
                mod.__class__ = _GuardedModule
                n += 1
            except TypeError:
                pass
    return n


def dispatch_fingerprint() -> str:
    """The dispatcher's registrations for every allowed op (plus the copies the harness runs after forward):
    compared before and after candidate code runs, so a kernel slipped in by any route is noticed."""
    import hashlib

    import torch

    h = hashlib.sha256()
    for op in sorted(ALLOWED_ATEN | {"detach", "_to_copy", "clone", "copy_", "empty_like"}):
        try:
            h.update(torch._C._dispatch_dump(f"aten::{op}").encode())
        except Exception:
            continue
    return h.hexdigest()


def arm_audit_hook(sandbox_root: str | None, cache_dir: str | None, allow_compilers: bool = False,
                   tmp_dir: str | None = None) -> _Policy:
    """Install (once per process; audit hooks cannot be removed) and arm the policy.

    `allow_compilers` (CUDA only): Triton's own calls to cc/ptxas from inside `triton.*` are let through."""
    global _POLICY
    if _POLICY is None:
        _POLICY = _Policy(sandbox_root, cache_dir, allow_compilers, tmp_dir)
        sys.addaudithook(_POLICY)
    _POLICY.armed = True
    return _POLICY
