"""Suites and importers on small fixtures laid out like the real benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.suites import SuiteError, load_suite, parse_levels

FIX = Path(__file__).parent / "fixtures"

TBT_CANDIDATE = '''Plan: one program per block.
```python
import torch
import triton
import triton.language as tl


@triton.jit
def _relu_sqrt_kernel(x_ptr, o_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(o_ptr + offs, tl.sqrt(tl.maximum(x, 0.0)), mask=m)


def relu_sqrt(input):
    out = torch.empty_like(input)
    n = input.numel()
    _relu_sqrt_kernel[(triton.cdiv(n, 64),)](input, out, n, BLOCK=64)
    return out
```
'''


def test_kernelbench_levels() -> None:
    items = load_suite(f"kernelbench:{FIX / 'kernelbench'}")
    assert [i.task_id for i in items] == ["kernelbench-l1-19_ReLU", "kernelbench-l2-1_Scale_Add"]
    assert items[1].task.difficulty == "level2" and items[1].task.source == "kernelbench"
    assert [i.task_id for i in load_suite(f"kernelbench:{FIX / 'kernelbench'}:2")] == ["kernelbench-l2-1_Scale_Add"]
    assert "class Model" in items[0].messages[1]["content"]  # our shared prompt
    assert parse_levels("1-3") == [1, 2, 3] and parse_levels("1,3") == [1, 3]
    with pytest.raises(SuiteError, match="level3"):
        load_suite(f"kernelbench:{FIX / 'kernelbench'}:3")


def test_folder_and_bare_path() -> None:
    items = load_suite(f"folder:{FIX / 'kernelbench/KernelBench/level1'}")
    assert [i.task_id for i in items] == ["19_ReLU"]
    assert [i.task_id for i in load_suite(str(FIX / "kernelbench/KernelBench/level2/1_Scale_Add.py"))] == ["1_Scale_Add"]


@pytest.mark.parametrize("spec,match", [
    ("nosuch:thing", "unknown suite"),
    ("folder:/no/such/dir", "no such path"),
    ("kernelbench:", "missing path"),
    (f"folder:{FIX / 'tritonbench'}", "no \\*.py"),
])
def test_bad_specs_one_clear_error(spec: str, match: str) -> None:
    with pytest.raises(SuiteError, match=match):
        load_suite(spec)


def test_folder_with_non_task_file_fails(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("print('hi')\n")
    with pytest.raises(SuiteError, match="class Model"):
        load_suite(f"folder:{tmp_path}")


def test_heldout_parquet(tmp_path: Path) -> None:
    import datasets

    ref = (FIX / "kernelbench/KernelBench/level1/19_ReLU.py").read_text()
    (tmp_path / "data").mkdir()
    rows = [{"task_id": "relu", "source": "synth", "reference": ref, "instruction": "Do ReLU.", "split": "heldout",
             "difficulty": "easy", "license": "mit", "provenance": "test"}]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "data" / "heldout-00000.parquet"))
    datasets.Dataset.from_list([{**rows[0], "task_id": "other", "split": "train"}]).to_parquet(
        str(tmp_path / "data" / "train-00000.parquet"))
    items = load_suite(f"heldout:{tmp_path}")
    assert [i.task_id for i in items] == ["relu"]
    assert "Do ReLU." in items[0].messages[1]["content"]
    with pytest.raises(SuiteError, match="heldout"):
        load_suite(f"heldout:{FIX / 'kernelbench'}")


def test_tritonbench_t_prompt_formats() -> None:
    (item,) = load_suite(f"tritonbench-t:{FIX / 'tritonbench'}")
    assert item.task_id == "tritonbench_t-relu_sqrt" and item.task.difficulty == "2"
    text = item.messages[-1]["content"]
    assert "Functional Description: Applies ReLU" in text and "Wrapper Entry Information" in text
    assert item.harness is not None and "class ModelNew" in item.harness
    (ours,) = load_suite(f"tritonbench-t:{FIX / 'tritonbench'}", prompt_format="default")
    assert ours.harness is None and ours.messages[0]["role"] == "system"
    with pytest.raises(SuiteError, match="prompt format"):
        load_suite(f"tritonbench-t:{FIX / 'tritonbench'}", prompt_format="weird")


def test_tritonbench_value_oracle_through_verify() -> None:
    """Tensors are compared (not printed text): a right kernel passes, a wrong one mismatches."""
    from rewards import VerifyConfig, verify_batch

    (t,) = load_suite(f"tritonbench-t:{FIX / 'tritonbench'}")
    (g,) = load_suite(f"tritonbench-g:{FIX / 'tritonbench_g'}")
    assert "scale_kernel" in g.messages[-1]["content"]
    gold = (FIX / "tritonbench_g/data/TritonBench_G_v1/scale.py").read_text().split("#####")[0]
    wrong = TBT_CANDIDATE.replace("tl.sqrt(tl.maximum(x, 0.0))", "x")
    cfg = VerifyConfig(device="cpu", workers=2, seed=0, trials=2)
    res = verify_batch([
        (t.task.reference, t.candidate(TBT_CANDIDATE)),
        (t.task.reference, t.candidate(wrong)),
        (g.task.reference, g.candidate(f"```python\n{gold}\n```")),
        (t.task.reference, t.candidate("no code here")),
    ], cfg)
    assert [r.status.value for r in res] == ["ok", "mismatch", "ok", "no_code"], [r.summary() for r in res]
    assert res[0].kernel_launches > 0


def test_tritonbench_file_that_does_not_convert_is_excluded_with_its_reason(tmp_path: Path) -> None:
    """One bad file never sinks a suite: it is listed with a one-line reason, the rest still loads."""
    import shutil

    from eval.suites import load_suite_full

    shutil.copytree(FIX / "tritonbench_g", tmp_path / "g")
    folder = tmp_path / "g/data/TritonBench_G_v1"
    shutil.copy(folder / "scale.py", folder / "scale_copy.py")  # a file the index does not name
    (folder / "scale.py").write_text("def scale(x, s):\n    return x * s\n")
    loaded = load_suite_full(f"tritonbench-g:{tmp_path / 'g'}")
    assert loaded.items == []
    reasons = {e.task_id: e.reason for e in loaded.excluded}
    assert "no '#####' line" in reasons["tritonbench_g-scale"] and "\n" not in reasons["tritonbench_g-scale"]
    assert "not in the benchmark's index" in reasons["tritonbench_g-scale_copy"]
    assert loaded.summary() == "tritonbench-g: 2 files, 0 runnable, 2 excluded"


def test_suite_and_corpus_share_one_importer() -> None:
    """Same ids and references as the corpus builder sees, so decontamination drops name eval tasks."""
    from data_pipeline import importers

    (item,) = load_suite(f"tritonbench-t:{FIX / 'tritonbench'}")
    tasks, _, _ = importers.tritonbench_t(FIX / "tritonbench")
    assert [(t.task.task_id, t.task.reference) for t in tasks] == [(item.task_id, item.task.reference)]
