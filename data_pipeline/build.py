"""Build a corpus: gather sources -> verify every candidate -> distill -> dedup/decontam -> write.

    report = build(load_config("tiny"), "out/tiny")

Resumable: verdicts are journaled in ``OUT.work/verified.jsonl`` (teacher attempts in
``attempts.jsonl``), one fsync'ed append per batch. After kill -9, the same command skips every
journaled sample, redoes at most one batch and writes the same dataset: rows are assembled from the
deterministic candidate list, never from the journal's order, so nothing is lost or duplicated.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from data_pipeline import inductor
from data_pipeline.config import DataConfig
from data_pipeline.corpus import VERIFY_COLUMNS, verify_columns
from data_pipeline.decontam import EvalItem, decontaminate
from data_pipeline.dedup import Drop, dedup
from data_pipeline.distill import distill, sft_row_from_attempt
from data_pipeline.errors import DataError
from data_pipeline.normalize import normalized_hash
from data_pipeline.sources import gather
from data_pipeline.writer import write_dataset
from rewards import VerifyConfig, VerifyResult, prompt_messages, sft_messages
from rewards.executors import current, verify_batch
from stagekit.journal import Journal


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def verify_config(cfg: DataConfig) -> VerifyConfig:
    extra = {} if cfg.verify_workers else {"workers": current().default_workers()}  # per engine: per node under Ray
    return cfg.verify_config(seed=cfg.seed, **extra)


def _verify_all(cands: list[dict[str, Any]], journal: Journal, vcfg: VerifyConfig, batch: int,
                log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    done = journal.load()
    pending = [c for c in cands if c["sample_id"] not in done]
    total, start = len(cands), len(cands) - len(pending)
    ok = sum(1 for c in cands if done.get(c["sample_id"], {}).get("correct"))
    if start:
        log(f"[data] resuming: {start}/{total} already verified (ok {ok})")
    t0 = time.time()
    for b in range(0, len(pending), batch):
        chunk = pending[b: b + batch]
        results = verify_batch([(c["reference"], c["solution"]) for c in chunk], vcfg)
        recs = [{"key": c["sample_id"], "correct": bool(r.correct), **verify_columns(r), "infra": r.is_infra_error}
                for c, r in zip(chunk, results, strict=True) if not r.is_infra_error]
        journal.append(recs)  # infra errors are not journaled: a rerun retries them
        ok += sum(r["correct"] for r in recs)
        n = b + len(chunk)
        rate = n / max(time.time() - t0, 1e-9)
        log(f"[data] verified {start + n}/{total} (ok {ok}) {rate:.1f} samples/s")
    return journal.load()


def _sft_row(c: dict[str, Any], v: dict[str, Any]) -> dict[str, Any]:
    return {**c, "messages": sft_messages(c["reference"], c["instruction"], c["solution"], c.get("reasoning")),
            "prompt": prompt_messages(c["reference"], c["instruction"]), "has_solution": True,
            **{k: v[k] for k in VERIFY_COLUMNS}}


def _task_row(c: dict[str, Any], has_solution: bool) -> dict[str, Any]:
    messages = sft_messages(c["reference"], c["instruction"], c["solution"], c.get("reasoning")) if has_solution else []
    return {**c, "prompt": prompt_messages(c["reference"], c["instruction"]), "has_solution": has_solution,
            "messages": messages}


def _indist_rows(ok: list[dict[str, Any]], train: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Drop]]:
    """In-distribution held-out rows: verified `indist` draws whose reference and solution are not in train.

    They share templates with train rows by design (same op combination), so the n-gram decontamination,
    which would flag exactly that, is not applied to them; instead an exact (normalised) copy of any train
    reference or solution is dropped, so every item is an instance the model has not seen.
    """
    seen = {normalized_hash(r[k]) for r in train for k in ("reference", "solution") if r.get(k)}
    rows, drops = [], []
    for c in ok:
        if c["split"] != "indist":
            continue
        hit = next((k for k in ("reference", "solution") if normalized_hash(c[k]) in seen), None)
        if hit:
            drops.append(Drop(c["sample_id"], f"indist_{hit}_in_train", "train"))
        else:
            rows.append(_task_row(c, True))
    return rows, drops


def _prepare_out(out: Path, cfg: DataConfig) -> Path:
    if out.exists() and not cfg.overwrite:
        raise DataError(f"output {out} already exists (set overwrite=true to replace it)")
    if out.exists() and not out.is_dir():
        raise DataError(f"output {out} exists and is not a directory")
    if not out.parent.exists():
        raise DataError(f"output parent folder {out.parent} does not exist")
    return out.with_name(out.name + ".work")


def build(cfg: DataConfig, out: str | Path, *, backend: Any = None,
          log: Callable[[str], None] = _log) -> dict[str, Any]:
    """Run the whole pipeline; returns the build report (also written to OUT/build_report.json)."""
    out = Path(out).expanduser().absolute()
    work = _prepare_out(out, cfg)
    t0 = time.time()
    plan = gather(cfg)  # raises DataError on bad inputs, before anything is created
    for note in plan.notes:
        log(f"[data] {note}")
    vcfg = verify_config(cfg)
    run_inductor, why = inductor.should_run(cfg.inductor, vcfg.resolved_device())
    if not run_inductor:
        log(f"[data] inductor: {why}")
    work.mkdir(exist_ok=True)

    candidates = [c for c in plan.candidates if c.get("solution")]
    if run_inductor:
        extra, notes = inductor.candidates([c for c in plan.candidates + plan.tasks if c["split"] == "train"],
                                           cfg, log)
        candidates += extra
        plan.notes += notes
    verified = _verify_all(candidates, Journal(work / "verified.jsonl"), vcfg, cfg.batch_size, log)

    ok = [c for c in candidates if verified.get(c["sample_id"], {}).get("correct")]
    failed = Counter(verified[c["sample_id"]]["verify_status"] for c in candidates
                     if c["sample_id"] in verified and not verified[c["sample_id"]]["correct"])
    unverified = [c for c in candidates if c["sample_id"] not in verified]
    sft = [_sft_row(c, verified[c["sample_id"]]) for c in ok if c["split"] == "train"]
    heldout = [_task_row(c, True) for c in ok if c["split"] == "heldout"]
    rl = [_task_row(c, True) for c in ok if c["split"] == "train"]
    rl += [_task_row(t, False) for t in plan.tasks]

    attempts: list[dict[str, Any]] = []
    if cfg.distill:
        teach = [t for t in plan.tasks + [c for c in ok if c["split"] == "train"]]
        attempts = distill(teach, cfg, vcfg, Journal(work / "attempts.jsonl"), backend=backend, log=log)
        sft += [sft_row_from_attempt(a) for a in attempts if a["correct"]]

    drops: list[Drop] = []
    if cfg.dedup:
        sft, d1 = dedup(sft, lambda r: (r["reference"], r["solution"]), threshold=cfg.minhash_threshold,
                        num_perm=cfg.minhash_num_perm, shingle=cfg.shingle_size,
                        normalize_identifiers=cfg.normalize_identifiers)
        rl, d2 = dedup(rl, lambda r: (r["reference"],), key="task_id", near=False)
        drops += d1 + d2
    if cfg.decontam:
        evals = plan.evals + [EvalItem(h["task_id"], "heldout", (h["reference"], h["solution"] or ""))
                              for h in heldout]
        kw = {"n": cfg.decontam_ngram, "threshold": cfg.decontam_threshold, "max_df": cfg.decontam_max_df}
        sft, d3 = decontaminate(sft, lambda r: (r["reference"], r["solution"]), evals, **kw)
        rl, d4 = decontaminate(rl, lambda r: (r["reference"],), evals, key="task_id", **kw)
        drops += d3 + d4

    indist, d5 = _indist_rows(ok, sft + rl)
    drops += d5
    refine: list[dict[str, Any]] = []
    if cfg.refinement:  # after dedup/decontam: fixes only of rows that stay in the corpus
        from data_pipeline.refinement import build_refinement

        refine = build_refinement(sft, attempts, cfg.refinement, vcfg, Journal(work / "refine.jsonl"),
                                  cfg.batch_size, log)

    report = {
        "name": cfg.name, "config": cfg.to_dict(), "wall_s": round(time.time() - t0, 1),
        "counts": {"candidates": len(candidates), "verified_ok": len(ok), "verify_failed": dict(failed),
                   "not_verified_infra": len(unverified), "sft": len(sft), "rl": len(rl), "heldout": len(heldout),
                   "indist": len(indist), "attempts": len(attempts), "refine": len(refine)},
        "stages": plan.notes + [
            f"verified {len(candidates)} candidate solutions with rewards.verify_batch (trials={cfg.verify_trials},"
            f" device={vcfg.resolved_device()}): {len(ok)} correct" + (f", failures {dict(failed)}" if failed else ""),
            f"dedup: normalised-code hash + MinHash LSH (threshold {cfg.minhash_threshold}, "
            f"{cfg.shingle_size}-token shingles)" if cfg.dedup else "dedup: off",
            f"decontamination: {cfg.decontam_ngram}-gram overlap >= {cfg.decontam_threshold} with one held-out or "
            f"benchmark item ({len(plan.evals)} benchmark items + {len(heldout)} held-out)" if cfg.decontam
            else "decontamination: off",
        ],
        "drops": [d.__dict__ for d in drops],
        "by_op_kind": dict(Counter(r["op_kind"] for r in sft)),
        "by_source": dict(Counter(r["source"] for r in sft)),
        "by_difficulty": dict(Counter(str(r["difficulty"]) for r in sft)),
    }
    attempt_rows = [{k: v for k, v in a.items() if k != "key"} for a in attempts]
    write_dataset(out, cfg.name, {"sft": sft, "rl": rl, "heldout": heldout, "attempts": attempt_rows,
                                  "indist": indist, "refine": refine}, report)
    if not cfg.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    log(summary_table(report))
    return report


def summary_table(report: dict[str, Any]) -> str:
    c = report["counts"]
    lines = [f"[data] built {report['name']} in {report['wall_s']}s",
             f"  candidates {c['candidates']}  verified ok {c['verified_ok']}  failed {sum(c['verify_failed'].values())}"
             f"  infra-unverified {c['not_verified_infra']}",
             f"  splits: sft {c['sft']}  rl {c['rl']}  heldout {c['heldout']}  indist {c.get('indist', 0)}"
             f"  attempts {c['attempts']}  refine {c.get('refine', 0)}",
             f"  dropped: {dict(Counter(d['reason'] for d in report['drops']))}",
             "  op_kind      sft rows"]
    lines += [f"  {k:<12} {v:>8}" for k, v in sorted(report["by_op_kind"].items(), key=lambda kv: -kv[1])]
    return "\n".join(lines)


__all__ = ["VerifyResult", "build", "summary_table", "verify_config"]
