"""One eval run: generate k samples per task, verify them all in the sandbox, journal, report.

Files in `out_dir` (the journal is the source of truth; everything else is derived from it):
    run.json           the settings; a rerun with different settings into the same folder is refused
    completions.jsonl  one line per (task_id, sample): the raw completion (generation is the slow part)
    samples.jsonl      one line per verified sample: status, findings, errors, speedup, hack re-run
    metrics.json, report.md, plots/*.png   written by eval/report.py from samples.jsonl

Resumable: a rerun skips tasks whose completions are journaled and samples already verified, so a
killed run loses at most one chunk. Lines cut off by a crash are ignored on read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from data_pipeline.backends import GenerationBackend
from eval.records import EvalError, append_jsonl, read_jsonl  # noqa: F401  (re-exported)
from eval.report import write_report
from eval.suites import EvalItem, load_suite_full
from rewards.contract.config import VerifyConfig
from rewards.contract.types import Status, VerifyResult

LOG_KEEP = 1500  # characters of the sandbox log kept per sample in the journal


@dataclass(frozen=True)
class EvalSettings:
    """What defines a run; a resumed run must match these exactly."""

    model: str | None
    suite: str
    samples: int = 1
    temperature: float = 0.0
    seed: int = 0
    backend: str = "auto"
    max_new_tokens: int = 1024
    prompt_format: str | None = None
    limit: int | None = None
    label: str | None = None
    turns: int = 1  # refinement turns (eval.turns); more turns extend a finished run, so not checked on resume

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise EvalError("--samples must be >= 1")
        if self.turns < 1:
            raise EvalError("--turns must be >= 1")
        if self.temperature < 0:
            raise EvalError("--temperature must be >= 0")
        if self.max_new_tokens < 1:
            raise EvalError("--max_new_tokens must be >= 1")

    @property
    def display_label(self) -> str:
        return self.label or (Path(self.model).name if self.model else "default")


# --------------------------------------------------------------------------- journal helpers
def _check_settings(out: Path, settings: EvalSettings) -> None:
    path = out / "run.json"
    mine = asdict(settings)
    if path.is_file():
        old = json.loads(path.read_text()).get("settings", {})
        keys = ("model", "suite", "samples", "temperature", "seed", "max_new_tokens", "prompt_format")
        diff = [k for k in keys if old.get(k) != mine.get(k)]
        if diff:
            raise EvalError(f"{out} holds a run with different {', '.join(diff)}; use another --out to start afresh")
    path.write_text(json.dumps({"settings": mine}, indent=2, sort_keys=True))


# --------------------------------------------------------------------------- records
def make_record(item: EvalItem, sample: int, completion: str, res: VerifyResult) -> dict[str, Any]:
    """One journal row: everything the metrics and the report need, JSON only."""
    return {
        "task_id": item.task_id,
        "sample": sample,
        "completion": completion,
        "status": res.status.value,
        "correct": res.correct,
        "rule_ok": res.rule_ok,
        "findings": [f.to_dict() for f in res.rule_findings],
        "max_abs_err": res.max_abs_err,
        "trials": res.trials,
        "ref_ms": res.ref_ms,
        "cand_ms": res.cand_ms,
        "speedup": res.speedup,
        "speedup_vs_compile": dict(res.extra).get("speedup_vs_compile"),
        "kernel_launches": res.kernel_launches,
        "device": res.device,
        "timing_method": res.timing_method,
        "implausible_speedup": res.implausible_speedup,
        "error_type": res.error_type,
        "log": (res.log or "")[-LOG_KEEP:],
        "relaxed_status": None,
        "relaxed_correct": None,
        "tolerance": res.tolerance,
        "benchmark_checks": dict(res.benchmark_checks),
        "uninformative": dict(res.extra).get("uninformative"),
    }


def _chunks(seq: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _say(progress: Callable[[str], None] | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def make_backend_for(settings: EvalSettings, device: str = "auto") -> GenerationBackend:
    """The real generation backend (imported lazily: vLLM / transformers load only when used); replicas on
    the cluster under `--executor ray` (data_pipeline.generation_pool)."""
    from data_pipeline.generation_pool import make_generation_backend

    kw: dict[str, Any] = {}
    if device != "auto" and settings.backend != "openai":  # an endpoint has no device
        kw["device"] = device
    backend = make_generation_backend(settings.backend, settings.model, **kw)
    print(f"[eval] generation backend: {getattr(backend, 'name', type(backend).__name__)}", file=sys.stderr, flush=True)
    return backend


# --------------------------------------------------------------------------- the two stages
def generate_missing(
    items: Sequence[EvalItem], settings: EvalSettings, backend: GenerationBackend, out: Path,
    chunk_tasks: int = 8, progress: Callable[[str], None] | None = None,
) -> dict[tuple[str, int], str]:
    """Generate k samples for every task without journaled completions; return all completions.

    `chunk_tasks` tasks per journaled call, per generation replica (a replicated backend gets one chunk's
    worth for each replica, so all of them work)."""
    from data_pipeline.generation_pool import generate_chunk

    chunk_tasks = generate_chunk(backend, chunk_tasks)
    path = out / "completions.jsonl"
    have: dict[tuple[str, int], str] = {(r["task_id"], int(r["sample"])): r["completion"] for r in read_jsonl(path)}
    todo = [(i, it) for i, it in enumerate(items) if any((it.task_id, s) not in have for s in range(settings.samples))]
    for chunk in _chunks(todo, chunk_tasks):
        first_index = chunk[0][0]  # seed depends on task position, not on how far a previous run got
        outs = backend.generate(
            [it.messages for _, it in chunk], n=settings.samples, temperature=settings.temperature,
            max_new_tokens=settings.max_new_tokens, seed=settings.seed + first_index,
        )
        if len(outs) != len(chunk) or any(len(o) != settings.samples for o in outs):
            raise EvalError("generation backend returned the wrong number of completions")
        rows = [
            {"task_id": it.task_id, "sample": s, "completion": str(text)}
            for (_, it), texts in zip(chunk, outs, strict=True) for s, text in enumerate(texts)
        ]
        append_jsonl(path, rows)
        have.update({(r["task_id"], r["sample"]): r["completion"] for r in rows})
        _say(progress, f"generated {len({k[0] for k in have})}/{len(items)} tasks")
    return have


def _verify(pairs: list[tuple[str, str]], config: VerifyConfig) -> list[VerifyResult]:
    from rewards.executors import verify_batch

    return list(verify_batch(pairs, config))


def verify_missing(
    items: Sequence[EvalItem], completions: dict[tuple[str, int], str], settings: EvalSettings,
    config: VerifyConfig, out: Path, hack_rerun: bool = True, chunk_samples: int = 32,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Verify every journaled completion not yet verified; return all sample records (ordered)."""
    path = out / "samples.jsonl"
    done = {(r["task_id"], int(r["sample"])): r for r in read_jsonl(path)}
    done = {k: v for k, v in done.items() if v.get("status") != Status.INFRA_ERROR.value}  # retry machinery failures
    by_id = {it.task_id: it for it in items}
    todo = [
        (it, s) for it in items for s in range(settings.samples)
        if (it.task_id, s) not in done and (it.task_id, s) in completions
    ]
    relaxed_cfg = replace(config, strict_rules=False)
    total = len(done) + len(todo)
    for chunk in _chunks(todo, chunk_samples):
        texts = [completions[(it.task_id, s)] for it, s in chunk]
        results = _verify([(it.task.reference, it.candidate(t)) for (it, _), t in zip(chunk, texts, strict=True)], config)
        rows = [make_record(it, s, t, r) for (it, s), t, r in zip(chunk, texts, results, strict=True)]
        gated = [i for i, r in enumerate(results) if r.status is Status.RULE_VIOLATION]
        if hack_rerun and gated:
            # Would the gated samples have passed on execution alone? That is what the hack rate measures.
            relaxed = _verify([(chunk[i][0].task.reference, chunk[i][0].candidate(texts[i])) for i in gated], relaxed_cfg)
            for i, rr in zip(gated, relaxed, strict=True):
                rows[i]["relaxed_status"] = rr.status.value
                rows[i]["relaxed_correct"] = rr.correct
        append_jsonl(path, rows)
        done.update({(r["task_id"], r["sample"]): r for r in rows})
        _say(progress, f"verified {len(done)}/{total} samples")
    order = {it.task_id: i for i, it in enumerate(items)}
    return sorted((r for k, r in done.items() if k[0] in by_id), key=lambda r: (order[r["task_id"]], r["sample"]))


def run_eval(
    model: str | None,
    suite: str,
    out_dir: str | Path,
    *,
    samples: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
    backend: str = "auto",
    max_new_tokens: int = 1024,
    verify_config: VerifyConfig | None = None,
    prompt_format: str | None = None,
    limit: int | None = None,
    label: str | None = None,
    device: str = "auto",
    backend_obj: GenerationBackend | None = None,
    hack_rerun: bool = True,
    progress: Callable[[str], None] | None = None,
    turns: int = 1,
) -> dict[str, Any]:
    """Run (or resume) an eval into `out_dir`; return the metrics dict (also written as metrics.json).

    `turns` > 1: failed samples get refinement turns with the judge's feedback (eval.turns); the metrics
    then hold `turns`, the per-turn accuracy and what each later turn fixed.
    """

    settings = EvalSettings(
        model=model, suite=suite, samples=samples, temperature=temperature, seed=seed, backend=backend,
        max_new_tokens=max_new_tokens, prompt_format=prompt_format, limit=limit, label=label, turns=turns,
    )
    loaded = load_suite_full(suite, prompt_format=prompt_format, limit=limit, device=None if device == "auto" else device)
    items = loaded.items
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings)
    # What the denominators are: every file of the benchmark is either evaluated or listed with its reason.
    (out / "suite.json").write_text(json.dumps({
        "benchmark": loaded.benchmark or suite.split(":")[0], "runnable": len(items), "limit": limit,
        "excluded": [asdict(e) for e in loaded.excluded],
    }, indent=2, sort_keys=True))
    config = verify_config or VerifyConfig(device=device, seed=seed)
    _say(progress, f"suite {suite}: {len(items)} tasks x {samples} samples"
         + (f" ({len(loaded.excluded)} files excluded, listed in the report)" if loaded.excluded else ""))
    completions = read_jsonl(out / "completions.jsonl")
    have = {(r["task_id"], int(r["sample"])) for r in completions}
    need_gen = any((it.task_id, s) not in have for it in items for s in range(samples))
    if need_gen and backend_obj is None:
        backend_obj = make_backend_for(settings, device)
    all_completions = (
        generate_missing(items, settings, backend_obj, out, progress=progress) if need_gen and backend_obj
        else {(r["task_id"], int(r["sample"])): r["completion"] for r in completions}
    )
    records = verify_missing(items, all_completions, settings, config, out, hack_rerun=hack_rerun, progress=progress)
    metrics = write_report(out, records, settings=asdict(settings))
    if turns > 1:
        from eval.turns import run_turns, turn_metrics, write_turn_report

        later = run_turns(
            items, records, turns=turns, backend_for=lambda: backend_obj or make_backend_for(settings, device),
            verify=_verify, config=config, make_record=make_record, out=out, temperature=temperature,
            max_new_tokens=max_new_tokens, seed=seed, progress=progress,
        )
        metrics = write_turn_report(out, metrics, turn_metrics(records, later, turns))
    return metrics


def stderr_progress(msg: str) -> None:
    print(f"[eval] {msg}", file=sys.stderr, flush=True)
