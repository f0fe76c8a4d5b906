"""Teacher distillation: a generation backend writes reasoning + code for tasks; the verifier judges them.

Only verified answers become SFT rows (the whole completion, reasoning included, is the assistant
turn). Every raw attempt, right or wrong, is kept apart in the `attempts` split: failures with their
verdicts are what RL and negative mining want.

Resumable per batch of tasks: attempts are journaled (keyed `task_id#k`) after they are verified, and
tasks whose attempts are all in the journal are not sent to the teacher again. Generation is seeded
per batch, so a redone batch asks the same question with the same seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from data_pipeline.config import DataConfig
from data_pipeline.corpus import VERIFY_COLUMNS, verify_columns
from rewards import VerifyConfig, extract_code, prompt_messages
from rewards.executors import verify_batch
from stagekit.journal import Journal


def make_teacher(cfg: DataConfig) -> Any:
    """The configured backend (replicas on the cluster under `--executor ray`); imported lazily so the
    pipeline runs where backends' extras are absent."""
    from data_pipeline.generation_pool import make_generation_backend

    return make_generation_backend(cfg.distill_backend, cfg.distill_model)


def distill(tasks: Sequence[dict[str, Any]], cfg: DataConfig, vcfg: VerifyConfig, journal: Journal,
            backend: Any = None, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Return every attempt record (old ones from the journal plus new ones) for `tasks`.

    `tasks` rows need task_id, reference, instruction, source. `backend` overrides the configured
    teacher (tests pass a fake object with `.generate`).
    """
    tasks = list(tasks)[: cfg.distill_max_tasks] if cfg.distill_max_tasks is not None else list(tasks)
    done = journal.load()
    pending = [t for t in tasks if any(f"{t['task_id']}#{k}" not in done for k in range(cfg.distill_n))]
    if pending:
        backend = backend if backend is not None else make_teacher(cfg)
    model_name = str(cfg.distill_model or getattr(backend, "model_name", "") or cfg.distill_backend)
    t0, n_ok, n_all = time.time(), 0, 0
    for b in range(0, len(pending), cfg.distill_batch):
        batch = pending[b: b + cfg.distill_batch]
        prompts = [prompt_messages(t["reference"], t["instruction"]) for t in batch]
        outs = backend.generate(prompts, n=cfg.distill_n, temperature=cfg.distill_temperature,
                                max_new_tokens=cfg.distill_max_new_tokens, seed=cfg.seed + b)
        if len(outs) != len(batch):
            raise RuntimeError(f"backend returned {len(outs)} completion lists for {len(batch)} prompts")
        pairs, meta = [], []
        for t, prompt, comps in zip(batch, prompts, outs, strict=True):
            for k, text in enumerate(list(comps)[: cfg.distill_n]):
                pairs.append((t["reference"], text))
                meta.append((t, prompt, k, text))
        results = verify_batch(pairs, vcfg)
        records = []
        for (t, prompt, k, text), res in zip(meta, results, strict=True):
            records.append({
                "key": f"{t['task_id']}#{k}", "attempt_id": f"{t['task_id']}#{k}", "task_id": t["task_id"],
                "source": t["source"], "prompt": prompt, "completion": text, "reference": t["reference"],
                "instruction": t["instruction"], "correct": bool(res.correct), "backend": cfg.distill_backend,
                "model": model_name, "code": extract_code(text), "task": {k2: t.get(k2) for k2 in (
                    "op_kind", "difficulty", "signature", "license", "provenance")}, **verify_columns(res),
            })
        journal.append(records)
        n_ok += sum(r["correct"] for r in records)
        n_all += len(records)
        rate = n_all / max(time.time() - t0, 1e-9)
        log(f"[data] distilled {min(b + cfg.distill_batch, len(pending))}/{len(pending)} tasks "
            f"(correct {n_ok}/{n_all}) {rate:.1f} attempts/s")
    done = journal.load()
    keys = {f"{t['task_id']}#{k}" for t in tasks for k in range(cfg.distill_n)}
    return [r for key, r in done.items() if key in keys]


def sft_row_from_attempt(rec: dict[str, Any]) -> dict[str, Any]:
    """A verified attempt as an SFT row: the teacher's full text (reasoning + code) is the assistant turn."""
    task = rec.get("task") or {}
    messages = [*rec["prompt"], {"role": "assistant", "content": rec["completion"]}]
    return {
        "messages": messages, "prompt": rec["prompt"], "has_solution": True, "sample_id": f"distill-{rec['attempt_id']}", "task_id": rec["task_id"],
        "source": f"distill:{rec['source']}", "op_kind": task.get("op_kind") or "unknown",
        "difficulty": str(task.get("difficulty") or "unknown"), "signature": task.get("signature") or "",
        "license": task.get("license") or "unknown", "provenance": f"{rec['model']} via {rec['backend']}",
        "instruction": rec["instruction"], "reference": rec["reference"], "solution": rec.get("code") or "",
        **{k: rec[k] for k in VERIFY_COLUMNS},
    }
