"""Benchmark metrics over per-sample verification records. Pure functions: no I/O, no torch.

A *record* is one row of the per-sample journal (see eval/run.py), a plain dict with at least
`task_id`, `status` (a Status value string) and `correct`; optionally `rule_ok`, `speedup`, `device`
and `relaxed_correct` (the verdict of the hack re-run with the rule gate off).

Conventions, chosen so that numbers stay honest:
- `infra_error` samples are the machinery's failure, not the model's: they are counted and reported but
  left out of every denominator (a sandbox outage must not look like bad kernels, nor like good ones).
- A sample is *solved* only when it is correct AND passes the rule gate, matching the rule x exec reward.
- Per-task quantities (pass@k, fast_p) are averaged over tasks, so a task with more samples does not weigh more.
- Without GPU timing, speedups are None and fast_p for p > 0 and the geomean are reported as None (null in
  JSON), never as 0: "not measured" is different from "slow".
- Beside our exec accuracy, an imported benchmark's own pass rule (`rewards.oracle.benchmark_checks`: KernelBench's
  allclose at its head and v0.1 tolerances, TritonBench's printed-results equality) gives
  `exec_accuracy[<rule>]`, numbers comparable with published ones: a sample passes when it ran to a judged
  verdict (ok or mismatch: the rule gate and the runtime record still apply, so a torch fallback never counts)
  and the benchmark's rule accepts its outputs. Our verdict stays the reward.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rewards.oracle.benchmark_checks import KERNELBENCH_HEAD, KERNELBENCH_V01, TRITONBENCH_PRINTED

FAST_P_THRESHOLDS: tuple[float, ...] = (0.0, 0.5, 0.8, 1.0, 1.5, 2.0)
DEFAULT_KS: tuple[int, ...] = (1, 5, 10)

# Statuses whose code got as far as running forward to completion (the "call accuracy" of TritonBench):
# the candidate compiled, launched, and returned something we could compare.
CALLED_STATUSES = frozenset({"ok", "mismatch"})
# Statuses that mean "the code could be built" (parsed, passed or skipped the gate, imported, compiled).
COMPILED_STATUSES = frozenset({"ok", "mismatch", "runtime_error", "timeout", "crashed"})
INFRA = "infra_error"
# Which of the benchmarks' own rules a suite reports beside ours (by suite.json's `benchmark`).
BENCHMARK_RULES: dict[str, tuple[str, ...]] = {
    "kernelbench": (KERNELBENCH_HEAD, KERNELBENCH_V01),
    "tritonbench-t": (TRITONBENCH_PRINTED,),
    "tritonbench-g": (TRITONBENCH_PRINTED,),
}

Record = Mapping[str, Any]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. 2021: 1 - C(n-c, k) / C(n, k), in the stable product form.

    >>> round(pass_at_k(10, 3, 1), 6)
    0.3
    """
    if n < 0 or c < 0 or c > n or k < 1:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and k >= 1, got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def fast_name(p: float) -> str:
    """`fast_0`, `fast_0.5`, ... (the KernelBench names)."""
    return f"fast_{p:g}"


def is_solved(r: Record) -> bool:
    """Correct by execution and through the rule gate (what the rule x exec reward pays for)."""
    return bool(r.get("correct")) and r.get("rule_ok", True) is not False and r.get("status") == "ok"


def is_hack(r: Record) -> bool:
    """A would-be-correct completion that the rule gate rejects.

    With strict rules the gated sample never ran; its re-run without the gate (`relaxed_correct`) tells
    whether execution alone would have passed it. With the gate off, a correct sample with fatal findings
    is a hack directly.
    """
    if r.get("status") == "rule_violation":
        return bool(r.get("relaxed_correct"))
    return bool(r.get("correct")) and r.get("rule_ok", True) is False


def geomean(values: Iterable[float]) -> float | None:
    """Geometric mean of positive values; None for an empty input (nothing measured)."""
    vals = [float(v) for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def _by_task(records: Sequence[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        out[str(r["task_id"])].append(r)
    return dict(out)


def _timed(records: Sequence[Record]) -> bool:
    """Were speedups measured in this run (a GPU run), as opposed to not measured (CPU)?"""
    return any(r.get("device") == "cuda" or r.get("speedup") is not None for r in records)


def fast_p(records: Sequence[Record], p: float) -> float | None:
    """Mean over tasks of the fraction of samples that are solved AND faster than p x eager.

    fast_0 is plain correctness; for p > 0 it is None when no timing was taken (CPU run).
    A solved sample without a speedup on a GPU run counts as not fast.
    """
    valid = [r for r in records if r.get("status") != INFRA]
    tasks = _by_task(valid)
    if not tasks:
        return None
    if p > 0 and not _timed(valid):
        return None

    def fast(r: Record) -> bool:
        if not is_solved(r):
            return False
        if p == 0:
            return True
        sp = r.get("speedup")
        return sp is not None and sp > p

    return sum(sum(fast(r) for r in rs) / len(rs) for rs in tasks.values()) / len(tasks)


def pass_at_k_by_task(records: Sequence[Record], ks: Sequence[int] = DEFAULT_KS) -> dict[str, float]:
    """Mean pass@k over tasks for each k that every task has enough samples for."""
    tasks = _by_task([r for r in records if r.get("status") != INFRA])
    if not tasks:
        return {}
    n_min = min(len(rs) for rs in tasks.values())
    out: dict[str, float] = {}
    for k in sorted(set(ks)):
        if k > n_min:
            continue
        vals = [pass_at_k(len(rs), sum(is_solved(r) for r in rs), k) for rs in tasks.values()]
        out[f"pass@{k}"] = sum(vals) / len(vals)
    return out


def _frac(num: int, den: int) -> float | None:
    return num / den if den else None


def benchmark_accuracy(records: Sequence[Record], rule: str) -> float | None:
    """Fraction of scored samples the benchmark's own `rule` accepts (after running to a judged verdict)."""
    valid = [r for r in records if r.get("status") != INFRA]
    passed = sum(r.get("status") in CALLED_STATUSES and bool((r.get("benchmark_checks") or {}).get(rule)) for r in valid)
    return _frac(passed, len(valid))


def compute_metrics(
    records: Sequence[Record],
    ks: Sequence[int] = DEFAULT_KS,
    thresholds: Sequence[float] = FAST_P_THRESHOLDS,
    benchmark: str | None = None,
) -> dict[str, Any]:
    """Every headline number of an eval run, as one JSON-ready dict. `benchmark`: the suite's kind, whose own
    pass rules (`BENCHMARK_RULES`) are reported beside ours as `exec_accuracy[<rule>]`."""
    valid = [r for r in records if r.get("status") != INFRA]
    n = len(valid)
    status_counts = Counter(str(r.get("status")) for r in records)
    rule_counts: Counter[str] = Counter()
    for r in valid:
        for f in r.get("findings") or ():
            if f.get("fatal", True):
                rule_counts[str(f.get("rule"))] += 1
    rule_violations = sum(1 for r in valid if r.get("status") == "rule_violation")
    hacks = sum(is_hack(r) for r in valid)
    speedups = [r["speedup"] for r in valid if is_solved(r) and r.get("speedup") is not None]
    tasks = _by_task(valid)
    metrics: dict[str, Any] = {
        "n_samples": len(records),
        "n_scored": n,
        "n_tasks": len(_by_task(list(records))),
        "infra_errors": status_counts.get(INFRA, 0),
        "timed": _timed(valid),
        "compile_accuracy": _frac(sum(r.get("status") in COMPILED_STATUSES for r in valid), n),
        "call_accuracy": _frac(sum(r.get("status") in CALLED_STATUSES for r in valid), n),
        "exec_accuracy": _frac(sum(is_solved(r) for r in valid), n),
        "task_solve_rate": _frac(sum(any(is_solved(r) for r in rs) for rs in tasks.values()), len(tasks)),
        **pass_at_k_by_task(valid, ks),
        **{fast_name(p): fast_p(valid, p) for p in thresholds},
        "geomean_speedup": geomean(speedups),
        "geomean_speedup_vs_compile": geomean(
            [r["speedup_vs_compile"] for r in valid if is_solved(r) and r.get("speedup_vs_compile") is not None]),
        "n_timed_correct": len(speedups),
        "implausible_speedups": sum(1 for r in valid if r.get("implausible_speedup")),
        "hack_count": hacks,
        "hack_rate": _frac(hacks, n),
        "hack_rate_of_rule_violations": _frac(
            sum(is_hack(r) for r in valid if r.get("status") == "rule_violation"), rule_violations
        ),
        "by_status": dict(sorted(status_counts.items())),
        "by_rule": dict(sorted(rule_counts.items())),
        "uninformative_tasks": sorted({str(r["task_id"]) for r in records if r.get("uninformative")}),
    }
    for rule in BENCHMARK_RULES.get(benchmark or "", ()):
        metrics[f"exec_accuracy[{rule}]"] = benchmark_accuracy(valid, rule)
    return metrics


def per_task_table(records: Sequence[Record]) -> list[dict[str, Any]]:
    """One row per task: samples, solved, best status, best speedup (for the Markdown report)."""
    rows = []
    for task_id, rs in sorted(_by_task(records).items()):
        solved = [r for r in rs if is_solved(r)]
        sps = [r["speedup"] for r in solved if r.get("speedup") is not None]
        statuses = Counter(str(r.get("status")) for r in rs)
        rows.append(
            {
                "task_id": task_id,
                "samples": len(rs),
                "solved": len(solved),
                "hacks": sum(is_hack(r) for r in rs),
                "statuses": ", ".join(f"{s}:{c}" for s, c in statuses.most_common()),
                "best_speedup": max(sps) if sps else None,
            }
        )
    return rows
