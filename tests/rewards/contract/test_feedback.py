"""The shared feedback builder: one message per status, and nothing that lets a model fit the judge.

The logs below are real verdict logs captured from the sandbox (paths shortened), so the sanitiser is
tested on what the judge actually writes.
"""

from __future__ import annotations

import re

import pytest

from rewards import Finding, Status, VerifyConfig, VerifyResult
from rewards.contract.feedback import WITHHELD, exception_report, feedback_message, redact_values

COMPILE_LOG = '''Traceback (most recent call last):
  File "/repo/rewards/harness/child.py", line 594, in run_candidate
    h.run()
  File "/repo/rewards/harness/child.py", line 470, in _forward
    return model(*dev_inp)
           ^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1789, in _call_impl
    return forward_call(*args, **kwargs)
  File "candidate.py", line 24, in forward
    add_kernel[(triton.cdiv(n, 256),)](x, y, out, n, BLOCK=256)
  File "/repo/rewards/harness/target_compile.py", line 168, in _compile
    kernel = compile(src, target=self.gpu_target, options=options.__dict__)
triton.compiler.errors.CompilationError: at 7:33:
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    tl.store(out_ptr + offs, x + undefined_name, mask=mask)
                                 ^
NameError('undefined_name is not defined')
/venv/lib/python3.11/site-packages/triton/knobs.py:504: UserWarning: TRITON_DEFAULT_FP_FUSION is unset
  warn_once(FP_FUSION_DEFAULT_WARNING)
'''

# The candidate printed its input values, then raised an exception whose message is an input tensor.
RUNTIME_LOG = '''INPUTS tensor([ 0.1940,  2.1614, -0.1721,  0.8491, -1.9244,  0.6530])
Traceback (most recent call last):
  File "/repo/rewards/harness/child.py", line 408, in trial
    out = self._forward(model, dev_inp)
  File "candidate.py", line 22, in forward
    raise ValueError(str(x))
ValueError: tensor([[ 0.1940,  2.1614, -0.1721],
        [ 0.8491, -1.9244,  0.6530]])
'''

MISMATCH_LOG = ("trial 0 output[0]: 1024 of 1024 elements outside atol=0.0001 rtol=0.0001 (max abs err 8.308e+00); "
                "1024 elements also outside 16 x the reference's own rounding error of the float64 answer (max 8.29e+04 x)")
INPUT_VALUES = ("0.1940", "2.1614", "-0.1721", "0.8491", "-1.9244", "0.6530")


def _no_values(msg: str) -> None:
    assert not any(v in msg for v in INPUT_VALUES), msg
    assert "tensor(" not in msg and "INPUTS" not in msg, msg


def test_compile_error_keeps_compiler_message_and_candidate_frame_only() -> None:
    msg = feedback_message(VerifyResult(Status.COMPILE_ERROR, log=COMPILE_LOG, error_type="CompilationError"))
    assert msg.startswith("Verification failed: status `compile_error`.")
    assert "failed to compile (CompilationError)" in msg
    assert "undefined_name is not defined" in msg and 'File "candidate.py", line 24' in msg
    assert "x + undefined_name" in msg  # the compiler's source excerpt is the candidate's own code
    # the judge's frames, paths and the toolchain's warnings are not the model's business
    assert "rewards/" not in msg and "site-packages" not in msg and "Warning" not in msg
    assert "```python block" in msg  # what to do next


def test_runtime_error_withholds_inputs_and_prints() -> None:
    msg = feedback_message(VerifyResult(Status.RUNTIME_ERROR, log=RUNTIME_LOG, error_type="ValueError"))
    assert "raised an error while running (ValueError)" in msg and 'File "candidate.py", line 22' in msg
    assert "ValueError:" in msg and WITHHELD in msg
    _no_values(msg)


def test_crashed_and_sandbox_violation_statuses() -> None:
    msg = feedback_message(VerifyResult(Status.CRASHED, log="candidate supervisor exited without a report\n"))
    assert "status `crashed`" in msg and "crashed the process" in msg
    msg = feedback_message(VerifyResult(Status.SANDBOX_VIOLATION, log=RUNTIME_LOG))
    assert "status `sandbox_violation`" in msg and "sandbox forbids" in msg
    _no_values(msg)


def test_mismatch_gives_numbers_without_judge_internals() -> None:
    msg = feedback_message(VerifyResult(Status.MISMATCH, max_abs_err=8.307822, log=MISMATCH_LOG))
    assert "status `mismatch`" in msg and "do not match" in msg
    assert "1024 of 1024 elements outside" in msg and "max abs error 8.31" in msg
    assert "trial 0" not in msg and "rounding error" not in msg and "float64" not in msg


def test_mismatch_never_names_the_expected_value() -> None:
    """A scalar output's expected value would let the next answer return that constant."""
    log = "trial 1 output[0]: 3.25 != expected 17.5 (atol=0.0001 rtol=0.0001)"
    msg = feedback_message(VerifyResult(Status.MISMATCH, max_abs_err=14.25, log=log))
    assert "17.5" not in msg and "differs from the reference" in msg
    shape = feedback_message(VerifyResult(Status.MISMATCH, log="trial 0 output[0]: shape (10,) != expected (1024,)"))
    assert "shape (10,) != expected (1024,)" in shape  # the shape is the task's contract, not a trial value


def test_rule_violation_lists_fatal_findings_only() -> None:
    fatal = Finding("torch_compute_fallback", "`torch.relu` on the forward path", line=7)
    note = Finding("style", "not fatal", fatal=False)
    msg = feedback_message(VerifyResult(Status.RULE_VIOLATION, rule_findings=(fatal, note)))
    assert "- torch_compute_fallback (line 7): `torch.relu` on the forward path" in msg
    assert "not fatal" not in msg
    # a rule enforced at run time (the guard raising in forward) has no static finding: its exception says why
    runtime = feedback_message(VerifyResult(Status.RULE_VIOLATION, log=RUNTIME_LOG.replace(
        "ValueError: tensor", "RuntimeError: tritonforge sandbox: Tensor.__repr__ is not allowed\nValueError: tensor")))
    assert "Tensor.__repr__ is not allowed" in runtime
    _no_values(runtime)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.NO_CODE, "no ```python code block"),
        (Status.SYNTAX_ERROR, "does not parse"),
        (Status.TIMEOUT, "time limit"),
        (Status.INFRA_ERROR, "not your code's fault"),
    ],
)
def test_every_other_status_has_its_message(status: Status, words: str) -> None:
    msg = feedback_message(VerifyResult(status, log="killed after 30s wall clock\n/judge/internal/path.py"))
    assert f"status `{status.value}`" in msg and words in msg
    if status is Status.INFRA_ERROR:
        assert "/judge/internal" not in msg


def test_passing_kernel_reports_speedup_only_when_plausible() -> None:
    ok = VerifyResult(Status.OK, correct=True, speedup=1.734, timing_method="cuda_event")
    msg = feedback_message(ok)
    assert msg.startswith("Verification passed") and "1.73x" in msg and "faster" in msg
    assert "x the speed" not in feedback_message(ok.with_(implausible_speedup=True))
    assert "x the speed" not in feedback_message(VerifyResult(Status.OK, correct=True))


def test_redaction_rules() -> None:
    assert redact_values("sizes 1 2 3 4 5") == f"sizes {WITHHELD}"
    assert redact_values("expected 3 dims, got 2") == "expected 3 dims, got 2"  # a few numbers are the message
    assert WITHHELD in redact_values("array([[1., 2.],\n [3., 4.]])") and "3." not in redact_values(
        "array([[1., 2.],\n [3., 4.]])")
    assert len(redact_values("x" * 5000)) < 400
    assert exception_report("") == ""


def test_every_status_is_deterministic_and_covered() -> None:
    """Each status builds a message (no status falls through to a crash), the same verdict the same text."""
    for s in Status:
        res = VerifyResult(s, correct=s is Status.OK, log=RUNTIME_LOG, max_abs_err=0.5)
        assert feedback_message(res) == feedback_message(res)
        _no_values(feedback_message(res))


def test_real_sandbox_feedback_leaks_no_trial_input(triton_examples: dict[str, str]) -> None:
    """End to end: a candidate that prints its inputs and raises with their values; the judge's real log goes
    through the builder, and none of the printed or raised values reaches the message."""
    from rewards import verify_batch

    leak = triton_examples["vecadd_sol"].replace(
        "out = torch.empty_like(x)",
        "print('LEAKED', x[:6].tolist(), y[:6].tolist())\n"
        "        raise ValueError(' '.join(str(v) for v in x[:8].tolist()))",
    )
    mismatch = triton_examples["vecadd_sol"].replace("x + y", "x - y")
    res = verify_batch([(triton_examples["vecadd_ref"], leak), (triton_examples["vecadd_ref"], mismatch)],
                       VerifyConfig(device="cpu", trials=1, timeout_s=60, workers=2))
    assert not res[0].correct and res[1].status is Status.MISMATCH
    for r in res:
        msg = feedback_message(r)
        assert "LEAKED" not in msg and "trial 0" not in msg
        assert not re.search(r"(-?\d+\.\d{3,}[\s,]+){3}", msg), msg  # no run of input-like floats
