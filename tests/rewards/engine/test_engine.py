"""The engine on honest and wrong Triton candidates (CPU, Triton interpreter)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewards import Engine, Status, VerifyConfig

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
TASKS = HERE / "tasks"
CANDS = HERE / "candidates"
HONEST = ["add", "relu", "softmax", "layernorm", "rowsum", "matmul"]


@pytest.fixture(scope="module")
def engine():
    with Engine(VerifyConfig(device="cpu", workers=2, trials=2, timeout_s=60)) as eng:
        yield eng


def _pair(task: str, cand: str) -> tuple[str, str]:
    return (TASKS / f"{task}.py").read_text(), (CANDS / f"{cand}.py").read_text()


def test_honest_candidates_verify_correct(engine):
    results = engine.verify_many([_pair(t, f"{t}_ok") for t in HONEST])
    for task, r in zip(HONEST, results, strict=True):
        assert r.status is Status.OK, (task, r.summary(), r.log)
        assert r.correct and r.trials == 2 and r.kernel_launches >= 2
        assert r.max_abs_err is not None and r.max_abs_err < 1e-3
        assert r.speedup is None and r.device == "cpu"


@pytest.mark.parametrize("task", ["softmax", "matmul"])
def test_wrong_candidates_are_mismatch(engine, task):
    r = engine.verify(*_pair(task, f"{task}_wrong"))
    assert r.status is Status.MISMATCH and not r.correct
    assert r.max_abs_err is not None and r.max_abs_err > 1e-3
    assert "outside" in r.log or "shape" in r.log


def test_raw_completion_with_prose_is_accepted(engine):
    ref, code = _pair("relu", "relu_ok")
    completion = f"Let me think about it.\n\n```python\n{code}\n```\nDone."
    assert engine.verify(ref, completion).status is Status.OK


def test_no_code_and_syntax_error_never_execute(engine):
    ref = (TASKS / "relu.py").read_text()
    assert engine.verify(ref, "I cannot do this.").status is Status.NO_CODE
    r = engine.verify(ref, "```python\ndef broken(:\n```")
    assert r.status is Status.SYNTAX_ERROR and "SyntaxError" in r.log


def test_fresh_inputs_per_call_but_seedable():
    ref, code = _pair("add", "add_ok")
    with Engine(VerifyConfig(device="cpu", workers=1, trials=1, seed=123)) as eng:
        a = eng.verify(ref, code)
        b = eng.verify(ref, code)
    assert a.status is b.status is Status.OK


def test_results_keep_input_order_across_groups(engine):
    pairs = [_pair("relu", "relu_ok"), _pair("softmax", "softmax_wrong"), _pair("add", "add_ok"), _pair("matmul", "matmul_wrong")]
    statuses = [r.status for r in engine.verify_many(pairs)]
    assert statuses == [Status.OK, Status.MISMATCH, Status.OK, Status.MISMATCH]


def test_engine_survives_zygote_death(engine):
    ref, code = _pair("relu", "relu_ok")
    assert engine.verify(ref, code).status is Status.OK
    engine._proc.kill()
    engine._proc.wait()
    # the dead zygote is noticed and replaced; no exception reaches the caller
    r = engine.verify(ref, code)
    assert r.status in (Status.OK, Status.INFRA_ERROR)
    assert engine.verify(ref, code).status is Status.OK


def test_zygote_outlives_the_thread_that_started_it():
    """The zygote dies with its parent (PR_SET_PDEATHSIG), and Linux counts the forking *thread* as the parent:
    an engine first used from a short-lived thread (a Ray actor call) must keep its zygote after that thread."""
    import threading
    import time

    ref, code = _pair("relu", "relu_ok")
    with Engine(VerifyConfig(device="cpu", workers=1, trials=1, timeout_s=60)) as eng:
        got = []
        t = threading.Thread(target=lambda: got.append(eng.verify(ref, code).status))
        t.start()
        t.join()
        assert got == [Status.OK]
        pid = eng._proc.pid
        time.sleep(0.5)  # the signal is immediate; give the kill a moment to land
        assert eng._proc.poll() is None, "the zygote died with the thread that started it"
        assert eng.verify(ref, code).status is Status.OK and eng._proc.pid == pid  # same zygote, no restart


def test_a_sandbox_dir_that_does_not_exist_yet_is_created(tmp_path, monkeypatch):
    where = tmp_path / "not" / "there"
    monkeypatch.setenv("TRITONFORGE_SANDBOX_DIR", str(where))
    ref, code = _pair("relu", "relu_ok")
    with Engine(VerifyConfig(device="cpu", workers=1, trials=1, timeout_s=60)) as eng:
        assert eng.verify(ref, code).status is Status.OK
    assert where.is_dir()


def test_broken_reference_is_infra_error_not_candidate_fault(engine):
    bad_ref = (TASKS / "relu.py").read_text().replace("def get_inputs():", "def get_inputs():\n    raise RuntimeError('boom')")
    r = engine.verify(bad_ref, (CANDS / "relu_ok.py").read_text())
    assert r.status is Status.INFRA_ERROR and "boom" in r.log


def test_lazy_stdlib_imports_work_inside_the_sandbox():
    """Candidates import modules the zygote never loaded (Triton's GPU compiler does too). As user nobody
    that must still work when the interpreter lives under a root-only home (pyenv/conda under /root)."""
    ref, code = _pair("relu", "relu_ok")
    code = code.replace("import torch\n", "import torch\nimport colorsys, fractions, statistics  # noqa\n", 1)
    with Engine(VerifyConfig(device="cpu", workers=1, trials=1, strict_rules=False)) as eng:
        r = eng.verify(ref, code)
    assert r.status is Status.OK, r.log


def test_on_result_sees_every_final_result_once_as_it_completes(engine) -> None:  # noqa: ANN001
    """Long batches journal as they go (eval selfcheck resumes from it): every index is reported once, with
    the same final verdict verify_many returns, early static rejections included."""
    ref = (TASKS / "relu.py").read_text()
    good = (CANDS / "relu_ok.py").read_text()
    pairs = [(ref, good), (ref, "no code at all"), (ref, good)]
    seen: list[tuple[int, str]] = []
    out = engine.verify_many(pairs, on_result=lambda i, r: seen.append((i, r.status.value)))
    assert sorted(i for i, _ in seen) == [0, 1, 2]
    assert dict(seen) == {i: r.status.value for i, r in enumerate(out)}
    assert out[0].correct and out[1].status.value == "no_code"


SLOW_REFERENCE = '''
import time
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs():
    time.sleep(30)  # far past the reference's 2 s limit
    return [torch.randn(8)]


def get_init_inputs():
    return []
'''


def test_a_reference_killed_for_time_says_so() -> None:
    """The verdict names the time limit only when the engine itself killed the reference for it (a SIGKILL
    from elsewhere, the kernel's OOM killer say, reads as what it is)."""
    with Engine(VerifyConfig(device="cpu", workers=1, trials=1, timeout_s=1.0, reference_timeout_s=2.0)) as eng:
        r = eng.verify(SLOW_REFERENCE, (CANDS / "relu_ok.py").read_text())
    assert r.status is Status.INFRA_ERROR and not r.correct, r.summary()
    assert "reference process ran past its time limit (2 s, reference_timeout_s) and was killed" in r.log, r.log


SLOWER_THAN_THE_CANDIDATE_LIMIT = SLOW_REFERENCE.replace("time.sleep(30)  # far past the reference's 2 s limit",
                                                         "time.sleep(4)  # twice the candidate's limit and more")


def test_the_candidate_limit_counts_the_candidate_not_the_reference() -> None:
    """A reference slower than twice the candidate's limit (a KernelBench reference on CPU with its float64
    shadow) is not charged to the candidate: its clock starts when it starts, the reference has its own."""
    with Engine(VerifyConfig(device="cpu", workers=1, trials=1, timeout_s=1.5, reference_timeout_s=60.0)) as eng:
        r = eng.verify(SLOWER_THAN_THE_CANDIDATE_LIMIT, (CANDS / "relu_ok.py").read_text())
    assert r.status is Status.OK, (r.summary(), r.log)
    assert r.wall_s is not None and r.wall_s > 4  # from the reference's start: the reference's seconds included


BIG_RELU = '''
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs():
    return [torch.randn(512, 4096)]


def get_init_inputs():
    return []
'''

WIDE_RELU = '''
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=m), 0.0), mask=m)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        relu_kernel[(triton.cdiv(x.numel(), 65536),)](x, out, x.numel(), BLOCK=65536)
        return out
'''


def test_caps_are_sized_by_the_task() -> None:
    """A task whose trials outweigh the candidate cap (8 MiB per tensor; the reference holds inputs, outputs
    and inputs after the call of every trial, the judge a candidate's answer beside them) is judged: the
    reference's cap is the task-sized ceiling, not the candidate's, and the honest answer is `ok`, not a
    mismatch blamed on the candidate for the judge's own want of memory."""
    with Engine(VerifyConfig(device="cpu", workers=1, trials=2, timeout_s=120, memory_mb=256, task_memory_mb=4096)) as eng:
        r = eng.verify(BIG_RELU, WIDE_RELU)
    assert r.status is Status.OK, r.summary()


def test_task_sized_caps_rule() -> None:
    from rewards.sandbox.candidate_results import judged_result
    from rewards.sandbox.memory import available_memory_mb, candidate_memory_mb, task_memory_ceiling

    assert candidate_memory_mb(256, 4096, 0) == 256  # a small task keeps the configured cap
    assert candidate_memory_mb(256, 4096, 100) == 656
    assert candidate_memory_mb(256, 4096, 10_000) == 4096  # never past the ceiling
    assert task_memory_ceiling(VerifyConfig(memory_mb=8192, task_memory_mb=16384)) == 16384
    assert task_memory_ceiling(VerifyConfig(memory_mb=8192, task_memory_mb=None)) >= 8192
    avail = available_memory_mb()
    assert avail is None or avail > 0
    # the judge's own want of memory is nobody's mismatch, unless the answer outweighs the reference's
    from rewards.oracle.reference_run import out_of_memory_verdict

    assert out_of_memory_verdict("MemoryError", 100 << 20, 100 << 20).get("judge_error")
    heavy = out_of_memory_verdict("MemoryError", 200 << 20, 100 << 20)
    assert heavy["ok"] is False and not heavy.get("judge_error") and "weigh 200 MiB" in heavy["reason"]
    r = judged_result({"log": "", "kernel_launches": 2}, {"ok": False, "judge_error": "the judge ran out of memory"},
                      VerifyConfig(device="cpu"), trials=2, ref_ms=None, ref_compiled_ms=None, nondeterministic=None)
    assert r["status"] == "infra_error" and "out of memory" in r["log"]


def test_the_sandbox_receives_a_typed_config() -> None:
    """The zygote rebuilds the engine's own VerifyConfig from the wire (no default restated there), and a
    field it does not know, or one missing, is an error rather than a silent default."""
    cfg = VerifyConfig(device="auto", timeout_s=7.0, timing_reps=11).for_sandbox("cpu")
    back = VerifyConfig.from_wire(cfg.to_wire())
    assert back == cfg and back.device == "cpu" and back.reference_timeout_s == 14.0 and back.cpu_time_s == 12
    wire = json.loads(cfg.to_wire())
    with pytest.raises(ValueError, match="unknown"):
        VerifyConfig.from_wire(json.dumps({**wire, "timing_rep": 3}))
    del wire["timing_reps"]
    with pytest.raises(ValueError, match="missing"):
        VerifyConfig.from_wire(json.dumps(wire))
