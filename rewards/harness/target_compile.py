"""Compile, on the CPU, every kernel specialization a candidate launches, as the GPU's compiler would.

Why: on a machine without a GPU the judge runs kernels under Triton's interpreter (`TRITON_INTERPRET=1`),
which is not the compiler. The interpreter runs a jit body as plain Python, so it accepts what no GPU
compiler does: numpy or Python code inside `@triton.jit`, constructs the code generator rejects, a
matmul needing more shared memory than the target has (294,912 bytes on an H100 with 232,448 fails at
launch there). A CPU reward must not credit a kernel a GPU would refuse.

So, in the candidate process (the only place the kernel's `JITFunction` exists; nothing here runs in a
trusted process), each launch of a candidate kernel is also compiled for a configurable NVIDIA target
(`VerifyConfig.compile_target`, default `sm_90`) with Triton's own machinery: its binder
(`create_function_from_signature` + `specialize_impl`: pointer dtypes, int specialisation by divisibility
by 16 and ==1, constexprs, autotune meta-parameters and num_warps/num_stages passed as launch keywords)
and `JITFunction._pack_args`, then `triton.compile(ASTSource(...), target=GPUTarget("cuda", arch, 32))`,
which runs the code generator, LLVM and `ptxas` from Triton's wheel. What the launch of a compiled kernel
would check on the device (`CompiledKernel._init_handles`: shared memory above the target's
`max_shared_mem`, more threads than the registers allow) is checked against a table of the target, since
there is no device to ask. A refusal raises at the launch, before the interpreter runs the kernel, the
very exception the GPU raises (`CompilationError`, `PTXASError`, `OutOfResources`): the verdict is
`compile_error` with the compiler's message, and an autotuned kernel skips configs that do not fit, as
the GPU's autotuner does.

Kernels that fail only because the installed Triton (3.9) removed a feature the GPU box's Triton (3.6)
still has (block pointers) are noted "not checked", never failed: the interpreter decides as before. So
are launches whose specialization the checker cannot build (an error of the checker, not the kernel's).

Under the interpreter the kernels are `InterpretedFunction`s: they are compiled as the `JITFunction`s of the
same code, with `triton.language` as it was before the interpreter patched it
(`rewards.harness.interpreted_kernels`).

Each distinct (kernel, specialization, options) is compiled once per process; Triton's cache
(`TRITON_CACHE_DIR`, the sandbox's) serves a fresh process, and the ptxas resource report is kept there
next to the cubin. Registers, spills and shared memory of each compiled kernel go into the verdict.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import sys
import types
from dataclasses import asdict, dataclass
from typing import Any

from rewards.contract.targets import OFF, TARGETS, validate_target
from rewards.harness.interpreted_kernels import (
    compile_interpreted_callees,
    jit_of,
    pristine_language,
    snapshot_language,
)

_REGS_PER_SM = 65536  # every target above: 64K 32-bit registers per SM (and per block)
_REG_ALLOC_UNIT = 256  # registers are allocated per warp in units of 256
MAX_RECORDS = 8  # distinct compiled specializations reported per candidate (the verdict stays small)
BLOCK_POINTER_NOTE = "not checked: uses block pointers, which Triton {version} cannot compile"
# RuntimeErrors that are Triton refusing the kernel on a GPU too: an MLIR pass failing, and the dependency
# scan of a jit body (`JITFunction.cache_key`) meeting a plain Python function or a conflicting global.
_REFUSING_RUNTIME_ERRORS = ("PassManager", "Unsupported function referenced", "Global variable ")
_RESOURCE_FILE = "tf_ptxas_resources.json"


class TargetCompileError(RuntimeError):
    """Triton refuses the kernel on the GPU with a plain RuntimeError (a failing MLIR pass, a Python function
    referenced from a jit body); named so that the harness reads it as a compile error."""


@dataclass
class KernelRecord:
    """One compiled specialization (plain data: it travels in the candidate's report)."""

    name: str
    target: str
    registers: int | None = None
    spills: int | None = None  # bytes of spill stores ptxas reported
    shared_bytes: int | None = None
    note: str = ""  # why it was not checked, or what refused it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _compile_errors() -> tuple[type[BaseException], ...]:
    """The exceptions by which Triton's compiler (or a launch's resource check) refuses a kernel."""
    from triton.compiler.errors import CompilationError
    from triton.runtime.errors import OutOfResources, PTXASError

    return (CompilationError, PTXASError, OutOfResources)


class TargetCompiler:
    """Compiles the candidate's launches for one NVIDIA target; `check` raises what the GPU would raise."""

    def __init__(self, target: str) -> None:
        validate_target(target)
        if target == OFF:
            raise ValueError("TargetCompiler needs a target, not 'none'")
        import triton
        from triton.backends.compiler import GPUTarget
        from triton.compiler import make_backend

        self.target = target
        self.arch, self.max_shared = TARGETS[target]
        self.gpu_target = GPUTarget("cuda", self.arch, 32)
        self.backend = make_backend(self.gpu_target)
        self.triton_version = triton.__version__.split("+")[0]
        self.records: dict[Any, KernelRecord] = {}
        self._failures: dict[Any, BaseException] = {}
        self._binders: dict[int, Any] = {}
        snapshot_language()
        compile_interpreted_callees()
        _refuse_shared_before_ptxas(self.max_shared)

    # ------------------------------------------------------------------------------------------ public
    def check(self, launched: Any, args: tuple, kwargs: dict[str, Any]) -> KernelRecord | None:
        """Compile the kernel `launched` (a JITFunction or InterpretedFunction) for the arguments of this
        launch. Raises Triton's own compile/resource error when the target would refuse it; returns the
        record (None where nothing could be built)."""
        fn = getattr(launched, "fn", None)
        if not isinstance(fn, types.FunctionType):
            return None
        name = fn.__name__
        kw = {k: v for k, v in kwargs.items() if k not in ("grid", "warmup")}
        try:
            jit = self._jit(fn, launched)
            binder = self._binders.get(id(fn))
            if binder is None:
                from triton.runtime.jit import create_function_from_signature

                binder = self._binders[id(fn)] = create_function_from_signature(jit.signature, jit.params, self.backend)
            bound, spec, opts = binder(*args, **kw)
            from triton.runtime.jit import compute_cache_key

            key = (id(fn), compute_cache_key({}, spec, opts))
        except Exception as e:  # the checker could not specialise: not the kernel's fault
            return self._note(("spec", id(fn), type(e).__name__), name, f"not checked: {_brief(e)}")
        if key in self._failures:
            raise _copy_error(self._failures[key])
        if key in self.records:
            return self.records[key]
        try:
            options, signature, constexprs, attrs = jit._pack_args(self.backend, dict(kw), bound, spec, opts)
        except Exception as e:
            return self._note(key, name, f"not checked: {_brief(e)}")
        return self._compile(key, jit, name, options, signature, constexprs, attrs)

    def summary(self) -> list[dict[str, Any]]:
        """The records as plain dicts, first MAX_RECORDS."""
        return [r.to_dict() for r in list(self.records.values())[:MAX_RECORDS]]

    # ------------------------------------------------------------------------------------------ steps
    def _compile(self, key: Any, jit: Any, name: str, options: Any, signature: dict, constexprs: dict,
                 attrs: dict) -> KernelRecord:
        from triton.compiler import ASTSource, compile
        from triton.runtime.errors import OutOfResources

        src = ASTSource(jit, signature, constexprs, attrs)
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), _ptxas_report(), pristine_language():
                kernel = compile(src, target=self.gpu_target, options=options.__dict__)
        except _compile_errors() as e:
            if _block_pointers_removed(e):
                return self._note(key, name, BLOCK_POINTER_NOTE.format(version=self.triton_version))
            self._refuse(key, name, e)
            raise
        except RuntimeError as e:
            if not any(m in str(e) for m in _REFUSING_RUNTIME_ERRORS):
                return self._note(key, name, f"not checked: {_brief(e)}")
            refused = TargetCompileError(f"Triton's compiler for {self.target} refuses kernel {name}: {e}")
            self._refuse(key, name, refused)
            raise refused from e
        except Exception as e:  # the checker's own environment (ptxas not runnable...), not the kernel
            return self._note(key, name, f"not checked: {_brief(e)}")
        meta = kernel.metadata
        regs, spills = _resources(kernel, log.getvalue())
        rec = KernelRecord(name=str(getattr(meta, "name", name)), target=self.target, registers=regs,
                           spills=spills, shared_bytes=int(getattr(meta, "shared", 0) or 0))
        err: BaseException | None = None
        if rec.shared_bytes is not None and rec.shared_bytes > self.max_shared:
            err = OutOfResources(rec.shared_bytes, self.max_shared, "shared memory")
        elif regs:
            threads = int(getattr(meta, "num_warps", 4)) * int(getattr(meta, "warp_size", 32))
            if threads > max_threads(regs):
                err = OutOfResources(threads, max_threads(regs), "threads")
        if err is not None:
            rec.note = f"refused on {self.target}: {err}"
            self._keep(key, rec)
            self._failures[key] = err
            raise err
        self._keep(key, rec)
        return rec

    def _jit(self, fn: types.FunctionType, launched: Any) -> Any:
        from triton.runtime.jit import JITFunction

        return launched if isinstance(launched, JITFunction) else jit_of(fn, getattr(launched, "kwargs", None) or {})

    def _note(self, key: Any, name: str, note: str) -> KernelRecord:
        rec = self.records.get(key)
        if rec is None:
            rec = KernelRecord(name=name, target=self.target, note=note[:200])
            self._keep(key, rec)
        return rec

    def _refuse(self, key: Any, name: str, e: BaseException) -> None:
        self._failures[key] = e
        self._keep(key, KernelRecord(name=name, target=self.target, note=f"refused on {self.target}: {_brief(e)}"))

    def _keep(self, key: Any, rec: KernelRecord) -> None:
        self.records[key] = rec


@contextlib.contextmanager
def _ptxas_report() -> Any:
    """Have Triton print ptxas's `-v` report (registers, spills) for this compile only. The knob is set
    without Triton's usual write to the environment (the sandbox's audit hook refuses `os.putenv`, and
    nothing else in the process should start dumping logs)."""
    from triton import knobs

    prop, prev = knobs.propagate_env, knobs.nvidia.__dict__.get("dump_ptxas_log")
    knobs.propagate_env = False
    try:
        knobs.nvidia.dump_ptxas_log = True
        yield
    finally:
        if prev is None:
            knobs.nvidia.__dict__.pop("dump_ptxas_log", None)
        else:
            knobs.nvidia.dump_ptxas_log = prev
        knobs.propagate_env = prop


def _refuse_shared_before_ptxas(max_shared: int) -> None:
    """Refuse a kernel whose shared memory exceeds the target's as soon as the LLVM stage knows the amount.
    The launch would refuse it anyway (`CompiledKernel._init_handles`), and the tiles that need that much
    are the ones ptxas takes a minute over (spilling): the refusal costs the candidate no time budget."""
    from triton.backends.nvidia.compiler import CUDABackend
    from triton.runtime.errors import OutOfResources

    orig = CUDABackend.make_llir
    if getattr(orig, "_tf_max_shared", None) == max_shared:
        return
    inner = getattr(orig, "_tf_inner", orig)

    def make_llir(self: Any, src: Any, metadata: dict, options: Any, capability: int) -> Any:
        out = inner(self, src, metadata, options, capability)
        shared = metadata.get("shared")
        if isinstance(shared, int) and shared > max_shared:
            raise OutOfResources(shared, max_shared, "shared memory")
        return out

    make_llir._tf_max_shared = max_shared  # type: ignore[attr-defined]
    make_llir._tf_inner = inner  # type: ignore[attr-defined]
    CUDABackend.make_llir = make_llir  # type: ignore[method-assign]


def max_threads(registers: int) -> int:
    """Threads per block a kernel using `registers` per thread can launch with (what the driver reports
    as CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: 64K registers, allocated per warp in units of 256)."""
    per_warp = math.ceil(registers * 32 / _REG_ALLOC_UNIT) * _REG_ALLOC_UNIT
    return min(1024, (_REGS_PER_SM // max(per_warp, 1)) * 32)


_USED_REGS = re.compile(r"Used (\d+) registers")
_SPILLS = re.compile(r"(\d+) bytes spill stores")


def _resources(kernel: Any, ptxas_log: str) -> tuple[int | None, int | None]:
    """(registers, spill-store bytes) from this compile's ptxas report, kept in Triton's cache next to the
    cubin so that a later process that loads the kernel from the cache still has them."""
    regs = _USED_REGS.findall(ptxas_log)
    spills = _SPILLS.findall(ptxas_log)
    try:
        from triton.runtime.cache import get_cache_manager

        cache = get_cache_manager(kernel.hash)
        if regs:
            cache.put(json.dumps({"registers": int(regs[-1]), "spills": int(spills[-1]) if spills else 0}),
                      _RESOURCE_FILE, binary=False)
        else:
            path = cache.get_file(_RESOURCE_FILE)
            if path:
                with open(path) as f:
                    got = json.load(f)
                return int(got["registers"]), int(got["spills"])
    except Exception:
        pass
    return (int(regs[-1]) if regs else None), (int(spills[-1]) if spills else (0 if regs else None))


def _block_pointers_removed(e: BaseException) -> bool:
    """Whether the compile failed only because this Triton removed block pointers: Triton itself raised
    NotImplementedError("Block pointers have been removed ...") (its own frame, not the candidate's words in
    a comment or in an exception of its own: then the kernel would go unchecked)."""
    import os

    import triton
    from triton.compiler.errors import CompilationError

    cause = e.__cause__
    for _ in range(32):  # a jit helper's failure is wrapped once per call level
        if not isinstance(cause, CompilationError):
            break
        cause = cause.__cause__
    if not (isinstance(cause, NotImplementedError) and "Block pointers have been removed" in str(cause)):
        return False
    tb = cause.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    home = os.path.dirname(os.path.abspath(triton.__file__)) + os.sep
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(home)


def _brief(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).strip()[:240]}"


def _copy_error(e: BaseException) -> BaseException:
    """The refusal again, for a repeated launch (a fresh copy: a raised exception collects a traceback)."""
    import copy

    try:
        return copy.copy(e)
    except Exception:
        return e


def warm(target: str) -> None:
    """Do once, in the zygote, what every candidate's first compile would repeat: import the compiler, hash
    Triton's own sources and library (`triton_key`, ~0.75 s, cached) and ask ptxas its version (cached).
    Nothing is compiled here: candidate kernels compile only in their sandbox."""
    if target == OFF:
        return
    validate_target(target)
    import triton.compiler.code_generator  # noqa: F401
    from triton.backends.nvidia import compiler as nvidia
    from triton.runtime.cache import triton_key

    snapshot_language()
    triton_key()
    for arch in {80, TARGETS[target][0]}:  # the default argument and the target's (both are asked)
        try:
            nvidia.get_ptxas_version(arch)
        except Exception:
            pass  # no usable ptxas: each candidate's check then notes "not checked"


def install(counter: Any, target: str, device: str) -> TargetCompiler | None:
    """Attach a compiler for `target` to the candidate's launch counter (CPU only: on CUDA the real
    compiler runs at every launch) and let the autotuner skip configs the target refuses, as the GPU's
    autotuner does. Returns the compiler, or None when the check is off."""
    if device != "cpu" or target == OFF:
        return None
    tc = TargetCompiler(target)
    counter.before_launch = tc.check
    _skip_refused_configs(tc, counter)
    return tc


def _skip_refused_configs(tc: TargetCompiler, counter: Any) -> None:
    """On a GPU the autotuner benchmarks every config and a config that does not compile or fit
    (`OutOfResources`, `PTXASError`, `CompileTimeAssertionFailure`) times as infinite; the interpreter's
    benchmark shim ties every config. Compile each config first: one the target refuses is skipped."""
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return
    from triton.compiler.errors import CompileTimeAssertionFailure
    from triton.runtime.errors import OutOfResources, PTXASError

    skipped = (OutOfResources, CompileTimeAssertionFailure, PTXASError)
    inner = Autotuner._bench

    def bench(self: Any, *args: Any, config: Any, **meta: Any) -> Any:
        from rewards.harness.launch_counter import check_kernel_args

        kwargs = {**meta, **config.all_kwargs()}
        try:
            # Triton's binder calls methods of the arguments: plain data only, as at a launch (which refuses
            # anything else anyway, so a config is only compiled here for arguments a launch would accept)
            check_kernel_args(args, kwargs)
        except TypeError:
            return inner(self, *args, config=config, **meta)
        # compiling a config asks for the arguments' addresses (alignment), as Triton does at a launch: marked
        # as one, so the recorder tells Triton's asking from the candidate's (`rewards.harness.guard.address_for_candidate`)
        counter.rec.launch_marks.append(sys._getframe())
        try:
            tc.check(self.fn, args, kwargs)
        except skipped:  # what Triton's autotuner skips; any other refusal fails the launch, as on a GPU
            return [float("inf")] * 3
        finally:
            counter.rec.launch_marks.pop()
        return inner(self, *args, config=config, **meta)

    Autotuner._bench = bench
