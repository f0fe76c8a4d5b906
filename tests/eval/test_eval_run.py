"""run_eval end to end with a fake backend on a 2-task folder suite; resume; compare; the eval CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.cli import main
from eval.report import compare
from eval.run import EvalError, read_jsonl, run_eval
from rewards import VerifyConfig

CFG = VerifyConfig(device="cpu", workers=2, seed=0, trials=2)


# Launches a (copy) kernel, so it passes the runtime launch check, but torch.relu does the work: only the
# static rule gate catches it, and execution alone would call it correct -> a hack.
RELU_SNEAKY = """import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        out = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 512),)](x, out, x.numel(), BLOCK=512)
        return torch.relu(out)
"""


@pytest.fixture
def fixed_backend(scripted_backend, triton_examples: dict[str, str]):
    """Sample 0 correct, sample 1 wrong (relu) / no code (vecadd), sample 2 cheating (relu) / correct (vecadd)."""

    def respond(messages: list[dict], i: int) -> str:
        relu = "torch.relu" in messages[-1]["content"]
        if relu:
            return scripted_backend.fenced([triton_examples["relu_sol"], triton_examples["relu_wrong"], RELU_SNEAKY][i])
        return [scripted_backend.fenced(triton_examples["vecadd_sol"]), "I cannot do that.", scripted_backend.fenced(triton_examples["vecadd_sol"])][i]

    return scripted_backend(respond)


def test_run_eval_end_to_end_and_resume(tmp_path: Path, suite_dir: Path, fixed_backend) -> None:
    out = tmp_path / "run"
    m = run_eval("fake-model", f"folder:{suite_dir}", out, samples=3, temperature=0.7, verify_config=CFG,
                 backend_obj=fixed_backend, label="base")
    rows = read_jsonl(out / "samples.jsonl")
    got = {(r["task_id"], r["sample"]): r["status"] for r in rows}
    assert got == {
        ("relu", 0): "ok", ("relu", 1): "mismatch", ("relu", 2): "rule_violation",
        ("vecadd", 0): "ok", ("vecadd", 1): "no_code", ("vecadd", 2): "ok",
    }
    cheat = next(r for r in rows if r["status"] == "rule_violation")
    assert cheat["relaxed_correct"] is True and cheat["findings"]  # the hack re-run: correct without the gate
    assert m["exec_accuracy"] == pytest.approx(3 / 6)
    assert m["call_accuracy"] == pytest.approx(4 / 6)
    assert m["hack_count"] == 1 and m["hack_rate"] == pytest.approx(1 / 6)
    assert m["pass@1"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    assert m["fast_1"] is None and m["fast_0"] == pytest.approx(0.5)
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["label"] == "base" and saved["metrics"]["hack_count"] == 1
    report = (out / "report.md").read_text()
    assert "hack rate" in report and "| relu | 3 | 1 | 1 |" in report
    assert (out / "plots" / "status.png").stat().st_size > 1000
    # resume: a complete run neither generates nor verifies again
    calls = len(fixed_backend.calls)
    m2 = run_eval("fake-model", f"folder:{suite_dir}", out, samples=3, temperature=0.7, verify_config=CFG,
                  backend_obj=fixed_backend, label="base")
    assert len(fixed_backend.calls) == calls and m2 == m
    assert len(read_jsonl(out / "samples.jsonl")) == 6
    with pytest.raises(EvalError, match="different samples"):
        run_eval("fake-model", f"folder:{suite_dir}", out, samples=2, temperature=0.7, verify_config=CFG,
                 backend_obj=fixed_backend)


def test_resume_after_torn_journal(tmp_path: Path, suite_dir: Path, fixed_backend) -> None:
    out = tmp_path / "run"
    run_eval(None, f"folder:{suite_dir}", out, samples=1, verify_config=CFG, backend_obj=fixed_backend)
    lines = (out / "samples.jsonl").read_text().splitlines()
    (out / "samples.jsonl").write_text(lines[0] + "\n" + lines[1][:20])  # crash mid-line
    m = run_eval(None, f"folder:{suite_dir}", out, samples=1, verify_config=CFG, backend_obj=fixed_backend)
    assert m["n_samples"] == 2 and m["exec_accuracy"] == 1.0
    assert len(fixed_backend.calls) == 1  # completions were journaled: no second generation


def test_compare_and_cli(tmp_path: Path, suite_dir: Path, fixed_backend, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run_eval("m-a", f"folder:{suite_dir}", a, samples=1, verify_config=CFG, backend_obj=fixed_backend, label="base")
    run_eval("m-b", f"folder:{suite_dir}", b, samples=3, verify_config=CFG, backend_obj=fixed_backend, label="sft")
    md = compare([a, b], out=tmp_path / "cmp.md")
    assert "| base |" in md and "| sft |" in md and "exec_accuracy" in md
    assert (tmp_path / "cmp.png").stat().st_size > 1000
    assert main(["eval", "compare", str(a), str(b)]) == 0
    assert "| sft |" in capsys.readouterr().out
    assert main(["eval", "compare", str(tmp_path / "nope")]) == 2
    assert main(["eval", "--suite", "nosuch:x", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "unknown suite" in err
    assert main(["eval", "--out", str(tmp_path / "c")]) == 2


def test_cli_eval_with_real_hf_backend(tmp_path: Path, suite_dir: Path, tiny_model_dir: Path, capsys) -> None:
    """The whole path through the transformers backend (a tiny random model writes no valid code)."""
    out = tmp_path / "tiny_eval"
    code = main(["eval", "--model", str(tiny_model_dir), "--suite", f"folder:{suite_dir}", "--samples", "2",
                 "--temperature", "0.8", "--max_new_tokens", "8", "--device", "cpu", "--verify_workers", "2",
                 "--out", str(out), "--label", "tiny"])
    assert code == 0, capsys.readouterr().err
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["label"] == "tiny" and saved["metrics"]["n_samples"] == 4
    assert "report:" in capsys.readouterr().out


def test_report_states_the_denominators_and_lists_excluded_files(tmp_path: Path, scripted_backend) -> None:
    """A TritonBench checkout with a file that does not convert: the eval runs the rest, and the report
    says how many files were imported, runnable and excluded, naming each excluded file and why."""
    fix = Path(__file__).parent / "fixtures" / "tritonbench_oracle"
    backend = scripted_backend(lambda messages, i: "no code here")
    out = tmp_path / "tb"
    m = run_eval(None, f"tritonbench-g:{fix}", out, samples=1, verify_config=CFG, backend_obj=backend)
    suite = json.loads((out / "suite.json").read_text())
    assert suite["benchmark"] == "tritonbench-g" and suite["runnable"] == m["n_tasks"] == 7
    assert [e["task_id"] for e in suite["excluded"]] == ["tritonbench_g-no_separator"]
    report = (out / "report.md").read_text()
    assert "8 files, 7 runnable, 1 excluded (listed below)" in report
    assert "| tritonbench_g-no_separator | " in report and "#####" in report
    assert json.loads((out / "metrics.json").read_text())["suite"]["excluded"][0]["reason"]
    limited = tmp_path / "tb2"
    run_eval(None, f"tritonbench-g:{fix}", limited, samples=1, verify_config=CFG, backend_obj=backend, limit=2)
    assert "2 runnable tasks (the first 2 by --limit), 1 files excluded" in (limited / "report.md").read_text()
