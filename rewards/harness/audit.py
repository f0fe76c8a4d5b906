"""The candidate process's audit-hook policy, and what keeps candidate code from rewriting the harness.

* `arm_audit_hook` installs a `sys.addaudithook` policy (it cannot be removed) before candidate code is
  loaded: no subprocesses, sockets, ctypes, signals to others, introspection of frames, code objects or
  the garbage collector from candidate code, no writes outside the Triton cache, no reads of the
  sandbox's other files, no imports outside the allowlist.
* `freeze_modules` gives every loaded module a class that refuses attribute writes from candidate code;
  `admit_guarded_modules` lets Triton's GPU compiler accept such a module as a kernel global.
* `guard_operator_registry` refuses kernels registered for built-in operators, and `dispatch_fingerprint`
  notices one slipped into the dispatcher by any other route.

Whose code asked is `rewards.harness.op_policy.initiator`. Like the op recorder (`rewards.harness.guard`) this runs in the
process that executes untrusted code: a layer, not the boundary.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import types
from collections import Counter
from typing import Any

from rewards.harness.op_policy import ALLOWED_ATEN, CAND_MODULE, initiator, initiator_root

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


# What `tempfile` names its files and directories: "tmp" + 8 characters of [a-z0-9_] (+ a suffix).
_TEMPFILE_NAME = re.compile(r"^tmp[a-z0-9_]{8}(\.[A-Za-z0-9_.]+)?$")
_COMPILERS = frozenset({"cc", "gcc", "clang", "ptxas", "ldconfig", "nvdisasm", "cuobjdump", "c++", "g++"})


class _Policy:
    def __init__(self, sandbox_root: str | None, cache_dir: str | None, allow_compilers: bool,
                 tmp_dir: str | None = None, allow_ptxas: bool = False) -> None:
        self.allow_compilers = allow_compilers
        # CPU with the target-compile check (`rewards.harness.target_compile`): Triton's own ptxas, by its path, only
        self.ptxas_paths = _triton_ptxas_paths() if allow_ptxas else frozenset()
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
            if not ((self.allow_compilers and self._triton_compiler_call(args)) or self._triton_ptxas_call(args)):
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
            if event in ("sys._getframe", "sys._getframemodulename") and direct.split(".")[0] in _CALLER_NAME_MODULES:
                return  # they read the caller's module name (3.12+: through _getframemodulename), never hand a frame out
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

    def _triton_ptxas_call(self, args: tuple) -> bool:
        """On CPU, the target-compile check runs the ptxas in Triton's wheel (`make_cubin`, `--version`):
        exactly that executable, asked for by Triton's own code (never a candidate frame nearer)."""
        exe = args[0] if args else None
        if exe is None and len(args) > 1:  # subprocess.Popen(executable=None, args=[...], ...)
            exe = args[1]
        if isinstance(exe, (list, tuple)):
            exe = exe[0] if exe else None
        if not self.ptxas_paths or not isinstance(exe, (str, bytes, os.PathLike)):
            return False
        return os.path.realpath(os.fsdecode(exe)) in self.ptxas_paths and initiator_root(self.caller) == "triton"

    def _compiler_scratch(self, real: str) -> bool:
        """On CUDA without a private /tmp (no mount namespace), Triton's compiler still writes its ptx/cubin
        scratch files into the temporary directory (then the candidate's work dir inside the sandbox root).
        Allowed for Triton itself and only for `tempfile`-named entries (`tmpXXXXXXXX[.ext]` or inside such a
        directory): never the candidate, and never torch on the candidate's behalf (`torch.save(x, path)`)."""
        if not (self.allow_compilers and self.tmp_dir is None and _under(real, self.scratch_dir)):
            return False
        first = real[len(self.scratch_dir):].split(os.sep, 1)[0]
        return bool(_TEMPFILE_NAME.match(first)) and initiator_root(self.caller) == "triton"

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


def guard_signal_handlers() -> None:
    """Refuse Python signal handlers once the policy is armed. A handler runs between any two bytecodes of
    whatever the main thread executes: with an interval timer (`setitimer`, no audit event) forward's
    handler fires again after forward returns, while the harness checks and copies the outputs, and
    computes the answer there in torch, unrecorded. `signal.signal` raises no audit event either, so the
    C function is replaced wherever a module holds it (and as the Python wrapper's `__wrapped__`)."""
    import _signal
    import signal

    orig = _signal.signal
    plain = (signal.SIG_DFL, signal.SIG_IGN, signal.default_int_handler)

    def guarded(signalnum: Any, handler: Any) -> Any:
        if _POLICY is not None and _POLICY.armed and callable(handler) and not any(handler is p for p in plain):
            _POLICY.denied["signal_handler"] += 1
            raise PermissionError("tritonforge sandbox: installing a Python signal handler is not allowed "
                                  "(it would run code at arbitrary points of the harness)")
        return orig(signalnum, handler)

    from rewards.harness.process_guards import _replace_everywhere

    _replace_everywhere({id(orig): guarded})
    if getattr(signal.signal, "__wrapped__", None) is orig:
        signal.signal.__wrapped__ = guarded  # type: ignore[attr-defined]


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


def admit_guarded_modules() -> bool:
    """Let Triton's compiler take a guarded module for the module it is.

    Triton admits a kernel's global only if, among other rules, `type(val) is ModuleType`: an exact type
    test, so after `freeze_modules` every `tl.constexpr` annotation and `tl.load` in a kernel failed to
    compile on a GPU ("Cannot access global variable tl"). The interpreter never asks. The lookup Triton
    builds per kernel is wrapped: where it refuses a name whose global is a guarded module, the module is
    returned, exactly as the unguarded module would have been. Returns whether Triton's code generator
    was found and wrapped."""
    try:
        from triton.compiler.code_generator import CodeGenerator
    except ImportError:
        return False
    orig = getattr(CodeGenerator, "_define_name_lookup", None)
    if orig is None or getattr(orig, "_tf_admits_guarded", False):
        return orig is not None

    def _define_name_lookup(self: Any) -> Any:
        inner = orig(self)

        def name_lookup(name: str) -> Any:
            try:
                return inner(name)
            except NameError:
                val = self.gscope.get(name)
                if type(val) is _GuardedModule:
                    return val
                raise

        return name_lookup

    _define_name_lookup._tf_admits_guarded = True  # type: ignore[attr-defined]
    CodeGenerator._define_name_lookup = _define_name_lookup  # type: ignore[method-assign]
    return True


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


def _triton_ptxas_paths() -> frozenset[str]:
    """The ptxas executables Triton's NVIDIA backend runs (resolved before candidate code exists)."""
    try:
        from triton import knobs

        return frozenset(os.path.realpath(t.path) for t in (knobs.nvidia.ptxas, knobs.nvidia.ptxas_blackwell)
                         if t is not None and t.path)
    except Exception:
        return frozenset()


def arm_audit_hook(sandbox_root: str | None, cache_dir: str | None, allow_compilers: bool = False,
                   tmp_dir: str | None = None, allow_ptxas: bool = False) -> _Policy:
    """Install (once per process; audit hooks cannot be removed) and arm the policy.

    `allow_compilers` (CUDA only): Triton's own calls to cc/ptxas from inside `triton.*` are let through.
    `allow_ptxas` (CPU target-compile check): only Triton's bundled ptxas, by path, from `triton.*`."""
    global _POLICY
    if _POLICY is None:
        _POLICY = _Policy(sandbox_root, cache_dir, allow_compilers, tmp_dir, allow_ptxas)
        sys.addaudithook(_POLICY)
    _POLICY.armed = True
    return _POLICY
