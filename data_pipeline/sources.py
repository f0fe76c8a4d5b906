"""Gather every configured source into candidate records, before anything is created on disk.

A candidate is a dict: sample_id (journal key), task fields (task_id, source, reference, instruction,
split, difficulty, license, provenance), labels (op_kind, signature), and `solution` (code to verify)
or None for a task that only feeds the RL split / the teacher. Bad inputs raise `DataError` here, so a
failing build has not written a byte yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from data_pipeline import importers
from data_pipeline.config import DataConfig
from data_pipeline.decontam import EvalItem
from data_pipeline.synth import LICENSE as SYNTH_LICENSE
from data_pipeline.synth import synthesize


@dataclass
class Plan:
    """Everything the build will verify, publish as tasks, or keep out of train."""

    candidates: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)  # train tasks without a solution (RL / teacher)
    evals: list[EvalItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sid(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def imported_record(imp: importers.Imported, split: str = "train") -> dict[str, Any]:
    t = imp.task
    return {"sample_id": f"{t.source}-{_sid(t.reference, imp.solution or '')}", "task_id": t.task_id,
            "source": t.source, "reference": t.reference, "instruction": t.instruction, "split": split,
            "difficulty": str(t.difficulty), "license": t.license, "provenance": t.provenance,
            "op_kind": imp.op_kind, "signature": imp.signature, "solution": imp.solution, "reasoning": None}


def gather(cfg: DataConfig) -> Plan:
    plan = Plan()
    if cfg.synth and (cfg.synth_train or cfg.synth_heldout or cfg.synth_indist):
        samples = synthesize(cfg.synth_train, cfg.synth_heldout, seed=cfg.seed, kinds=tuple(cfg.synth_kinds),
                             half=cfg.synth_half, heldout_fraction=cfg.heldout_fraction,
                             max_per_signature=cfg.max_per_signature, max_per_variant=cfg.max_per_variant,
                             n_indist=cfg.synth_indist, indist_fraction=cfg.indist_fraction,
                             reasoning=cfg.synth_reasoning, compact=cfg.synth_compact)
        for s in samples:
            plan.candidates.append({
                "sample_id": s.sample_id, "task_id": s.sample_id, "source": "synth", "reference": s.reference,
                "instruction": s.instruction, "split": s.split, "difficulty": str(s.difficulty),
                "license": SYNTH_LICENSE, "provenance": f"tritonforge synth seed={cfg.seed} index={s.index}",
                "op_kind": s.op_kind, "signature": s.signature, "solution": s.solution, "reasoning": s.reasoning,
            })
        plan.notes.append(f"synth: {len(samples)} samples drawn "
                          f"({sum(s.split == 'heldout' for s in samples)} held-out, "
                          f"{sum(s.split == 'indist' for s in samples)} in-distribution held-out) from seed {cfg.seed}")
    if cfg.kernelbench_path:
        imps = importers.kernelbench_tasks(cfg.kernelbench_path, cfg.kernelbench_levels)
        if cfg.kernelbench_role == "eval":
            plan.evals += [EvalItem(i.task.task_id, "kernelbench", (i.task.reference,)) for i in imps]
        else:
            plan.tasks += [imported_record(i) for i in imps]
        plan.notes.append(f"kernelbench: {len(imps)} tasks ({cfg.kernelbench_role})")
    if cfg.tritonbench_t_path:
        imps, items, skipped = importers.tritonbench_t(cfg.tritonbench_t_path)
        if cfg.tritonbench_t_role == "eval":
            plan.evals += items
        else:
            for i in imps:
                (plan.candidates if i.solution else plan.tasks).append(imported_record(i))
        plan.notes.append(f"tritonbench_t: {len(items)} entries, {len(imps)} converted to KernelBench style, "
                          f"{skipped} not convertible ({cfg.tritonbench_t_role})")
    if cfg.tritonbench_g_path:
        items = importers.tritonbench_g(cfg.tritonbench_g_path)
        plan.evals += items
        plan.notes.append(f"tritonbench_g: {len(items)} entries (eval: no PyTorch reference to verify against)")
    if cfg.user_tasks_path:
        imps = importers.user_tasks(cfg.user_tasks_path)
        for i in imps:
            (plan.candidates if i.solution else plan.tasks).append(imported_record(i))
        plan.notes.append(f"user: {len(imps)} tasks ({sum(bool(i.solution) for i in imps)} with solutions)")
    return plan
