"""Refinement conversations for SFT: a wrong attempt, the judge's real feedback on it, then the fix.

Multi-turn GRPO and `eval --turns` ask the model to read the judge's feedback and answer again. SFT on
single-turn answers never shows it that format, so the corpus build can write a `refine` split: each row's
`prompt` is the task's prompt, a wrong answer and the feedback on it (`rewards.contract.feedback.feedback_message`,
the very message RL and eval use), and its `completion` is the verified fix. SFT trains on the completion
only (prompt-completion rows), so the wrong answer and the feedback are context, never a target.

Where the wrong answers come from:
- the teacher's failed attempts (the `attempts` split), fixed by a verified solution of the same task;
- synthesized bugs of a known-good kernel (`mutants`): a misspelled Triton call, a floor-divided grid, an
  off-by-one bounds mask, a cut-off line: the mistakes small models make.

Every wrong answer is verified again by the real judge, so the feedback is exactly what the judge says; a
mutant the judge still accepts (the bug did not matter for this task) is dropped. Verdicts are journaled
(resumable, like the rest of the build).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from rewards import VerifyConfig, VerifyResult
from rewards.contract.feedback import refinement_turn
from rewards.contract.prompt import assistant_message
from rewards.executors import verify_batch
from stagekit.journal import Journal

Mutator = Callable[[str], str | None]


def _api_typo(code: str) -> str | None:
    """tl.load -> tl.loads: a Triton call that does not exist (compile or runtime error)."""
    return code.replace("tl.load(", "tl.loads(", 1) if "tl.load(" in code else None


def _floor_grid(code: str) -> str | None:
    """triton.cdiv(n, B) -> n // B: the grid misses the last partial block (mismatch on ragged sizes)."""
    m = re.search(r"triton\.cdiv\(([^,()]+),\s*([^()]+?)\)", code)
    return code[: m.start()] + f"({m.group(1).strip()}) // ({m.group(2).strip()})" + code[m.end():] if m else None


def _mask_off_by_one(code: str) -> str | None:
    """`offs < n` -> `offs <= n` in the first bounds mask: one element past the end is read and written."""
    m = re.search(r"(mask\s*=\s*[\w\s.+*()\[\]]*?)<(?!=)", code)
    return code[: m.end() - 1] + "<=" + code[m.end():] if m else None


def _cut_line(code: str) -> str | None:
    """The kernel launch line loses its closing parenthesis (a syntax error)."""
    lines = code.splitlines()
    for i, ln in enumerate(lines):
        if re.search(r"\]\(.*\)\s*$", ln):
            lines[i] = ln.rstrip()[:-1]
            return "\n".join(lines) + "\n"
    return None


MUTATORS: dict[str, Mutator] = {
    "api_typo": _api_typo, "floor_grid": _floor_grid, "mask_off_by_one": _mask_off_by_one, "cut_line": _cut_line,
}


def mutants(code: str, start: int = 0) -> list[tuple[str, str]]:
    """(kind, buggy code) for each mutator that changes `code`, rotated by `start` so kinds spread over tasks."""
    names = list(MUTATORS)
    names = names[start % len(names):] + names[: start % len(names)]
    out = []
    for name in names:
        bug = MUTATORS[name](code)
        if bug is not None and bug != code:
            out.append((name, bug))
    return out


def refinement_row(base: dict[str, Any], wrong_text: str, verdict: VerifyResult, fix_text: str,
                   refine_source: str) -> dict[str, Any]:
    """One `refine` row: prompt = task prompt + wrong answer + the judge's feedback; completion = the fix."""
    prompt = [*base["prompt"], *refinement_turn(wrong_text, verdict)]
    return {
        "prompt": prompt, "completion": [{"role": "assistant", "content": fix_text}],
        **{k: base.get(k) for k in ("task_id", "source", "op_kind", "difficulty", "license", "provenance", "reference")},
        "refine_source": refine_source, "wrong_status": verdict.status.value,
    }


def _fix_text(row: dict[str, Any]) -> str:
    """The verified answer of an SFT row, as the assistant wrote it (reasoning and code)."""
    msgs = row.get("messages") or []
    if msgs and msgs[-1].get("role") == "assistant":
        return str(msgs[-1]["content"])
    return assistant_message(row["solution"], row.get("reasoning"))


def candidates(sft: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Wrong answers to verify, with their fix: teacher failures first, then one mutant per SFT row."""
    by_task = {r["task_id"]: r for r in sft}
    out: list[dict[str, Any]] = []
    for a in attempts:
        base = by_task.get(a["task_id"])
        if not a.get("correct") and base is not None and a.get("completion"):
            out.append({"key": f"attempt:{a['attempt_id']}", "base": base, "wrong_text": a["completion"],
                        "refine_source": "teacher_attempt"})
    for i, row in enumerate(sft):
        if not row.get("solution"):
            continue
        for kind, bug in mutants(row["solution"], start=i)[:1]:
            wrong = assistant_message(bug, row.get("reasoning"))
            out.append({"key": f"mutant:{kind}:{row.get('sample_id') or row['task_id']}", "base": row,
                        "wrong_text": wrong, "refine_source": f"synth_bug:{kind}"})
    return out[: limit * 2]  # some mutants still pass and are dropped: verify a margin


def build_refinement(sft: Sequence[dict[str, Any]], attempts: Sequence[dict[str, Any]], limit: int, vcfg: VerifyConfig,
                     journal: Journal, batch: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Up to `limit` refinement rows, each wrong answer judged for real (journaled: a rerun verifies nothing twice)."""
    cands = candidates(sft, attempts, limit)
    done = journal.load()
    pending = [c for c in cands if c["key"] not in done]
    for b in range(0, len(pending), batch):
        chunk = pending[b: b + batch]
        results = verify_batch([(c["base"]["reference"], c["wrong_text"]) for c in chunk], vcfg)
        journal.append([{"key": c["key"], "verdict": r.to_dict()} for c, r in zip(chunk, results, strict=True)
                        if not r.is_infra_error])
        log(f"[data] refinement: judged {min(b + batch, len(pending))}/{len(pending)} wrong answers")
    done = journal.load()
    rows = []
    for c in cands:
        rec = done.get(c["key"])
        if rec is None:
            continue
        verdict = VerifyResult.from_dict(rec["verdict"])
        if verdict.correct:
            continue  # the bug did not break this task: no feedback to learn from
        rows.append(refinement_row(c["base"], c["wrong_text"], verdict, _fix_text(c["base"]), c["refine_source"]))
        if len(rows) >= limit:
            break
    return rows
