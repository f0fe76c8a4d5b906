"""From what a candidate's supervisor reported to the verdict the engine receives (as a JSON-ready dict).

The zygote's loop only moves processes and bytes; deciding what a report means (crashed, timeout, a
sandbox violation, a rule violation found at run time, or a run whose outputs the reference must judge,
and then ok / mismatch with a trustworthy speedup) is this module's job, in pure functions that need no
process around them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from rewards.contract.config import VerifyConfig
from rewards.harness.runtime_findings import runtime_findings
from rewards.sandbox.supervisor import REPORT_LIMIT, describe_exit


@dataclass
class Outcome:
    """What a finished candidate process leads to: a verdict now, or outputs for the reference to judge."""

    result: dict[str, Any] | None = None  # final verdict
    partial: dict[str, Any] | None = None  # it ran: what is known until the reference has judged it
    discard: str | None = None  # output file (in the group dir) to remove, never judged


def read_report(fd: int) -> dict[str, Any] | None:
    """The supervisor's report (it has exited, so the pipe ends after it); None when there is none."""
    chunks, size = [], 0
    try:
        os.set_blocking(fd, False)
        while size <= REPORT_LIMIT:
            try:
                b = os.read(fd, 65536)
            except BlockingIOError:
                break
            if not b:
                break
            chunks.append(b)
            size += len(b)
    finally:
        os.close(fd)
    try:
        obj = json.loads(b"".join(chunks))
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def num(x: Any) -> float | None:
    """A reported number, or None for anything else (bools included): reports are untrusted input."""
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def candidate_outcome(report: dict[str, Any] | None, wait_status: int, log: str, *, group_failed: str | None,
                      timed_out: bool, timeout_s: float, device: str, strict_rules: bool) -> Outcome:
    """Decide what a candidate's exit means, in the order the evidence is trusted."""
    if group_failed:
        return Outcome({"status": "infra_error", "log": group_failed})
    if timed_out:
        return Outcome({"status": "timeout", "log": f"killed after {timeout_s:g}s wall clock\n" + log})
    if report is None:
        why = describe_exit(os.waitstatus_to_exitcode(wait_status))
        return Outcome({"status": "crashed", "log": f"candidate supervisor {why} without a report\n" + log})
    try:
        return _reported_outcome(report, log, device=device, strict_rules=strict_rules)
    except Exception as e:
        # The report's fields (ops, launches, threads, kernel tables) are what the candidate's process sent its
        # supervisor: a frame it forged can make them anything JSON holds. One the zygote cannot read is the
        # candidate's failure; raised here it killed the zygote, and every verdict in flight became infra_error.
        out = report.get("outputs")
        return Outcome({"status": "crashed", "log": f"the candidate's report was malformed ({type(e).__name__}: "
                                                    f"{str(e)[:200]})\n" + log},
                       discard=out if report.get("status") == "ran" and isinstance(out, str) else None)


def _reported_outcome(report: dict[str, Any], log: str, *, device: str, strict_rules: bool) -> Outcome:
    st = report.get("status")
    extra = {"runtime": {"denied": report.get("denied") or {}, "refused": (report.get("ops") or {}).get("refused", {})}}
    if st != "ran":
        if st not in ("compile_error", "runtime_error", "timeout", "crashed", "infra_error", "sandbox_violation"):
            st = "crashed"
        res: dict[str, Any] = {"status": st, "error_type": str(report.get("error_type") or "")[:100],
                               "log": str(report.get("log") or "")[-6000:] + log, "extra": extra,
                               "target_compile": _compiled(report.get("target_compile"))}
        findings = runtime_findings([report], error=True)
        if report.get("denied"):
            res["status"] = "sandbox_violation"
        elif findings and st == "runtime_error":
            res.update(status="rule_violation", rule_findings=findings)
        return Outcome(res)
    trials = report.get("trials") or []
    launches = [int(t.get("launches") or 0) for t in trials]
    total = sum(launches)
    findings = runtime_findings(trials, device=device, ready=report.get("ready") or {})
    partial = {"kernel_launches": total, "cand_ms": num(report.get("cand_ms")), "timing_method": report.get("timing_method"),
               "timing_wall_ms": num(report.get("timing_wall_ms")), "launches": launches, "log": log,
               "rule_findings": findings, "out_name": str(report.get("outputs")),
               "target_compile": _compiled(trials[-1].get("target_compile") if trials else None)}
    if findings and strict_rules:
        return Outcome({"status": "rule_violation", "kernel_launches": total, "log": log, "rule_findings": findings},
                       discard=partial["out_name"])
    return Outcome(partial=partial)


def _compiled(rows: Any) -> list[Any]:
    """The candidate's `rewards.harness.target_compile` records (untrusted: a list of at most 8 dicts, else none)."""
    return [r for r in rows[:8] if isinstance(r, dict)] if isinstance(rows, list) else []


def judged_result(partial: dict[str, Any], judged: dict[str, Any], cfg: VerifyConfig, *, trials: int,
                  ref_ms: float | None, ref_compiled_ms: float | None, nondeterministic: str | None) -> dict[str, Any]:
    """The verdict of a candidate that ran, once the reference judged its outputs; speedup only if trustworthy."""
    if judged.get("judge_error"):
        return {"status": "infra_error", "log": str(judged["judge_error"]) + ("\n" + partial["log"] if partial["log"] else "")}
    ok = bool(judged.get("ok"))
    res: dict[str, Any] = {"status": "ok" if ok else "mismatch", "correct": ok, "trials": trials,
                           "max_abs_err": num(judged.get("max_abs_err")), "kernel_launches": partial["kernel_launches"],
                           "log": (judged.get("reason") or "") + ("\n" + partial["log"] if partial["log"] else ""),
                           "rule_findings": partial.get("rule_findings", []),
                           "target_compile": partial.get("target_compile", [])}
    if nondeterministic:
        res["extra"] = {"reference_nondeterministic": True, "reference_rerun": nondeterministic[:300]}
    # what the judge used and saw (`rewards.oracle.reference_run`): the bounds, the benchmarks' own rules, the probes
    if judged.get("tolerance") in ("calibrated", "fixed"):
        res.update(tolerance=judged["tolerance"], tolerance_reason=str(judged.get("tolerance_reason") or "")[:300])
    if isinstance(judged.get("benchmark_checks"), dict):
        res["benchmark_checks"] = {str(k): bool(v) for k, v in judged["benchmark_checks"].items()}
    if judged.get("uninformative"):
        res.setdefault("extra", {})["uninformative"] = str(judged["uninformative"])[:300]
    if num(judged.get("shadow_s")) is not None:
        res.setdefault("extra", {})["reference_shadow_s"] = num(judged.get("shadow_s"))
    cand_ms = partial.get("cand_ms")
    wall = partial.get("timing_wall_ms")
    if cand_ms and wall and cand_ms * cfg.timing_reps > wall * 1.05:
        cand_ms = None  # events claim more time than the supervisor saw pass: not a real measurement
    if ok and ref_ms and cand_ms:
        res.update(ref_ms=ref_ms, cand_ms=cand_ms, speedup=ref_ms / cand_ms, timing_method=partial.get("timing_method"))
        res["implausible_speedup"] = res["speedup"] > cfg.implausible_speedup
        if ref_compiled_ms:
            res.setdefault("extra", {}).update(ref_compiled_ms=ref_compiled_ms, speedup_vs_compile=ref_compiled_ms / cand_ms)
    return res
