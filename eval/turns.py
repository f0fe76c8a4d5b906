"""`eval --turns N`: refinement turns after the first answer, and what each later turn fixed.

Turn 1 is the ordinary eval (completions.jsonl, samples.jsonl). For every sample that failed its latest
turn, turn t+1 continues the same conversation: the task's prompt, each earlier answer and the judge's
feedback on it (`rewards.contract.feedback.feedback_message`, the one message GRPO trains on and `generate` shows),
then one new answer, verified in the sandbox like turn 1. A sample stops at its first verified answer.

Journal: `turns.jsonl` in the eval folder, one row per (task_id, sample, turn >= 2) with the answer and its
verdict; a rerun resumes from it (a killed run loses at most one chunk). Metrics (`turn_metrics`), per
turn t: exec accuracy and pass@1 counting a sample solved when any of its turns <= t verified, and how many
of turn 1's failures turn t fixed, by their turn-1 status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.records import append_jsonl, read_jsonl
from eval.suites import EvalItem
from rewards.contract.config import VerifyConfig
from rewards.contract.feedback import refinement_turn
from rewards.contract.types import Finding, Status, VerifyResult

TURNS_FILE = "turns.jsonl"
SEED_STRIDE = 100_003  # turn t samples with seed + t * stride + position: deterministic, distinct per turn


def verdict_of(record: dict[str, Any]) -> VerifyResult:
    """The verdict a journal row was written from (what the feedback builder needs)."""
    return VerifyResult(
        status=Status(record["status"]), correct=bool(record.get("correct")),
        rule_findings=tuple(Finding(**f) for f in record.get("findings") or ()),
        max_abs_err=record.get("max_abs_err"), log=record.get("log") or "", error_type=record.get("error_type"),
        speedup=record.get("speedup"), timing_method=record.get("timing_method"),
        implausible_speedup=bool(record.get("implausible_speedup")),
    )


def conversation(item: EvalItem, history: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The prompt, then every earlier answer followed by the judge's feedback on it."""
    msgs = [dict(m) for m in item.messages]
    for r in history:
        msgs.extend(refinement_turn(r["completion"], verdict_of(r)))
    return msgs


def run_turns(
    items: Sequence[EvalItem], first: Sequence[dict[str, Any]], *, turns: int, backend_for: Callable[[], Any],
    verify: Callable[[list[tuple[str, str]], VerifyConfig], list[VerifyResult]], config: VerifyConfig,
    make_record: Callable[[EvalItem, int, str, VerifyResult], dict[str, Any]], out: Path, temperature: float,
    max_new_tokens: int, seed: int, chunk: int = 16, progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Play turns 2..`turns` for every sample still failing; return all turn rows (turn >= 2), journaled."""
    path = out / TURNS_FILE
    rows = {(r["task_id"], int(r["sample"]), int(r["turn"])): r for r in read_jsonl(path)
            if r.get("status") != Status.INFRA_ERROR.value}
    by_id = {it.task_id: it for it in items}
    history = {(r["task_id"], int(r["sample"])): [dict(r, turn=1)] for r in first if r["task_id"] in by_id}
    backend = None
    for turn in range(2, turns + 1):
        for key, hist in history.items():  # what earlier runs journaled for this turn joins the history
            if (*key, turn) in rows and len(hist) == turn - 1:
                hist.append(rows[(*key, turn)])
        todo = [k for k, h in history.items()
                if len(h) == turn - 1 and not h[-1]["correct"] and h[-1]["status"] != Status.INFRA_ERROR.value]
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            backend = backend or backend_for()
            convs = [conversation(by_id[t], history[(t, s)]) for t, s in part]
            outs = backend.generate(convs, n=1, temperature=temperature, max_new_tokens=max_new_tokens,
                                    seed=seed + turn * SEED_STRIDE + start)
            texts = [str(o[0]) for o in outs]
            results = verify([(by_id[t].task.reference, by_id[t].candidate(x)) for (t, _), x in zip(part, texts, strict=True)],
                             config)
            new = [dict(make_record(by_id[t], s, x, r), turn=turn) for (t, s), x, r in zip(part, texts, results, strict=True)]
            append_jsonl(path, new)
            for r in new:
                rows[(r["task_id"], r["sample"], turn)] = r
                history[(r["task_id"], r["sample"])].append(r)
            if progress:
                progress(f"turn {turn}: {min(start + chunk, len(todo))}/{len(todo)} failing samples answered again")
    return sorted(rows.values(), key=lambda r: (r["turn"], r["task_id"], r["sample"]))


def turn_metrics(first: Sequence[dict[str, Any]], later: Sequence[dict[str, Any]], turns: int) -> dict[str, Any]:
    """Per turn: exec accuracy and pass@1 (solved by that turn), and turn 1's failures fixed there, by status."""
    valid = [r for r in first if r.get("status") != Status.INFRA_ERROR.value]
    solved_at: dict[tuple[str, int], int] = {(r["task_id"], int(r["sample"])): 1 for r in valid if r["correct"]}
    for r in sorted(later, key=lambda r: r["turn"]):
        key = (r["task_id"], int(r["sample"]))
        if r["correct"] and key not in solved_at:
            solved_at[key] = int(r["turn"])
    first_status = {(r["task_id"], int(r["sample"])): r["status"] for r in valid}
    tasks: dict[str, list[tuple[str, int]]] = {}
    for key in first_status:
        tasks.setdefault(key[0], []).append(key)
    per_turn = []
    for t in range(1, turns + 1):
        done = {k for k, at in solved_at.items() if at <= t}
        fixed: dict[str, int] = {}
        for k, at in solved_at.items():
            if at == t and t > 1:
                fixed[first_status[k]] = fixed.get(first_status[k], 0) + 1
        n = len(first_status)
        p1 = sum(sum(k in done for k in ks) / len(ks) for ks in tasks.values()) / len(tasks) if tasks else None
        per_turn.append({"turn": t, "exec_accuracy": len(done) / n if n else None, "pass@1": p1,
                         "fixed": dict(sorted(fixed.items())), "fixed_total": sum(fixed.values())})
    return {"turns": turns, "samples": len(first_status), "per_turn": per_turn}


def turns_markdown(tm: dict[str, Any]) -> str:
    """The report's section: one row per turn, turn 1 and the last turn side by side in the summary line."""
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{100 * v:.1f}%"

    rows = tm["per_turn"]
    lines = ["", f"## Refinement turns (up to {tm['turns']}, feedback from the judge after each failed answer)", "",
             "| turn | exec_accuracy | pass@1 | turn-1 failures fixed here (by turn-1 status) |", "|---|---|---|---|"]
    for r in rows:
        fixed = ", ".join(f"{s} {n}" for s, n in r["fixed"].items()) if r["fixed"] else ("—" if r["turn"] == 1 else "0")
        lines.append(f"| {r['turn']} | {pct(r['exec_accuracy'])} | {pct(r['pass@1'])} | {fixed} |")
    lines += ["", f"Turn 1 → turn {rows[-1]['turn']}: exec_accuracy {pct(rows[0]['exec_accuracy'])} → "
              f"{pct(rows[-1]['exec_accuracy'])} over {tm['samples']} samples.", ""]
    return "\n".join(lines)


def write_turn_report(out: Path, metrics: dict[str, Any], tm: dict[str, Any]) -> dict[str, Any]:
    """Add the turn metrics to metrics.json and their section to report.md (both written by eval.report)."""
    metrics["turns"] = tm
    mfile = out / "metrics.json"
    payload = json.loads(mfile.read_text()) if mfile.is_file() else {}
    payload.setdefault("metrics", {})["turns"] = tm
    mfile.write_text(json.dumps(payload, indent=2, sort_keys=True))
    report = out / "report.md"
    report.write_text((report.read_text() if report.is_file() else "") + turns_markdown(tm))
    return metrics


def turns_line(tm: dict[str, Any]) -> str:
    """One line per turn for the console."""
    parts = []
    for r in tm["per_turn"]:
        detail = f" ({', '.join(f'{s} {n}' for s, n in r['fixed'].items())})" if r["fixed"] else ""
        fixed = f" fixed {r['fixed_total']}{detail}" if r["turn"] > 1 else ""
        acc = "—" if r["exec_accuracy"] is None else f"{r['exec_accuracy']:.3f}"
        p1 = "—" if r["pass@1"] is None else f"{r['pass@1']:.3f}"
        parts.append(f"turn {r['turn']}: exec_accuracy={acc} pass@1={p1}{fixed}")
    return "\n".join(parts)
