"""GPU-only engine checks (marker `gpu`; skipped without CUDA). Run them on a GPU box with
`pytest -m gpu tests/rewards/test_gpu.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewards import Engine, Status, VerifyConfig

HERE = Path(__file__).parent
pytestmark = pytest.mark.gpu

ILLEGAL_ACCESS = '''
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def wild_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = (tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)).to(tl.int64) + (1 << 40)  # far outside any allocation
    tl.store(out_ptr + offs, tl.load(x_ptr + offs))


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        wild_kernel[(triton.cdiv(x.numel(), 128),)](x, out, x.numel(), BLOCK=128)
        return out
'''


@pytest.fixture(scope="module")
def engine():
    with Engine(VerifyConfig(device="cuda", workers=4, trials=2, timeout_s=120)) as eng:
        yield eng


def test_honest_candidates_are_timed(engine):
    names = ["add", "relu", "softmax", "layernorm", "rowsum", "matmul"]
    pairs = [((HERE / "tasks" / f"{n}.py").read_text(), (HERE / "candidates" / f"{n}_ok.py").read_text()) for n in names]
    for n, r in zip(names, engine.verify_many(pairs), strict=True):
        assert r.status is Status.OK, (n, r.log)
        assert r.device == "cuda" and r.speedup is not None and r.speedup > 0
        assert r.ref_ms and r.cand_ms and r.timing_method == "cuda_event_median_l2flush"


def test_cuda_fault_ends_only_that_candidate(engine):
    ref = (HERE / "tasks" / "relu.py").read_text()
    good = (HERE / "candidates" / "relu_ok.py").read_text()
    bad, ok = engine.verify_many([(ref, ILLEGAL_ACCESS), (ref, good)])
    assert bad.status in (Status.RUNTIME_ERROR, Status.CRASHED) and not bad.correct
    assert ok.status is Status.OK


HIDDEN_TORCH = '''
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=m), mask=m)


class _Helper:
    def __init__(self):
        self.ops = {"act": torch.relu}

    def run(self, x):
        return self.ops["act"](x)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.h = _Helper()

    def forward(self, x):
        y = self.h.run(x)
        out = torch.empty_like(y)
        copy_kernel[(triton.cdiv(y.numel(), 256),)](y, out, y.numel(), BLOCK=256)
        return out
'''


def test_hidden_torch_compute_is_caught_on_cuda(engine):
    """The runtime op record (and the profiler's device-kernel list) sees the relu the AST cannot."""
    ref = (HERE / "tasks" / "relu.py").read_text()
    r = engine.verify(ref, HIDDEN_TORCH)
    assert r.status is Status.RULE_VIOLATION and not r.correct, r.summary()
    assert any(f.rule == "torch_compute_fallback" for f in r.rule_findings)


NAMED_LIKE_TORCH = '''
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def move_data(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=m), mask=m)


move_data.fn.__name__ = {name!r}


class ModelNew(nn.Module):
    def forward(self, a, b):
        y = torch.matmul(a, b)
        out = torch.empty_like(y)
        move_data[(triton.cdiv(y.numel(), 256),)](y, out, y.numel(), BLOCK=256)
        return out
'''


def test_a_kernel_named_like_torchs_does_not_vouch_for_it():
    """The device-kernel layer on its own (static rules off): a Triton kernel whose Python name is set to
    the name of the GEMM kernel torch runs must not make that GEMM the candidate's. Launch counts per
    compiled name decide, not a writable name."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    a, b = torch.randn(32, 48, device="cuda"), torch.randn(48, 40, device="cuda")
    torch.matmul(a, b)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        torch.matmul(a, b)
        torch.cuda.synchronize()
    gemm = [e.name for e in prof.events() if str(e.device_type).endswith("CUDA")]
    assert gemm, "the profiler saw no GEMM kernel"
    ref = (HERE / "tasks" / "matmul.py").read_text()
    with Engine(VerifyConfig(device="cuda", workers=1, trials=2, timeout_s=120, strict_rules=False)) as eng:
        r = eng.verify(ref, NAMED_LIKE_TORCH.format(name=gemm[0]))
    assert not r.correct, r.summary()
    messages = [f.message for f in r.rule_findings]
    assert any("not written by the candidate" in m for m in messages), messages


KB_SIZED_RELU = '''
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs():
    return [torch.randn(16384, 16384)]  # 1 GiB, KernelBench level-1 scale


def get_init_inputs():
    return []
'''


def test_a_kernelbench_sized_task_is_judged(engine):
    """Inputs drawn on the GPU, caps sized by the task (the candidate's 8 GiB default would not hold three
    copies of a trial), the answer handed over through shared memory: an honest kernel is `ok`."""
    cand = (HERE / "candidates" / "relu_ok.py").read_text().replace("BLOCK = 128", "BLOCK = 1024")
    r = engine.verify(KB_SIZED_RELU, cand)
    assert r.status is Status.OK, r.summary()
