"""A planted duplicate and a planted eval-set leak are both removed, with the reason reported."""

from __future__ import annotations

from pathlib import Path

from data_pipeline.decontam import EvalItem, decontaminate
from data_pipeline.dedup import dedup
from data_pipeline.importers import kernelbench_tasks
from data_pipeline.synth import synthesize

FIXTURES = Path(__file__).parent / "fixtures"


def _rows(n: int) -> list[dict]:
    return [{"sample_id": s.sample_id, "reference": s.reference, "solution": s.solution}
            for s in synthesize(n, 0, seed=11)]


def test_planted_duplicate_removed() -> None:
    rows = _rows(40)
    first = rows[0]
    # Same code, different comments/blank lines/docstring: an exact duplicate after normalisation.
    dup = {"sample_id": "planted-dup", "reference": first["reference"].replace("\n\n", "\n\n\n"),
           "solution": "# copied\n" + first["solution"].replace("    return", '    """doc"""\n    return', 1)}
    kept, drops = dedup([*rows, dup], lambda r: (r["reference"], r["solution"]))
    assert "planted-dup" not in {r["sample_id"] for r in kept}
    assert any(d.row_id == "planted-dup" and d.other == first["sample_id"] for d in drops)
    assert len(kept) >= 35  # distinct samples survive


def test_near_duplicate_removed() -> None:
    rows = _rows(20)
    near = dict(rows[3], sample_id="planted-near")
    near["solution"] = near["solution"].replace("@triton.jit", "@triton.jit  # tuned", 1) + "\nVERSION = 2\n"
    near["reference"] = near["reference"] + "\n# small edit\n"
    kept, drops = dedup([*rows, near], lambda r: (r["reference"], r["solution"]), threshold=0.8)
    assert "planted-near" not in {r["sample_id"] for r in kept}
    assert any(d.row_id == "planted-near" and d.reason in ("near_duplicate", "exact_duplicate") for d in drops)


def test_planted_eval_leak_removed() -> None:
    rows = _rows(60)
    bench = kernelbench_tasks(FIXTURES / "kernelbench", [1, 2])
    evals = [EvalItem(t.task.task_id, "kernelbench", (t.task.reference,)) for t in bench]
    leak_ref = bench[2].task.reference  # a KernelBench task copied into train
    rows.append({"sample_id": "planted-leak", "reference": leak_ref, "solution": rows[0]["solution"]})
    kept, drops = decontaminate(rows, lambda r: (r["reference"], r["solution"]), evals)
    assert "planted-leak" not in {r["sample_id"] for r in kept}
    leak = next(d for d in drops if d.row_id == "planted-leak")
    assert leak.reason == "contamination:kernelbench" and leak.other == bench[2].task.task_id
    assert len(kept) == 60  # nothing else matched the benchmark
