"""`eval --turns N`: failed samples answered again after the judge's feedback; per-turn accuracy and fixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.cli import main
from eval.run import read_jsonl, run_eval
from eval.turns import turn_metrics
from rewards import VerifyConfig

CFG = VerifyConfig(device="cpu", workers=2, seed=0, trials=1)


@pytest.fixture
def learner(scripted_backend, triton_examples: dict[str, str]):
    """Turn 1: relu wrong (s0) / cheat (s1); vecadd no code (s0) / right (s1). After feedback on a mismatch
    or a missing code block it answers right; after a rule finding it cheats once more, then answers right."""

    def respond(messages: list[dict], i: int) -> str:
        relu = "torch.relu" in messages[1]["content"]
        right = triton_examples["relu_sol" if relu else "vecadd_sol"]
        feedback = [m["content"] for m in messages[2:] if m["role"] == "user"]
        if not feedback:
            if relu:
                return scripted_backend.fenced([triton_examples["relu_wrong"], triton_examples["relu_cheat"]][i])
            return ["I cannot do that.", scripted_backend.fenced(right)][i]
        if "status `rule_violation`" in feedback[-1] and len(feedback) == 1:
            return scripted_backend.fenced(triton_examples["relu_cheat"])
        return scripted_backend.fenced(right)

    return scripted_backend(respond)


def test_turns_fix_failures_and_report_by_status(tmp_path: Path, suite_dir: Path, learner) -> None:
    out = tmp_path / "ev"
    m = run_eval("m", f"folder:{suite_dir}", out, samples=2, temperature=0.7, verify_config=CFG,
                 backend_obj=learner, turns=3)
    acc = [r["exec_accuracy"] for r in m["turns"]["per_turn"]]
    assert acc == [0.25, 0.75, 1.0] and m["exec_accuracy"] == 0.25  # the headline stays turn 1
    assert m["turns"]["per_turn"][1]["fixed"] == {"mismatch": 1, "no_code": 1}
    assert m["turns"]["per_turn"][2]["fixed"] == {"rule_violation": 1}
    # only the failing samples were asked again: turn 1 (2 tasks), turn 2 (3 samples), turn 3 (1 sample)
    assert [len(c) for c in learner.calls] == [2, 3, 1]
    conv = learner.calls[1][0]
    assert [x["role"] for x in conv] == ["system", "user", "assistant", "user"]
    assert conv[-1]["content"].startswith("Verification failed")
    rows = read_jsonl(out / "turns.jsonl")
    assert sorted((r["turn"], r["correct"]) for r in rows) == [(2, False), (2, True), (2, True), (3, True)]
    saved = json.loads((out / "metrics.json").read_text())["metrics"]["turns"]
    assert saved == m["turns"]
    report = (out / "report.md").read_text()
    assert "Refinement turns" in report and "| 2 | 75.0% |" in report and "25.0% → 100.0%" in report

    # a rerun resumes from the journals: nothing is generated again, the numbers are the same
    class NoCalls:
        def generate(self, *a, **k):
            raise AssertionError("resumed run generated again")

    again = run_eval("m", f"folder:{suite_dir}", out, samples=2, temperature=0.7, verify_config=CFG,
                     backend_obj=NoCalls(), turns=3)
    assert again["turns"] == m["turns"]


def test_turn_metrics_pass_at_1_is_per_task() -> None:
    first = [{"task_id": "a", "sample": 0, "status": "ok", "correct": True},
             {"task_id": "a", "sample": 1, "status": "mismatch", "correct": False},
             {"task_id": "b", "sample": 0, "status": "compile_error", "correct": False},
             {"task_id": "b", "sample": 1, "status": "infra_error", "correct": False}]
    later = [{"task_id": "b", "sample": 0, "turn": 2, "status": "ok", "correct": True}]
    tm = turn_metrics(first, later, 2)
    t1, t2 = tm["per_turn"]
    assert tm["samples"] == 3  # the infra error is no sample
    assert t1["pass@1"] == pytest.approx((0.5 + 0.0) / 2) and t2["pass@1"] == pytest.approx((0.5 + 1.0) / 2)
    assert t2["fixed"] == {"compile_error": 1} and t2["exec_accuracy"] == pytest.approx(2 / 3)


def test_cli_eval_turns_prints_per_turn_accuracy(tmp_path: Path, suite_dir: Path, tiny_model_dir: Path, capsys) -> None:
    """`tritonforge eval --turns 2` through the real HF backend (a random tiny model: nothing verifies)."""
    out = tmp_path / "tiny_turns"
    code = main(["eval", "--model", str(tiny_model_dir), "--suite", f"folder:{suite_dir}", "--samples", "1",
                 "--max_new_tokens", "8", "--device", "cpu", "--verify_workers", "2", "--turns", "2",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "turn 1: exec_accuracy=0.000" in printed and "turn 2: exec_accuracy=0.000 pass@1=0.000 fixed 0" in printed
    assert len(read_jsonl(out / "turns.jsonl")) == 2
    assert main(["eval", "--suite", f"folder:{suite_dir}", "--out", str(out), "--turns", "0"]) == 2


def test_compare_shows_turn_one_and_turn_n_side_by_side(tmp_path: Path, suite_dir: Path, learner) -> None:
    from eval.report import compare

    run_eval("m", f"folder:{suite_dir}", tmp_path / "a", samples=2, temperature=0.7, verify_config=CFG,
             backend_obj=learner, turns=2, label="two turns")
    md = compare([tmp_path / "a"])
    head = next(ln for ln in md.splitlines() if ln.startswith("| model"))
    assert "exec_accuracy" in head and "exec_accuracy turn 2" in head and "pass@1 turn 2" in head
    row = next(ln for ln in md.splitlines() if ln.startswith("| two turns"))
    assert "25.0%" in row and "75.0%" in row
