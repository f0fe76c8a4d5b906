"""The process-wide guards that keep the recorder's view whole: Python threads counted (the recorder's modes
are per thread), the raw DLPack exports refused to the candidate, the torch switches that would pop the
recorder's modes or take ops out of the Python dispatch key refused inside a recorded region, and the
thread-local dispatch state forward must find as the harness left it.

Apart from the recorder (`rewards.harness.guard`) because these are installed once per process (in the zygote,
before the fork: `rewards.harness.child.process_recorder`) by rebinding functions wherever a loaded module holds
them, not per recorded region; they consult the recorder, which knows nothing of them.
"""

from __future__ import annotations

import sys
from typing import Any

from rewards.harness.guard import OpRecorder, RecorderDispatchMode, RecorderFunctionMode
from rewards.harness.op_policy import candidate_on_stack, initiator


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
                                                             RecorderFunctionMode) and not _mode_handoff(sys._getframe(2)),
        "_pop_torch_dispatch_stack": lambda *a, **k: (not a or a[0] is None) and top_is(
            C._len_torch_dispatch_stack, C._get_dispatch_stack_at, RecorderDispatchMode),
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
