"""Importers read the real layouts (fixtures mimic them) and reject wrong shapes with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from data_pipeline import importers
from data_pipeline.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"


def test_kernelbench_levels() -> None:
    tasks = importers.kernelbench_tasks(FIXTURES / "kernelbench", [1, 2])
    ids = {t.task.task_id for t in tasks}
    assert ids == {"kernelbench-l1-19_ReLU", "kernelbench-l1-47_Sum_reduction_over_a_dimension",
                   "kernelbench-l2-12_Gemm_Multiply_LeakyReLU"}
    assert all(t.task.license == "MIT" and t.task.source == "kernelbench" for t in tasks)
    assert len(importers.kernelbench_tasks(FIXTURES / "kernelbench", [2])) == 1


def test_kernelbench_checkout_root_with_nested_folder(tmp_path) -> None:
    shutil.copytree(FIXTURES / "kernelbench", tmp_path / "KernelBench")
    assert len(importers.kernelbench_tasks(tmp_path, [1])) == 2


def test_tritonbench_t_value_oracle_replays_every_test_case() -> None:
    """The reference records every call of the benchmark function (not just the first test case)."""
    tasks, items, skipped = importers.tritonbench_t(FIXTURES / "tritonbench")
    assert len(items) == 2 and skipped == 0 and len(tasks) == 2
    ref = next(t.task.reference for t in tasks if t.task.task_id == "tritonbench_t-add_gelu")
    ns: dict = {}
    exec(compile(ref, "ref", "exec"), ns)
    outs = ns["Model"]()(*ns["get_inputs"]())
    assert len(outs) == 2 and all(o.shape == (64, 32) and str(o.device) == "cpu" for o in outs)
    assert not outs[0].equal(outs[1])  # alpha=2 vs the tanh approximation: both cases replayed
    assert "alpha=2" in ref and "approximate='tanh'" in ref
    assert "Functional Description: Adds other" in tasks[0].task.instruction


def test_tritonbench_t_gold_code_gets_the_candidate_harness(tmp_path) -> None:
    shutil.copytree(FIXTURES / "tritonbench", tmp_path / "tb")
    index = tmp_path / "tb/data/TritonBench_T_v1.jsonl"
    rows = json.loads(index.read_text())
    rows[1]["triton_code"] = "import torch\n\ndef sqrt(input, out=None):\n    return torch.sqrt(input)\n"
    index.write_text(json.dumps(rows))
    tasks, _, _ = importers.tritonbench_t(tmp_path / "tb")
    sol = next(t.solution for t in tasks if t.task.task_id == "tritonbench_t-sqrt")
    assert sol is not None and "class ModelNew" in sol and sol.startswith("import torch")
    ns: dict = {}
    exec(compile(sol, "sol", "exec"), ns)
    ref_ns: dict = {}
    exec(compile(next(t.task.reference for t in tasks if t.solution), "ref", "exec"), ref_ns)
    inputs = ref_ns["get_inputs"]()
    assert ns["ModelNew"]()(*inputs)[0].equal(ref_ns["Model"]()(*inputs)[0])


def test_tritonbench_g_is_eval_only() -> None:
    items = importers.tritonbench_g(FIXTURES / "tritonbench")
    assert [i.item_id for i in items] == ["tritonbench_g-kldiv_compute"]
    assert all("kldivergence_kernel" in t for t in items[0].texts)  # the file and the index's `output`


def test_tritonbench_index_without_task_folder(tmp_path) -> None:
    shutil.copy(FIXTURES / "tritonbench/data/TritonBench_G_v1.json", tmp_path)
    with pytest.raises(DataError, match="missing the per-task folder TritonBench_G_v1/"):
        importers.tritonbench_g(tmp_path)


def test_tritonbench_unconvertible_file_is_counted(tmp_path) -> None:
    shutil.copytree(FIXTURES / "tritonbench", tmp_path / "tb")
    (tmp_path / "tb/data/TritonBench_T_v1/sqrt.py").write_text("import torch\n\ndef sqrt(x):\n    return x\n")
    tasks, items, skipped = importers.tritonbench_t(tmp_path / "tb")
    assert (len(tasks), len(items), skipped) == (1, 2, 1)
    (bad,) = [e for e in importers.tritonbench(tmp_path / "tb", "t") if e.error]
    assert "no '#####' line" in bad.error and "\n" not in bad.error


def test_user_folder_with_solution() -> None:
    tasks = {t.task.task_id: t for t in importers.user_tasks(FIXTURES / "user_tasks")}
    assert set(tasks) == {"user-vec_scale", "user-row_tanh"}
    assert tasks["user-vec_scale"].solution and tasks["user-row_tanh"].solution is None
    (one,) = importers.user_tasks(FIXTURES / "user_tasks/vec_scale.py")  # a single file is a folder of one
    assert one.task.task_id == "user-vec_scale" and one.solution


def test_kernelbench_explicit_levels_must_exist() -> None:
    assert len(importers.kernelbench_tasks(FIXTURES / "kernelbench", [1, 3])) == 2  # default: skip missing
    with pytest.raises(DataError, match="no level3/ folder"):
        importers.kernelbench_tasks(FIXTURES / "kernelbench", [1, 3], explicit=True)


@pytest.mark.parametrize("call, match", [
    (lambda: importers.kernelbench_tasks(FIXTURES / "missing"), "no such directory"),
    (lambda: importers.kernelbench_tasks(FIXTURES / "user_tasks"), "not a KernelBench checkout"),
    (lambda: importers.tritonbench_t(FIXTURES / "kernelbench"), "not a TritonBench checkout"),
    (lambda: importers.tritonbench_g(FIXTURES / "user_tasks"), "not a TritonBench checkout"),
    (lambda: importers.user_tasks(FIXTURES / "bad_task"), "malformed task file"),
])
def test_bad_inputs_are_one_clear_error(call, match) -> None:
    with pytest.raises(DataError, match=match) as e:
        call()
    assert "\n" not in str(e.value)


def test_malformed_index(tmp_path) -> None:
    (tmp_path / "TritonBench_T_v1").mkdir()
    (tmp_path / "TritonBench_T_v1.jsonl").write_text('{"name": "x", "file": "x.py"}\n{broken\n')
    with pytest.raises(DataError, match="line 2 is not JSON"):
        importers.tritonbench_t(tmp_path)
    (tmp_path / "TritonBench_T_v1.jsonl").write_text('[{"name": "x", "file": "x.py"}]')
    (entry,) = importers.tritonbench(tmp_path, "t")  # an index entry without its file: listed, not fatal
    assert entry.imported is None and "named by the index but missing" in entry.error


HINGE_LIKE = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, predictions, targets):
        return torch.mean(torch.clamp(1 - predictions * targets, min=0))


batch_size = 32768
input_shape = (32768,)
dim = 1  # a reduction axis, not a size
kernel_size = 3
M = 1024 * 2


def get_inputs():
    return [torch.rand(batch_size, *input_shape), torch.randint(0, 2, (batch_size, 1)).float() * 2 - 1]


def get_init_inputs():
    return []
'''


def test_kernelbench_size_rule_reduces_to_budget_and_keeps_relations() -> None:
    (sc,) = importers.scale_kernelbench([HINGE_LIKE], budget_elems=1 << 16)
    assert sc.fits and sc.elems_before == 32768 * 32768 + 32768 + 1 and sc.elems_after <= 1 << 16  # + the loss
    changed = {n: (a, b) for n, a, b in sc.changes}
    assert changed["batch_size"][1] == changed["input_shape"][1]  # equal sizes move together
    assert "dim" not in changed and "kernel_size" not in changed  # small integers are never sizes
    assert sc.factor == sc.elems_before / sc.elems_after
    assert sc.source.startswith("# tritonforge: sizes reduced for the CPU interpreter (batch_size 32768->")
    assert "dim = 1  # a reduction axis, not a size" in sc.source  # comments and layout kept
    assert f"input_shape = ({changed['input_shape'][1]},)" in sc.source
    ns: dict = {}
    exec(compile(sc.source, "scaled", "exec"), ns)  # our own fixture: still a valid task at the new size
    assert ns["Model"]()(*ns["get_inputs"]()).shape == ()
    assert sc.describe().startswith("reduced x")
    (small,) = importers.scale_kernelbench([HINGE_LIKE.replace("32768", "64")], budget_elems=1 << 16)
    assert small.changes == () and small.source == HINGE_LIKE.replace("32768", "64") and small.describe() == "full size"


def test_size_constants_reads_expressions_and_tuples() -> None:
    assert importers.size_constants(HINGE_LIKE) == {"batch_size": (32768,), "input_shape": (32768,), "dim": (1,),
                                                    "kernel_size": (3,), "M": (2048,)}


def test_device_portable_rewrites_every_cuda_spelling() -> None:
    """TritonBench code asserts `t.is_cuda` and builds tensors with 'cuda', 'cuda:0', `.cuda()`: on the CPU
    interpreter these must mean "the device we run on", and on a GPU exactly what they said."""
    from data_pipeline.importers import device_portable

    code = (
        "import torch\n"
        "def f(x, out):\n"
        "    assert x.is_cuda and out.is_cuda\n"
        "    if not all([t.is_cuda for t in (x, out)]):\n"
        "        raise ValueError('inputs must be CUDA tensors')\n"
        "    y = torch.ones(2, device='cuda:0') + torch.ones(2, device='cuda')\n"
        "    return x.cuda() + y.sum()\n"
    )
    ns: dict = {}
    exec(compile(device_portable(code), "<portable>", "exec"), ns)  # noqa: S102 - our own test code
    assert ns["_TB_DEVICE"] == ("cuda" if torch.cuda.is_available() else "cpu")
    x = torch.zeros(3, device=ns["_TB_DEVICE"])
    assert torch.equal(ns["f"](x, x), torch.full((3,), 4.0, device=x.device))
    src = device_portable(code)
    assert "is_cuda" not in src and "'cuda" not in src and ".cuda()" not in src
