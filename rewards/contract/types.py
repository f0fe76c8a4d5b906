"""The one definition of the verification verdict.

`VerifyResult` is frozen and holds only strings, numbers and tuples, so it pickles across processes,
serialises to one JSON line, and can never carry an exception object (whose repr could run code or hold
references into the candidate's process).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any

LOG_LIMIT = 4000  # characters of stderr/traceback kept for feedback turns


class Status(str, Enum):
    """Every way a verification can end. Exactly one per result."""

    OK = "ok"
    NO_CODE = "no_code"
    SYNTAX_ERROR = "syntax_error"
    RULE_VIOLATION = "rule_violation"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    MISMATCH = "mismatch"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    SANDBOX_VIOLATION = "sandbox_violation"
    INFRA_ERROR = "infra_error"


@dataclass(frozen=True)
class Finding:
    """One named static-rule finding. `fatal` findings fail the rule gate."""

    rule: str
    message: str
    line: int | None = None
    fatal: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def truncate_log(text: str, limit: int = LOG_LIMIT) -> str:
    """Keep the head and the tail of a long log: the tail has the exception, the head the context."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + f"\n... [{len(text) - limit} chars cut] ...\n" + text[-half:]


@dataclass(frozen=True)
class VerifyResult:
    """Verdict on one candidate against one reference (the VerifyResult contract of the README)."""

    status: Status
    correct: bool = False
    rule_findings: tuple[Finding, ...] = ()
    max_abs_err: float | None = None
    trials: int = 0
    ref_ms: float | None = None
    cand_ms: float | None = None
    speedup: float | None = None
    kernel_launches: int = 0
    log: str = ""
    device: str = "cpu"
    timing_method: str | None = None
    implausible_speedup: bool = False
    error_type: str | None = None
    wall_s: float | None = None  # seconds from the task's reference start to this verdict (batch start if none)
    extra: tuple[tuple[str, Any], ...] = field(default=())
    # "calibrated": bounds on the reference's own rounding (float64 shadow, `rewards.oracle.shadow`); "fixed": the
    # per-dtype bounds, `tolerance_reason` says why. None: never judged.
    tolerance: str | None = None
    tolerance_reason: str = ""
    # the benchmarks' own pass rules beside ours (`rewards.oracle.benchmark_checks`): (name, passed), never the reward
    benchmark_checks: tuple[tuple[str, bool], ...] = ()
    # CPU only: each kernel specialization also compiled for the GPU target (`rewards.harness.target_compile`):
    # (name, target, registers, spill-store bytes, shared-memory bytes, note); note says what was not checked
    target_compile: tuple[tuple[str, str, int | None, int | None, int | None, str], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        if self.correct and self.status is not Status.OK:
            raise ValueError(f"correct=True is only valid with status ok, not {self.status.value}")
        object.__setattr__(self, "log", truncate_log(self.log or ""))

    @property
    def rule_ok(self) -> bool:
        """True when no fatal static finding was raised (the rule gate)."""
        return not any(f.fatal for f in self.rule_findings)

    @property
    def is_infra_error(self) -> bool:
        return self.status is Status.INFRA_ERROR

    def with_(self, **changes: Any) -> VerifyResult:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["rule_findings"] = [f.to_dict() for f in self.rule_findings]
        d["extra"] = dict(self.extra)
        d["benchmark_checks"] = dict(self.benchmark_checks)
        d["target_compile"] = [list(k) for k in self.target_compile]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VerifyResult:
        d = dict(d)
        d["status"] = Status(d["status"])
        d["rule_findings"] = tuple(Finding(**f) for f in d.get("rule_findings", ()))
        d["extra"] = tuple(sorted((d.get("extra") or {}).items()))
        d["benchmark_checks"] = tuple(sorted((d.get("benchmark_checks") or {}).items()))
        d["target_compile"] = tuple(_kernel_row(k) for k in d.get("target_compile") or ())
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    def summary(self) -> str:
        """One short line, for tables and logs."""
        rules = ",".join(f.rule for f in self.rule_findings if f.fatal)
        err = f" err={self.max_abs_err:.2e}" if self.max_abs_err is not None else ""
        sp = f" speedup={self.speedup:.2f}x" if self.speedup is not None else ""
        return f"{self.status.value}{' [' + rules + ']' if rules else ''}{err}{sp}"


_KERNEL_FIELDS = ("name", "target", "registers", "spills", "shared_bytes", "note")


def _kernel_row(k: Any) -> tuple[Any, ...]:
    """One `target_compile` entry as a tuple, from a report's dict or a serialised verdict's list."""
    vals = [k.get(f) for f in _KERNEL_FIELDS] if isinstance(k, dict) else list(k)[:len(_KERNEL_FIELDS)]
    vals += [None] * (len(_KERNEL_FIELDS) - len(vals))
    name, target, regs, spills, shared, note = vals
    def num(x: Any) -> int | None:
        return int(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None
    return (str(name)[:100], str(target)[:16], num(regs), num(spills), num(shared), str(note or "")[:200])


def failure(status: Status, log: str = "", **kw: Any) -> VerifyResult:
    """Shorthand for a failed verdict."""
    return VerifyResult(status=status, correct=False, log=log, **kw)
