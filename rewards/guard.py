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
    # metadata and scalars
    "sym_size", "sym_stride", "sym_numel", "sym_storage_offset", "is_contiguous", "_local_scalar_dense",
    "size", "stride", "numel", "dim", "is_same_size", "is_nonzero",
})
# Tensor methods (torch-function level) that move data out of torch where no op can see it.
DENIED_FUNCTIONS = frozenset({
    "tolist", "numpy", "__array__", "__array_wrap__", "__dlpack__", "untyped_storage", "storage",
    "_typed_storage", "__reduce_ex__", "__setstate__", "_make_subclass", "register_hook",
})
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
        if not self.rec.suspended and name in DENIED_FUNCTIONS:
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
    On GPU the whole compiled launch runs with the recorder suspended (the launcher's own tensor calls are
    not the candidate's work; the profiler check covers device kernels); under the interpreter only the
    argument marshalling is suspended (see `_suspend_interpreter_marshalling`).
    """

    def __init__(self, rec: OpRecorder) -> None:
        self.count = 0
        self.names: set[str] = set()
        self.failed_in_kernel = False  # an exception escaped a candidate kernel launch (build/JIT errors)
        self.rec = rec
        self._install()

    def _install(self) -> None:
        from triton.runtime import jit as _jit

        classes: list[tuple[type, bool]] = [(_jit.JITFunction, True)]
        try:
            from triton.runtime.interpreter import InterpretedFunction

            classes.append((InterpretedFunction, False))
            _suspend_interpreter_marshalling(self.rec)
        except ImportError:
            pass
        counter = self
        for cls, compiled in classes:
            orig = cls.run

            def run(self, *args, __orig=orig, __compiled=compiled, **kwargs):  # noqa: ANN001
                fn = getattr(self, "fn", None)
                mine = getattr(fn, "__module__", None) == CAND_MODULE
                if mine and not kwargs.get("warmup", False):
                    counter.count += 1
                    counter.names.add(getattr(fn, "__name__", "?"))
                if __compiled:
                    counter.rec.suspended += 1
                try:
                    return __orig(self, *args, **kwargs)
                except BaseException:
                    counter.failed_in_kernel = counter.failed_in_kernel or mine
                    raise
                finally:
                    if __compiled:
                        counter.rec.suspended -= 1

            cls.run = run


def _suspend_interpreter_marshalling(rec: OpRecorder) -> None:
    """The interpreter copies kernel arguments to host storages and back with torch ops of its own."""
    from triton.runtime import interpreter as it

    def suspended(fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            rec.suspended += 1
            try:
                return fn(*a, **k)
            finally:
                rec.suspended -= 1

        return wrapper

    it.GridExecutor._init_args_hst = suspended(it.GridExecutor._init_args_hst)
    it.GridExecutor._restore_args_dev = suspended(it.GridExecutor._restore_args_dev)
    it._implicit_cvt = suspended(it._implicit_cvt)


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
_TRUSTED_CALLERS = ("torch", "triton", "rewards", "importlib", "typing", "typing_extensions", "dataclasses",
                    "enum", "collections", "abc", "functools", "contextlib", "numpy", "linecache", "inspect",
                    "ast", "dis", "tokenize", "traceback", "warnings", "copy", "re", "sympy")
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
        self.denied: Counter[str] = Counter()

    def _caller_is_candidate(self, skip_importlib: bool = False) -> bool:
        f = self.caller
        while f is not None:
            name = f.f_globals.get("__name__", "")
            if skip_importlib and (name.startswith("importlib") or f.f_code.co_filename.startswith("<frozen")):
                f = f.f_back
                continue
            return name == CAND_MODULE or f.f_code.co_filename in ("candidate.py", "<string>")
        return False

    def _caller_trusted(self) -> bool:
        f = self.caller
        if f is None:
            return False
        name = f.f_globals.get("__name__", "") or ""
        return f.f_code.co_filename.startswith("<frozen") or name.split(".")[0] in _TRUSTED_CALLERS

    def _candidate_on_stack(self) -> bool:
        f = self.caller
        while f is not None:
            if f.f_globals.get("__name__", "") == CAND_MODULE:
                return True
            f = f.f_back
        return False

    def deny(self, event: str, why: str) -> None:
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
                self.deny(event, "no subprocesses in a kernel")
            return
        if self.allow_compilers and event.startswith(("ctypes.", "os.chmod", "mmap.")) and self._library_call():
            return  # on CUDA, Triton's driver and compiler (and torch's) may need these; never candidate code
        if event.startswith(_DENY_ALWAYS_PREFIXES):
            self.deny(event, "no process, network, native-code or introspection access in a kernel")
        if event in _DENY_FROM_CANDIDATE and self._caller_is_candidate():
            self.deny(event, "candidate code may not introspect or generate code")
        if event in _FRAME_EVENTS and not self._caller_trusted() and self._candidate_on_stack():
            self.deny(event, "frames are reachable only from torch/triton internals while a candidate runs")
        if event == "import" and args and isinstance(args[0], str):
            root = args[0].split(".")[0]
            if root not in _IMPORT_ALLOWED and self._caller_is_candidate(skip_importlib=True):
                self.deny(event, f"module {args[0]!r} is not on the import allowlist")
        elif event == "open" and args:
            self._check_open(args)
        elif (event in ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.utime")
              or event.startswith("shutil.")) and args:
            path = args[0]
            if not self._in_cache(path) and not self._in_tmp(path) and self._candidate_on_stack():
                self.deny(event, "only the sandbox's private temporary directory is writable")

    def _library_call(self) -> bool:
        """The nearest frame that is torch/triton comes before any candidate frame (and there is one)."""
        f = self.caller
        while f is not None:
            mod = f.f_globals.get("__name__", "") or ""
            if mod == CAND_MODULE:
                return False
            if mod.split(".")[0] in ("triton", "torch"):
                return True
            f = f.f_back
        return False

    def _triton_compiler_call(self, args: tuple) -> bool:
        """On GPU Triton compiles its launcher (cc) and cubins (ptxas) in subprocesses: allow exactly that."""
        exe = args[0] if args else None
        if exe is None and len(args) > 1:  # subprocess.Popen(executable=None, args=[...], ...)
            exe = args[1]
        if isinstance(exe, (list, tuple)):
            exe = exe[0] if exe else None
        name = os.path.basename(os.fsdecode(exe)) if isinstance(exe, (str, bytes, os.PathLike)) else ""
        if not (name in _COMPILERS or name.startswith(("gcc", "clang", "ptxas"))):
            return False
        return self._library_call()

    def _in_tmp(self, path: Any) -> bool:
        """The candidate's private temporary directory (a tmpfs that vanishes with it, as root)."""
        if self.tmp_dir is None or not isinstance(path, (str, bytes, os.PathLike)):
            return False
        return (os.path.realpath(os.fsdecode(path)) + os.sep).startswith(self.tmp_dir)

    def _in_cache(self, path: Any) -> bool:
        if not isinstance(path, (str, bytes, os.PathLike)) or self.cache_dir is None:
            return False
        p = os.path.realpath(os.fsdecode(path))
        return (p + os.sep).startswith(self.cache_dir)

    def _check_open(self, args: tuple) -> None:
        path, mode = args[0], args[1] if len(args) > 1 else "r"
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if isinstance(path, int):
            self.deny("open", "opening inherited file descriptors")
        if not isinstance(path, (str, bytes, os.PathLike)):
            return
        p = os.fsdecode(path)
        real = os.path.realpath(p)
        if real.startswith("/proc/") and ("/fd" in real or "/mem" in real or "/environ" in real):
            self.deny("open", "process file descriptors and memory are private to the harness")
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing and not self._in_cache(p) and not self._in_tmp(p):
            self.deny("open", f"writing {p!r}: only the sandbox's private temporary directory is writable")
        if self.sandbox_root and (real + os.sep).startswith(self.sandbox_root) and not self._in_cache(p):
            self.deny("open", "the sandbox's files are the harness's")


_POLICY: _Policy | None = None


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
