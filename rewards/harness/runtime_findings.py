"""Fatal findings from what a candidate's forward actually ran: the authority over the static rules.

The supervisor's report carries, per trial, the ATen ops the runtime record saw (forbidden or refused),
the kernel launches, the Python threads alive and, on CUDA, the device kernels the profiler saw. The AST
rules can be fooled by indirection; this record cannot, so `kernel_not_launched` and
`torch_compute_fallback` are decided here.
"""

from __future__ import annotations

from typing import Any

# Device kernels torch itself launches for allocation and copies, which a candidate may cause legitimately.
_ALLOWED_DEVICE_KERNELS = ("FillFunctor", "copy_kernel", "CopyFunctor", "direct_copy", "Memcpy", "Memset",
                           "CatArrayBatchedCopy", "elementwise_kernel_with_index", "arange")


def capped_counts(counts: dict[str, int], limit: int) -> dict[str, int]:
    """Launch counts by kernel name, cut to `limit` names, plus a name no kernel has standing for the rest
    (with their launches): the foreign-kernel check then sees something unaccounted for in a cut table,
    never nothing (the report's tables are trimmed, not dropped)."""
    if len(counts) <= limit:
        return counts
    names = sorted(counts)
    kept = {n: counts[n] for n in names[:limit]}
    kept[f"{_CUT_MARK}{len(names) - limit} more>"] = sum(counts[n] for n in names[limit:])
    return kept


_CUT_MARK = "<cut: "


def runtime_findings(trials: list[dict[str, Any]], device: str = "cpu", ready: dict[str, Any] | None = None,
                     error: bool = False) -> list[dict[str, Any]]:
    """Fatal findings from what actually ran in each trial's forward (the authority over static rules)."""
    out: list[dict[str, Any]] = []

    def add(rule: str, msg: str) -> None:
        out.append({"rule": rule, "line": None, "fatal": True, "message": msg})

    forbidden: dict[str, int] = {}
    refused: dict[str, int] = {}
    host: dict[str, int] = {}
    for t in trials:
        ops = t.get("ops") or {}
        for table, into in (("forbidden", forbidden), ("refused", refused), ("host", host)):
            for k, v in (ops.get(table) or {}).items():
                into[str(k)] = into.get(str(k), 0) + int(v or 0)
    if forbidden:
        add("torch_compute_fallback", f"PyTorch compute ran inside forward: {_top(forbidden)}; the Triton kernels must do the work")
    if host:
        add("torch_compute_fallback", f"forward computed on the host, outside the kernels: {_top(host)}; "
                                      "the Triton kernels must do the work")
    if refused:
        add("torch_compute_fallback", f"the candidate moved tensor data out of torch or switched off the op record "
                                      f"({', '.join(sorted(refused))}); compute belongs in the kernel")
    if error:
        return out
    threads = max([int(t.get("threads") or 1) for t in trials] + [int((ready or {}).get("threads") or 1)])
    if threads > 1:
        add("threads_streams", f"{threads} Python threads were running during forward; work must happen in forward, in kernels")
    if device == "cuda":
        for t in trials:
            if not isinstance(t.get("device_kernels"), dict):
                # No record is not "nothing foreign ran": a profiler that did not start (or was stopped)
                # saw nothing, and the check must not pass on what it never saw.
                add("torch_compute_fallback", "no device-kernel record for a forward (the profiler did not run): "
                                              "the kernels that ran cannot be matched to the candidate's launches")
                break
            foreign = _foreign_kernels(t.get("kernel_launches"), t.get("device_kernels"))
            if foreign:
                add("torch_compute_fallback", f"device kernels not written by the candidate ran: {foreign[:5]}")
                break
    launches = [int(t.get("launches") or 0) for t in trials]
    if not launches or not all(launches):
        add("kernel_not_launched", f"kernels launched per trial: {launches}; every forward must launch a kernel defined in the candidate")
    return out


def _top(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:8])


def _foreign_kernels(launched: Any, seen: Any) -> list[str]:
    """Device kernels of one forward that the candidate's own launches do not account for, launch for launch.

    Each counted launch of a candidate kernel is one device kernel under its compiled name, so a device
    kernel seen more often than the candidate launched that name ran for someone else: a cuBLAS kernel
    is caught even when the candidate names a Triton kernel exactly like it (names are identifiers Triton
    accepts, and vendor kernels have such names too). A cut marker is nobody's kernel: two tables cut alike
    carry the same marker text, and a candidate kernel may be named like one; neither vouches for anything.
    A table that is not a name -> count mapping vouches for nothing either."""
    mine = {str(k): int(v) for k, v in (launched.items() if isinstance(launched, dict) else ())
            if not str(k).startswith(_CUT_MARK) and isinstance(v, int)}
    foreign = []
    for name, n in sorted(seen.items() if isinstance(seen, dict) else ()):
        if any(f in str(name) for f in _ALLOWED_DEVICE_KERNELS):
            continue
        if not isinstance(n, int) or n > mine.get(str(name), 0):
            foreign.append(str(name))
    return foreign
