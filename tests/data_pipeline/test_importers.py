"""Importers read the real layouts (fixtures mimic them) and reject wrong shapes with one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


def test_tritonbench_t_converts_to_kernelbench_style() -> None:
    tasks, items, skipped = importers.tritonbench_t(FIXTURES / "tritonbench")
    assert len(items) == 2 and skipped == 0 and len(tasks) == 2
    ref = next(t.task.reference for t in tasks if t.task.task_id == "tritonbench_t-add_gelu")
    ns: dict = {}
    exec(compile(ref, "ref", "exec"), ns)
    out = ns["Model"]()(*ns["get_inputs"]())
    assert out.shape == (64, 32) and str(out.device) == "cpu"
    assert "alpha=2" in ref


def test_tritonbench_g_is_eval_only() -> None:
    items = importers.tritonbench_g(FIXTURES / "tritonbench")
    assert [i.item_id for i in items] == ["tritonbench_g-kldiv_compute"]
    assert "kldivergence_kernel" in items[0].texts[0]


def test_user_folder_with_solution() -> None:
    tasks = {t.task.task_id: t for t in importers.user_tasks(FIXTURES / "user_tasks")}
    assert set(tasks) == {"user-vec_scale", "user-row_tanh"}
    assert tasks["user-vec_scale"].solution and tasks["user-row_tanh"].solution is None


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
    with pytest.raises(DataError, match="missing"):
        importers.tritonbench_t(tmp_path)
