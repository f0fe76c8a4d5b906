"""Suites and importers on small fixtures laid out like the real benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.suites import SuiteError, load_suite_full, parse_levels

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
    items = load_suite_full(f"kernelbench:{FIX / 'kernelbench'}").items
    assert [i.task_id for i in items] == ["kernelbench-l1-19_ReLU", "kernelbench-l2-1_Scale_Add"]
    assert items[1].task.difficulty == "level2" and items[1].task.source == "kernelbench"
    assert [i.task_id for i in load_suite_full(f"kernelbench:{FIX / 'kernelbench'}:2").items] == ["kernelbench-l2-1_Scale_Add"]
    assert "class Model" in items[0].messages[1]["content"]  # our shared prompt
    assert parse_levels("1-3") == [1, 2, 3] and parse_levels("1,3") == [1, 3]
    with pytest.raises(SuiteError, match="level3"):
        load_suite_full(f"kernelbench:{FIX / 'kernelbench'}:3")


def test_folder_and_bare_path() -> None:
    items = load_suite_full(f"folder:{FIX / 'kernelbench/KernelBench/level1'}").items
    assert [i.task_id for i in items] == ["19_ReLU"]
    assert [i.task_id for i in load_suite_full(str(FIX / "kernelbench/KernelBench/level2/1_Scale_Add.py")).items] == ["1_Scale_Add"]


@pytest.mark.parametrize("spec,match", [
    ("nosuch:thing", "unknown suite"),
    ("folder:/no/such/dir", "no such path"),
    ("kernelbench:", "missing path"),
    (f"folder:{FIX / 'tritonbench'}", "no \\*.py"),
])
def test_bad_specs_one_clear_error(spec: str, match: str) -> None:
    with pytest.raises(SuiteError, match=match):
        load_suite_full(spec)


def test_folder_with_non_task_file_fails(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("print('hi')\n")
    with pytest.raises(SuiteError, match="class Model"):
        load_suite_full(f"folder:{tmp_path}")


def test_heldout_parquet(tmp_path: Path) -> None:
    import datasets

    ref = (FIX / "kernelbench/KernelBench/level1/19_ReLU.py").read_text()
    (tmp_path / "data").mkdir()
    rows = [{"task_id": "relu", "source": "synth", "reference": ref, "instruction": "Do ReLU.", "split": "heldout",
             "difficulty": "easy", "license": "mit", "provenance": "test"}]
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "data" / "heldout-00000.parquet"))
    datasets.Dataset.from_list([{**rows[0], "task_id": "other", "split": "train"}]).to_parquet(
        str(tmp_path / "data" / "train-00000.parquet"))
    items = load_suite_full(f"heldout:{tmp_path}").items
    assert [i.task_id for i in items] == ["relu"]
    assert "Do ReLU." in items[0].messages[1]["content"]
    with pytest.raises(SuiteError, match="heldout"):
        load_suite_full(f"heldout:{FIX / 'kernelbench'}")


def test_tritonbench_t_prompt_formats() -> None:
    (item,) = load_suite_full(f"tritonbench-t:{FIX / 'tritonbench'}").items
    assert item.task_id == "tritonbench_t-relu_sqrt" and item.task.difficulty == "2"
    text = item.messages[-1]["content"]
    assert "Functional Description: Applies ReLU" in text and "Wrapper Entry Information" in text
    assert item.harness is not None and "class ModelNew" in item.harness
    (ours,) = load_suite_full(f"tritonbench-t:{FIX / 'tritonbench'}", prompt_format="default").items
    assert ours.harness is None and ours.messages[0]["role"] == "system"
    with pytest.raises(SuiteError, match="prompt format"):
        load_suite_full(f"tritonbench-t:{FIX / 'tritonbench'}", prompt_format="weird")


def test_tritonbench_value_oracle_through_verify() -> None:
    """Tensors are compared (not printed text): a right kernel passes, a wrong one mismatches."""
    from rewards import VerifyConfig, verify_batch

    (t,) = load_suite_full(f"tritonbench-t:{FIX / 'tritonbench'}").items
    (g,) = load_suite_full(f"tritonbench-g:{FIX / 'tritonbench_g'}").items
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

    (item,) = load_suite_full(f"tritonbench-t:{FIX / 'tritonbench'}").items
    tasks, _, _ = importers.tritonbench_t(FIX / "tritonbench")
    assert [(t.task.task_id, t.task.reference) for t in tasks] == [(item.task_id, item.task.reference)]


# --------------------------------------------------------------------------- KernelBench on CPU (reduced sizes)
KB_CPU = FIX / "kernelbench_cpu"  # tasks written for these tests in KernelBench's format, at its real sizes

_HEAD = "import torch\nimport torch.nn as nn\nimport triton\nimport triton.language as tl\n\n\n"

RELU = _HEAD + '''@triton.jit
def relu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(y_ptr + offs, tl.where(x > 0, x, 0.0), mask=m)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 65536),)](x, y, n, BLOCK=65536)
        return y
'''

SOFTMAX = _HEAD + '''@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    base = row * n_cols
    m_i = -float("inf")
    for start in range(0, n_cols, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + base + offs, mask=offs < n_cols, other=-float("inf"))
        m_i = tl.maximum(m_i, tl.max(x, axis=0))
    s = 0.0
    for start in range(0, n_cols, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + base + offs, mask=offs < n_cols, other=-float("inf"))
        s += tl.sum(tl.exp2((x - m_i) * 1.4426950408889634), axis=0)
    for start in range(0, n_cols, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + base + offs, mask=offs < n_cols, other=-float("inf"))
        tl.store(y_ptr + base + offs, tl.exp2((x - m_i) * 1.4426950408889634) / s, mask=offs < n_cols)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        softmax_kernel[(x.shape[0],)](x, y, x.shape[1], BLOCK=4096)
        return y
'''

SUM = _HEAD + '''@triton.jit
def sum_kernel(x_ptr, y_ptr, d1, d2, BLOCK: tl.constexpr):
    b = tl.program_id(0)
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    m = offs < d2
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for k in range(0, d1):
        acc += tl.load(x_ptr + b * d1 * d2 + k * d2 + offs, mask=m, other=0.0)
    tl.store(y_ptr + b * d2 + offs, acc, mask=m)


class ModelNew(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        b, d1, d2 = x.shape
        y = torch.empty((b, 1, d2), dtype=x.dtype, device=x.device)
        sum_kernel[(b, triton.cdiv(d2, 512))](x, y, d1, d2, BLOCK=512)
        return y
'''

MATMUL = _HEAD + '''@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        rk = k + tl.arange(0, BK)
        a = tl.load(a_ptr + rm[:, None] * K + rk[None, :], mask=(rm[:, None] < M) & (rk[None, :] < K), other=0.0)
        b = tl.load(b_ptr + rk[:, None] * N + rn[None, :], mask=(rk[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc += tl.dot(a, b)
    tl.store(c_ptr + rm[:, None] * N + rn[None, :], acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


class ModelNew(nn.Module):
    def forward(self, A, B):
        M, K = A.shape
        N = B.shape[1]
        C = torch.empty((M, N), dtype=A.dtype, device=A.device)
        matmul_kernel[(triton.cdiv(M, 128), triton.cdiv(N, 128))](A, B, C, M, N, K, BM=128, BN=128, BK=64)
        return C
'''


def test_kernelbench_on_cpu_runs_reduced_and_says_so() -> None:
    from eval.suites import load_suite_full

    items = {i.task_id.split("-", 2)[2]: i for i in load_suite_full(f"kernelbench:{KB_CPU}:1", device="cpu").items}
    sm = items["23_Softmax"]
    assert sm.meta["size"].startswith("reduced x") and "dim 393216->" in sm.meta["size"]
    assert sm.task.reference.startswith("# tritonforge: sizes reduced for the CPU interpreter")
    assert "dim2 4095->" in items["47_Sum_reduction_over_a_dimension"].meta["size"]  # odd sizes stay odd
    assert "reduce_dim" not in items["47_Sum_reduction_over_a_dimension"].meta["size"]  # small ints kept
    assert "N 4096->" in items["1_Square_matmul"].meta["size"]
    full = {i.task_id: i for i in load_suite_full(f"kernelbench:{KB_CPU}:1", device="cuda").items}
    assert all("size" not in i.meta and "dim = 393216" in i.task.reference for k, i in full.items() if "Softmax" in k)


def test_kernelbench_level1_honest_kernels_pass_and_subtly_wrong_ones_fail_on_cpu() -> None:
    from eval.suites import load_suite_full
    from rewards import VerifyConfig, verify_batch

    items = {i.task_id.split("-", 2)[2]: i for i in load_suite_full(f"kernelbench:{KB_CPU}:1", device="cpu").items}
    cases = [
        ("19_ReLU", RELU, "ok"),
        ("19_ReLU", RELU.replace("tl.where(x > 0, x, 0.0)", "tl.where(x > 0, x, 0.01 * x)"), "mismatch"),
        ("23_Softmax", SOFTMAX, "ok"),
        # counts the padded lanes of the last block in the denominator (other=0.0 instead of -inf)
        ("23_Softmax", SOFTMAX.replace('other=-float("inf"))\n        s +=', 'other=0.0)\n        s +='), "mismatch"),
        ("47_Sum_reduction_over_a_dimension", SUM, "ok"),
        ("47_Sum_reduction_over_a_dimension", SUM.replace("range(0, d1)", "range(0, d1 - 1)"), "mismatch"),
        ("1_Square_matmul", MATMUL, "ok"),
        ("1_Square_matmul", MATMUL.replace("range(0, K, BK)", "range(0, K - BK, BK)"), "mismatch"),
    ]
    cfg = VerifyConfig(device="cpu", workers=2, seed=5, trials=1, timeout_s=240)
    res = verify_batch([(items[t].task.reference, f"```python\n{code}\n```") for t, code, _ in cases], cfg)
    assert [r.status.value for r in res] == [w for _, _, w in cases], [r.summary() + r.log[-400:] for r in res]
