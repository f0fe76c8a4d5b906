"""Kernels written under Triton's interpreter, made compilable: each `InterpretedFunction` (the candidate's
kernels and helpers, and Triton's own library kernels such as `tl.sum`) as the `JITFunction` of the same code,
and `triton.language` put back as it was before the interpreter patched it, for the length of one compile.

Apart from `rewards.harness.target_compile` (which compiles a launch for a GPU target and judges its
resources) because this is the bridge between the interpreter's objects and the code generator's, with its
own per-process caches and patches; it knows nothing of targets, launches or the candidate.
"""

from __future__ import annotations

import contextlib
import types
from typing import Any

# Under the interpreter `@triton.jit` makes `InterpretedFunction`s (the candidate's helpers, and Triton's own
# library kernels such as `tl.zeros` or `tl.sum`), which the code generator does not know. Each is compiled as
# a JITFunction of the same code over a copy of its module's globals in which every interpreted kernel is one.
_JITS: dict[int, Any] = {}  # id(python function) -> its JITFunction
_GLOBALS: dict[int, dict[str, Any]] = {}  # id(module dict) -> its translated copy


def jit_of(fn: types.FunctionType, kwargs: dict[str, Any]) -> Any:
    """The JITFunction that compiles `fn` (cached per process)."""
    jit = _JITS.get(id(fn))
    if jit is None:
        g = _translated(fn.__globals__)
        jit = g.get(fn.__name__)
        if not (type(jit).__name__ == "JITFunction" and getattr(jit.fn, "__code__", None) is fn.__code__):
            jit = _as_jit(fn, g, kwargs)
        _JITS[id(fn)] = jit
    return jit


def _translated(g: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of a module's globals in which every interpreted kernel defined there is a JITFunction."""
    from triton.runtime.interpreter import InterpretedFunction

    out = _GLOBALS.get(id(g))
    if out is not None:
        return out
    out = _GLOBALS[id(g)] = dict(g)
    for k, v in g.items():
        if type(v) is InterpretedFunction and isinstance(v.fn, types.FunctionType) and v.fn.__globals__ is g:
            out[k] = _JITS[id(v.fn)] = _as_jit(v.fn, out, v.kwargs or {})
    return out


def compile_interpreted_callees() -> None:
    """Let the code generator call an interpreted kernel reached as an attribute (`tl.zeros`, `mod.helper`)
    as its JITFunction (names in the kernel's own module are already translated)."""
    from triton.compiler.code_generator import CodeGenerator
    from triton.runtime.interpreter import InterpretedFunction

    orig = CodeGenerator.call_Function
    if getattr(orig, "_tf_interpreted", False):
        return

    def call_Function(self: Any, node: Any, fn: Any, args: Any, kws: Any) -> Any:  # noqa: N802
        if type(fn) is InterpretedFunction and isinstance(fn.fn, types.FunctionType):
            fn = jit_of(fn.fn, fn.kwargs or {})
        return orig(self, node, fn, args, kws)

    call_Function._tf_interpreted = True  # type: ignore[attr-defined]
    CodeGenerator.call_Function = call_Function  # type: ignore[method-assign]


# The interpreter swaps `triton.language`'s builtins for numpy-backed ones while a kernel runs, and a jit
# function called from inside a kernel (`tl.sum`, a candidate's helper: `InterpretedFunction.__call__`)
# patches them without ever restoring them. The code generator needs the originals: they are recorded
# once, before any kernel of this process lineage ran, and put back for the length of each compile.
_LANGUAGE: list[tuple[Any, dict[str, Any]]] = []


def _language_objects() -> list[Any]:
    import triton.language as tl

    return [tl, tl.core, tl.math, tl.tensor, tl.condition, tl.dtype, tl.core.tensor_descriptor_base]


def snapshot_language() -> None:
    """Record triton.language's pristine attributes (once per process lineage: the zygote, else here)."""
    if not _LANGUAGE:
        _LANGUAGE.extend((obj, dict(vars(obj))) for obj in _language_objects())


@contextlib.contextmanager
def pristine_language() -> Any:
    """triton.language as it was before the interpreter patched it, for one compile; then as it was."""
    changed: list[tuple[Any, str, Any]] = []
    missing = object()
    try:
        for obj, orig in _LANGUAGE:
            now = dict(vars(obj))
            for name, val in orig.items():
                if now.get(name, missing) is not val:
                    changed.append((obj, name, now.get(name, missing)))
                    setattr(obj, name, val)
            for name in now.keys() - orig.keys():
                changed.append((obj, name, now[name]))
                delattr(obj, name)
        yield
    finally:
        for obj, name, val in reversed(changed):
            if val is missing:
                delattr(obj, name)
            else:
                setattr(obj, name, val)


def _as_jit(fn: types.FunctionType, g: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    from triton.runtime.jit import JITFunction

    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__annotations__ = dict(fn.__annotations__)  # `x: tl.constexpr` is how a parameter is a constexpr
    new.__qualname__ = fn.__qualname__
    new.__module__ = fn.__module__
    new.__doc__ = fn.__doc__
    allowed = {"version", "do_not_specialize", "do_not_specialize_on_alignment", "debug", "noinline", "repr",
               "launch_metadata"}
    return JITFunction(new, **{k: v for k, v in kwargs.items() if k in allowed})
