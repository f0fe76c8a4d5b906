"""Shims for gaps of the Triton CPU interpreter (``TRITON_INTERPRET=1``) that honest kernels hit.

Why: on a machine without a GPU every kernel runs under Triton's interpreter, and three things that
compile fine on CUDA fail there for reasons unrelated to the kernel's correctness. Scoring those as
wrong would make CPU numbers (eval, selfcheck, GRPO smoke runs) punish correct code:

* ``@triton.autotune`` benchmarks its configs through the active GPU driver ("0 active drivers").
  Under the interpreter timing means nothing, so the shim makes every config tie and the autotuner keeps
  the first config after pruning (deterministic; every config must be correct anyway).
* ``tl.extra.cuda.libdevice`` (and ``triton.language.extra.libdevice``) lower to extern calls that the
  interpreter does not implement. The shim evaluates the named libdevice symbol with numpy
  (``__nv_tanhf`` -> ``np.tanh``), and fails with one clear line for symbols it does not know.
* String annotations (``BLOCK: "tl.constexpr"``) reach the interpreter quoted twice after its source
  rewrite, so the argument is not treated as a constexpr. The shim strips the quotes.
* A grid given as a list (``kernel[[n, 1]](...)``, or a grid function returning one) is accepted on GPU
  but breaks the interpreter's grid padding; the shim turns it into a tuple.
* Device bookkeeping with no CUDA present: ``with torch.cuda.device(x.device):``,
  ``torch.cuda._DeviceGuard``, ``torch.cuda.synchronize()`` and ``torch.cuda.set_device`` only select or
  wait for a GPU; on a machine without one they become no-ops (only when CUDA is unavailable, so a GPU
  run is never touched). Queries used to pick block sizes (`current_device`, `get_device_name`,
  `get_device_capability`, `get_device_properties`) answer as one A100-class GPU (sm_80, 108 SMs):
  under the interpreter any honest choice computes the same values.
* A builtin imported by name (``from triton.language.extra.cuda.libdevice import finitef``) is bound in
  the kernel's module, where the interpreter's per-call patching of `triton.language` does not reach; the
  shim rebinds such names to the patched builtins for the duration of each kernel call.
* Block pointers (``tl.make_block_ptr`` / ``tl.advance`` / ``tl.load(bp, boundary_check=...)``) were removed
  in Triton 3.9 but are what code for Triton 3.0-3.6 (the GPU box) uses in matmul and attention kernels.
  Where the installed Triton lacks them, `rewards.harness.interp_blockptr` emulates them per kernel call as masked
  loads and stores through a tensor of pointers (a Triton that still has them is left alone).

`install()` is idempotent and does nothing unless ``TRITON_INTERPRET=1`` (GPU runs keep real Triton).
It must run in the sandbox process before candidate or reference code is loaded (see rewards/harness/child.py).
It patches Triton, and torch.cuda's device selection when no GPU exists; never anything the comparison or
the timing reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

_INSTALLED = False


class UnsupportedOnCPU(NotImplementedError):
    """A construct the CPU interpreter cannot run even with the shims (kernel is not judged wrong)."""


# -- libdevice symbols -> numpy ------------------------------------------------------------------------


def _np_table() -> dict[str, Callable[..., Any]]:
    import math

    import numpy as np

    def rsqrt(x: Any) -> Any:
        return 1.0 / np.sqrt(x)

    def vec(fn: Callable[[float], float]) -> Callable[[Any], Any]:
        v = np.vectorize(fn, otypes=[np.float64])
        return lambda x: v(np.asarray(x, dtype=np.float64))

    def exp10(x: Any) -> Any:
        return np.power(10.0, x)

    def fma(a: Any, b: Any, c: Any) -> Any:
        return a * b + c

    def saturate(x: Any) -> Any:
        return np.clip(x, 0.0, 1.0)

    return {
        "exp": np.exp, "exp2": np.exp2, "exp10": exp10, "expm1": np.expm1, "log": np.log, "log2": np.log2,
        "log10": np.log10, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin,
        "acos": np.arccos, "atan": np.arctan, "atan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh,
        "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh, "sqrt": np.sqrt,
        "rsqrt": rsqrt, "cbrt": np.cbrt, "pow": np.power, "powi": np.power, "floor": np.floor, "ceil": np.ceil,
        "trunc": np.trunc, "round": np.round, "rint": np.rint, "nearbyint": np.rint, "abs": np.abs,
        "fabs": np.abs, "llabs": np.abs, "max": np.maximum, "min": np.minimum, "fmax": np.fmax, "fmin": np.fmin,
        "fmod": np.fmod, "remainder": np.remainder, "hypot": np.hypot, "copysign": np.copysign,
        "erf": vec(math.erf), "erfc": vec(math.erfc), "lgamma": vec(math.lgamma), "tgamma": vec(math.gamma),
        "isnan": np.isnan, "isinf": np.isinf, "isfinited": np.isfinite, "finitef": np.isfinite,
        "isfinite": np.isfinite, "signbit": np.signbit, "fma": fma, "saturate": saturate,
        "div_rn": np.divide, "fdiv_rn": np.divide, "fdividef": np.divide, "div": np.divide,
        "sqrt_rn": np.sqrt, "llrint": np.rint, "lrint": np.rint, "llround": np.round, "nextafter": np.nextafter,
        "ldexp": np.ldexp, "ilogb": lambda x: np.floor(np.log2(np.abs(x))), "logb": lambda x: np.floor(np.log2(np.abs(x))),
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    }


def libdevice_numpy(symbol: str) -> Callable[..., Any]:
    """The numpy function evaluating a libdevice symbol such as ``__nv_tanhf`` or ``__nv_fast_expf``."""
    name = symbol.removeprefix("__nv_").removeprefix("__ocml_")
    name = name.removeprefix("fast_")
    table = _np_table()
    for cand in (name, name[:-1] if name.endswith(("f", "d")) else None, name.removesuffix("ll"),
                 name.rsplit("_", 1)[0] if name.endswith(("_rn", "_rz", "_rd", "_ru")) else None,
                 name.removesuffix("f").rsplit("_", 1)[0]):
        if cand and cand in table:
            return table[cand]
    raise UnsupportedOnCPU(f"libdevice function {symbol} is not supported under the CPU interpreter")


def _extern_elementwise(self: Any, libName: str, libPath: str, symbol: str, argList: list[Any], retType: Any,  # noqa: N803
                        isPure: bool) -> Any:  # noqa: N803
    import numpy as np
    from triton.runtime import interpreter as itp

    fn = libdevice_numpy(symbol)
    with np.errstate(all="ignore"):
        out = fn(*[a.data for a in argList])
    dtype = retType.scalar if hasattr(retType, "scalar") else retType
    return itp.TensorHandle(np.asarray(out).astype(itp._get_np_dtype(dtype)), dtype)


def _libdevice_modules() -> tuple[Any | None, list[Any]]:
    """(CUDA libdevice with real definitions, every module a kernel may reach libdevice through)."""
    mods: list[Any] = []
    cuda = None
    try:
        from triton.language.extra.cuda import libdevice as cuda_ld

        cuda = cuda_ld
        mods.append(cuda_ld)
    except ImportError:
        pass
    try:
        from triton.language.extra import libdevice as generic

        mods.append(generic)
    except ImportError:
        pass
    return cuda, mods


def _install_libdevice() -> None:
    import triton.language as tl
    from triton.runtime import interpreter as itp

    itp.InterpreterBuilder.create_extern_elementwise = _extern_elementwise
    cuda, mods = _libdevice_modules()
    if cuda is None:
        return
    builtins = {n: m for n, m in vars(cuda).items() if tl.core.is_builtin(m)}
    orig = itp._patch_lang

    def patch_lang(fn: Any) -> Any:
        scope = orig(fn)
        for mod in mods:
            for name, member in builtins.items():
                # The generic module's stubs resolve to the CUDA definitions, as the GPU compiler does.
                itp._patch_attr(mod, name, member, itp.interpreter_builder, scope)
        return scope

    itp._patch_lang = patch_lang


# -- autotune --------------------------------------------------------------------------------------------


def _install_autotune() -> None:
    from triton.runtime import autotuner

    def bench(self: Any, *args: Any, config: Any, **meta: Any) -> list[float]:
        return [0.0, 0.0, 0.0]  # all configs tie: the first (after pruning) is kept; nothing is launched

    autotuner.Autotuner._bench = bench


# -- string constexpr annotations -----------------------------------------------------------------------


def _install_constexpr_strings() -> None:
    import inspect

    from triton.runtime import interpreter as itp
    from triton.runtime.jit import _normalize_ty

    orig = itp.GridExecutor.__init__

    def as_tuple(grid: Any) -> Any:
        if isinstance(grid, list):
            return tuple(grid)
        if callable(grid):
            return lambda meta: as_tuple(grid(meta))
        return grid

    def init(self: Any, fn: Any, arg_names: Any, grid: Any, pre_run_hooks: Any = None) -> None:
        orig(self, fn, arg_names, as_tuple(grid), [] if pre_run_hooks is None else pre_run_hooks)
        ann = inspect.get_annotations(fn)
        for name in arg_names:
            ty = ann.get(name)
            quoted = isinstance(ty, str) and name not in self.constexprs
            if quoted and _normalize_ty(ty.strip().strip("'\"")) == "constexpr":
                self.constexprs.append(name)

    itp.GridExecutor.__init__ = init


class _NoDevice:
    """Stands in for `torch.cuda.device(...)` / `torch.cuda._DeviceGuard(...)` when there is no GPU."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _NoDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _InterpreterDevice:
    """What `torch.cuda.get_device_properties` answers without a GPU: an A100-class device."""

    name = "CPU (Triton interpreter, answering as sm_80)"
    major, minor = 8, 0
    multi_processor_count = 108
    total_memory = 80 * 1024**3
    L2_cache_size = 40 * 1024**2
    max_threads_per_multi_processor = 2048
    regs_per_multiprocessor = 65536
    warp_size = 32
    is_integrated = False
    is_multi_gpu_board = False


def _install_cuda_noops() -> None:
    import torch

    if torch.cuda.is_available():
        return
    torch.cuda.device = _NoDevice  # type: ignore[assignment,misc]
    torch.cuda._DeviceGuard = _NoDevice  # type: ignore[attr-defined]
    torch.cuda.synchronize = lambda *a, **k: None  # type: ignore[assignment]
    torch.cuda.set_device = lambda *a, **k: None  # type: ignore[assignment]
    torch.cuda.current_device = lambda: 0  # type: ignore[assignment]
    torch.cuda.get_device_name = lambda *a, **k: "CPU (Triton interpreter, answering as sm_80)"  # type: ignore[assignment]
    torch.cuda.get_device_capability = lambda *a, **k: (8, 0)  # type: ignore[assignment]
    torch.cuda.get_device_properties = lambda *a, **k: _InterpreterDevice()  # type: ignore[assignment]


# -- builtins imported by name ----------------------------------------------------------------------------


class _NamespaceAttrs:
    """A module's globals seen as attributes, so the interpreter's patch scope can set and restore names there."""

    __slots__ = ("_ns",)

    def __init__(self, ns: dict[str, Any]) -> None:
        object.__setattr__(self, "_ns", ns)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._ns[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._ns[name] = value

    def __delattr__(self, name: str) -> None:
        del self._ns[name]


def _install_imported_builtins() -> None:
    """``from triton.language.extra.cuda.libdevice import finitef as _finitef`` (or ``from triton.language
    import load``) binds the builtin itself in the kernel's module; the interpreter only patches module
    attributes, so the call fails with "Did you forget to add @triton.jit ?". Each kernel call, such names
    are pointed at whatever the patched module attribute now is (the interpreter's builtin, the libdevice
    shim, the block-pointer emulation), in the same scope, so they are restored with the rest."""
    import triton.language as tl
    from triton.runtime import interpreter as itp

    cuda, libdevice_mods = _libdevice_modules()
    cuda_names = {n for n, m in vars(cuda).items() if tl.core.is_builtin(m)} if cuda is not None else set()
    homes: dict[int, tuple[Any, Any, str]] = {}  # id -> (the object, its module, its name there)
    for mod in (tl, tl.core, tl.math, *libdevice_mods):
        for name, member in vars(mod).items():
            # builtins, and the generic libdevice module's plain stubs (GPU compilers resolve them per backend)
            if tl.core.is_builtin(member) or (mod in libdevice_mods and name in cuda_names and callable(member)):
                homes.setdefault(id(member), (member, mod, name))
    orig = itp._patch_lang

    def patch_lang(fn: Any) -> Any:
        scope = orig(fn)
        ns = fn.__globals__
        for name, value in list(ns.items()):
            home = homes.get(id(value))
            if home is not None and home[0] is value:
                scope.set_attr(_NamespaceAttrs(ns), name, getattr(home[1], home[2]))
        return scope

    itp._patch_lang = patch_lang


def _install_blockptr() -> None:
    from rewards.harness import interp_blockptr
    interp_blockptr.install()  # no-op where the installed Triton still has block pointers


def install(force: bool = False) -> bool:
    """Apply every shim once, when running under the Triton interpreter (or `force`). True if installed."""
    global _INSTALLED
    if _INSTALLED:
        return True
    if not force and os.environ.get("TRITON_INTERPRET") != "1":
        return False
    _install_autotune()
    _install_libdevice()
    _install_constexpr_strings()
    _install_cuda_noops()
    _install_blockptr()
    _install_imported_builtins()  # last: it resolves names to what the shims above patched in
    _INSTALLED = True
    return True
