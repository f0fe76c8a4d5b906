"""`tritonforge generate`: from a PyTorch module to a verified Triton kernel, with feedback turns.

Loop: sample K candidates for the reference; verify each in the sandbox; if none verifies, append the
model's answer and a user turn describing the failure (`rewards.contract.feedback.feedback_message`, the one
builder that GRPO and `eval --turns` use too) to each conversation and sample again, up to N turns. The best verified kernel wins:
the fastest on a GPU, the first on CPU (no timing there). If nothing verifies we say so and exit 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_pipeline.backends import GenerationBackend
from rewards.contract.config import VerifyConfig
from rewards.contract.extract import extract_code
from rewards.contract.feedback import refinement_turn
from rewards.contract.prompt import prompt_messages
from rewards.contract.task import Task
from rewards.contract.types import Status, VerifyResult

DEFAULT_INSTRUCTION = "Replace the PyTorch operators in Model with custom Triton kernels, as fast as you can."
REPORT_LOG_CHARS = 600

# How far a failed candidate got, so the report can show the most promising failure.
_PROGRESS = [Status.NO_CODE, Status.SYNTAX_ERROR, Status.RULE_VIOLATION, Status.SANDBOX_VIOLATION,
             Status.COMPILE_ERROR, Status.CRASHED, Status.TIMEOUT, Status.RUNTIME_ERROR, Status.MISMATCH, Status.OK]


def _rank(res: VerifyResult) -> int:
    return _PROGRESS.index(res.status) if res.status in _PROGRESS else -1


def _tail(text: str, limit: int = REPORT_LOG_CHARS) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else "...\n" + text[-limit:]


@dataclass
class Attempt:
    turn: int
    sample: int
    result: VerifyResult
    code: str | None


@dataclass
class Outcome:
    """What `generate_kernel` found: the best verified kernel, or the most promising failure."""

    verified: bool
    code: str | None
    best: Attempt | None
    attempts: list[Attempt] = field(default_factory=list)
    turns: int = 0

    def report(self) -> str:
        n = len(self.attempts)
        if self.verified and self.best is not None:
            r = self.best.result
            sp = f", speedup {r.speedup:.2f}x vs eager ({r.timing_method})" if r.speedup is not None else \
                ", speedup not measured (no GPU)"
            return (f"verified: kernel passed {r.trials} trial(s) on {r.device}{sp}; "
                    f"found at turn {self.best.turn + 1} after {n} candidate(s)")
        if self.best is None:
            return "no candidate was produced"
        r = self.best.result
        detail = f"\n{_tail(r.log, 600)}" if r.log.strip() else ""
        return (f"NOT verified: none of {n} candidate(s) over {self.turns} turn(s) passed; best attempt: "
                f"{r.summary()}{detail}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified, "turns": self.turns, "candidates": len(self.attempts),
            "best": None if self.best is None else {"turn": self.best.turn, "sample": self.best.sample,
                                                     **self.best.result.to_dict()},
            "attempts": [{"turn": a.turn, "sample": a.sample, "summary": a.result.summary()} for a in self.attempts],
        }


def _better(a: Attempt, b: Attempt | None) -> bool:
    """Is attempt a better than b? Verified beats unverified; among verified, faster; else further along."""
    if b is None:
        return True
    if a.result.correct != b.result.correct:
        return a.result.correct
    if a.result.correct:
        return (a.result.speedup or 0.0) > (b.result.speedup or 0.0)
    return _rank(a.result) > _rank(b.result)


def generate_kernel(
    reference: str,
    backend: GenerationBackend,
    *,
    instruction: str = DEFAULT_INSTRUCTION,
    attempts: int = 3,
    samples: int = 4,
    temperature: float = 0.7,
    max_new_tokens: int = 2048,
    seed: int = 0,
    config: VerifyConfig | None = None,
    verify_fn: Callable[[Sequence[tuple[str, str]], VerifyConfig], list[VerifyResult]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Outcome:
    """Sample, verify, refine with feedback; return the best verified kernel (or the best failure)."""
    if attempts < 1 or samples < 1:
        raise ValueError("attempts and samples must be >= 1")
    config = config or VerifyConfig()
    if verify_fn is None:
        from rewards import verify_batch

        def verify_fn(pairs: Sequence[tuple[str, str]], cfg: VerifyConfig) -> list[VerifyResult]:
            return list(verify_batch(list(pairs), cfg))

    conversations = [prompt_messages(reference, instruction) for _ in range(samples)]
    outcome = Outcome(verified=False, code=None, best=None)
    for turn in range(attempts):
        outcome.turns = turn + 1
        if turn == 0:  # one prompt, K samples
            texts = backend.generate([conversations[0]], n=samples, temperature=temperature,
                                     max_new_tokens=max_new_tokens, seed=seed)[0]
        else:  # each conversation now differs: one continuation each
            outs = backend.generate(conversations, n=1, temperature=temperature,
                                    max_new_tokens=max_new_tokens, seed=seed + turn)
            texts = [o[0] for o in outs]
        results = verify_fn([(reference, t) for t in texts], config)
        for i, (text, res) in enumerate(zip(texts, results, strict=True)):
            att = Attempt(turn=turn, sample=i, result=res, code=extract_code(text))
            outcome.attempts.append(att)
            if _better(att, outcome.best):
                outcome.best = att
            if progress:
                progress(f"turn {turn + 1} sample {i + 1}: {res.summary()}")
        if outcome.best is not None and outcome.best.result.correct:
            # Stop at the first turn with a verified kernel. On GPU `_better` already kept this turn's
            # fastest; on CPU (no timing) the first verified one is kept, ties going to the earlier sample.
            outcome.verified, outcome.code = True, outcome.best.code
            break
        for conv, text, res in zip(conversations, texts, results, strict=True):
            conv.extend(refinement_turn(text, res))
    return outcome


def run_generate(
    reference_path: str | Path,
    backend: GenerationBackend,
    out: str | Path | None = None,
    report_path: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
    **kw: Any,
) -> tuple[int, Outcome]:
    """The CLI body: load + check the reference, loop, write the kernel and report; exit code 0 or 1."""
    task = Task.from_file(reference_path)  # TaskError (one line) on a bad module
    ref = Path(reference_path)
    outcome = generate_kernel(task.reference, backend, progress=progress, **kw)
    out_path = Path(out) if out else ref.with_name(f"{ref.stem}_triton.py")
    if outcome.verified and outcome.code:
        header = f"# Generated by tritonforge from {ref.name}; {outcome.report()}\n"
        tmp = out_path.with_name(out_path.name + ".tmp")
        tmp.write_text(header + outcome.code)
        tmp.replace(out_path)
    if report_path:
        Path(report_path).write_text(json.dumps(outcome.to_dict(), indent=2))
    print(outcome.report(), file=sys.stderr)
    if outcome.verified:
        print(f"wrote {out_path}", file=sys.stderr)
        return 0, outcome
    return 1, outcome
