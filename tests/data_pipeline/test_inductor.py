"""Inductor extraction: the pure text transformation on a captured output (CPU), and the CPU skip."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from data_pipeline.inductor import Unsupported, should_run, to_model_new

FIX = Path(__file__).parent / "fixtures" / "inductor_relu_add.py.txt"
REF = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        return torch.relu(x + y)


def get_inputs():
    return [torch.randn(64, 64), torch.randn(64, 64)]
"""


def test_skipped_without_cuda() -> None:
    assert should_run("auto", "cpu") == (False, "skipped: no CUDA")
    assert should_run("off", "cuda")[0] is False
    assert should_run("auto", "cuda")[0] is True


def test_output_code_becomes_standalone_model_new() -> None:
    src = to_model_new(FIX.read_text(), REF, n_params=0)
    tree = ast.parse(src)
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imports == {"torch", "torch.nn", "triton", "triton.language"}
    assert not any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))
    for banned in ("triton_helpers", "triton_heuristics", "async_compile", "assert_size_stride", "get_raw_stream"):
        assert banned not in src
    assert "tl.maximum(" in src and "@triton.jit" in src
    assert "def forward(self, arg0_1, arg1_1):" in src
    assert "triton_poi_fused_add_relu_0[(triton.cdiv(4096, 64),)](arg0_1, arg1_1, buf0, 4096, XBLOCK=64)" in src
    assert "torch.empty_strided((64, 64), (64, 1), dtype=torch.float32, device='cuda')" in src
    assert "return buf0" in src


def test_extern_kernels_are_refused() -> None:
    code = FIX.read_text().replace("stream0 = get_raw_stream(0)", "extern_kernels.mm(arg0_1, arg1_1, out=buf0)")
    with pytest.raises(Unsupported, match="extern_kernels"):
        to_model_new(code, REF, n_params=0)


def test_extraction_runs_on_the_active_executor() -> None:
    """One GPU task per reference on whatever executor the stage activated (`--executor ray`: the cluster)."""
    from data_pipeline import inductor
    from data_pipeline.config import DataConfig
    from rewards.executors import LocalExecutor, using

    calls = []

    class Recording(LocalExecutor):
        name = "recording"

        def map_tasks(self, fn, items, use_gpu=False):
            calls.append((fn, len(items), use_gpu))
            return [({"sample_id": "inductor-x"}, None), (None, "Unsupported"), (None, "Unsupported")][: len(items)]

    tasks = [{"task_id": f"t{i}", "reference": "", "source": "synth"} for i in range(5)]
    with using(Recording()):
        out, notes = inductor.candidates(tasks, DataConfig(inductor_max_tasks=3), log=lambda _: None)
    assert calls == [(inductor.extract, 3, True)]
    assert [r["sample_id"] for r in out] == ["inductor-x"] and "skipped {'Unsupported': 2}" in notes[0]
