"""The reference side of a task group, run in its reference process (`rewards.oracle.reference_proc`).

Trusted task code, forked before any candidate code exists anywhere in its ancestry: draws the trial
inputs from secret seeds (a CSPRNG, unrelated to the init seed), runs `Model` (twice on the first trial,
with memory scribbled in between, to catch references that are not reproducible), keeps the outputs in
its own memory, and later judges each candidate's outputs against them. Reference outputs never leave
this process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from typing import Any

import torch

from rewards.harness.call_values import (
    clone_to_cpu,
    fresh_inputs,
    grad_leaves,
    input_grads,
    input_tensors,
    plain_outputs,
    sync_device,
    to_device,
)
from rewards.harness.module_loading import load_module

REF_MODULE = "tf_reference"
INPUTS_FILE = "inputs.pt"
MAX_OUTPUT_BYTES = 1 << 34


def _mutates(before: list[Any], after: list[Any]) -> bool:
    """Whether the reference wrote into any of its tensor inputs (an in-place task compares those)."""
    for b, a in zip(input_tensors(before), input_tensors(after), strict=False):
        if isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor) and (
                b.shape != a.shape or not torch.equal(b.to(a.dtype), a)):
            return True
    return False


def _nbytes(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(o) for o in obj)
    if isinstance(obj, dict):
        return sum(_nbytes(o) for o in obj.values())
    return 64


def _draw(mod: Any, device: str, seed: int) -> list[Any]:
    """One trial's inputs from `seed`, drawn on the task's device: a KernelBench-sized draw takes seconds
    per gigabyte on one CPU thread and milliseconds on a GPU. A `get_inputs` that cannot run there (a CPU
    generator of its own, say) draws on the CPU as written."""
    if device != "cpu":
        try:
            torch.manual_seed(seed)
            with torch.device(device):
                return list(mod.get_inputs())
        except Exception:
            pass
    torch.manual_seed(seed)
    return list(mod.get_inputs())


def out_of_memory_verdict(error: str, answer_bytes: int, honest_bytes: int) -> dict[str, Any]:
    """The judge ran out of memory comparing an answer. An answer that weighs what the reference's does (its
    outputs and inputs after the call, plus pickling slack) says nothing about the candidate: the judge's
    error (`infra_error`, left out of every denominator, retried by eval). A heavier one (float64 for
    float32, extra outputs) made the trouble itself: its mismatch, so no answer can turn a wrong verdict into
    an excluded one by weighing enough."""
    if answer_bytes > honest_bytes + honest_bytes // 10 + (1 << 20):
        return {"ok": False, "max_abs_err": None,
                "reason": f"candidate outputs weigh {answer_bytes >> 20} MiB, the reference's {honest_bytes >> 20} MiB, "
                          f"and the judge ran out of memory comparing them ({error})"}
    return {"ok": False, "max_abs_err": None, "judge_error": f"the judge ran out of memory comparing the outputs "
            f"({error}); raise VerifyConfig.task_memory_mb or run fewer workers"}


def _out_of_memory(e: BaseException) -> bool:
    msg = str(e)
    return isinstance(e, MemoryError) or (isinstance(e, RuntimeError) and (
        "can't allocate memory" in msg or "out of memory" in msg.lower() or "Cannot allocate memory" in msg))


def _scribble(device: str) -> None:
    """Fill freed memory with NaN so a reference that reads uninitialised memory shows it on rerun."""
    try:
        junk = torch.empty(16 * 1024 * 1024, dtype=torch.float32, device=device)
        junk.fill_(float("nan"))
        del junk
    except Exception:
        pass


class ReferenceRun:
    """Holds the reference outputs for one task group and judges candidates against them."""

    def __init__(self, ref_path: str, group_dir: str, seed: int, trials: int, device: str) -> None:
        torch.set_num_threads(1)
        mod = load_module(REF_MODULE, ref_path)
        get_init = getattr(mod, "get_init_inputs", lambda: [])
        torch.manual_seed(seed)
        init_inputs = list(get_init())
        torch.manual_seed(seed)
        model = mod.Model(*init_inputs).to(device).eval()
        self.device = device
        self.model = model
        self.inputs: list[list[Any]] = []
        self.outputs: list[list[Any]] = []
        self.post_inputs: list[list[Any]] = []
        self.nondeterministic: str | None = None
        # Inputs the task's test differentiates by (they come from get_inputs requiring grad): gradients
        # with respect to them are judged as outputs too (`rewards.harness.call_values.input_grads`).
        self.grad_idx: list[int] = []
        for t in range(trials):
            raw = _draw(mod, device, secrets.randbits(62))  # secret: nothing the candidate sees predicts it
            if t == 0:
                self.grad_idx = [i for i, x in enumerate(raw) if isinstance(x, torch.Tensor) and x.requires_grad
                                 and x.is_floating_point()]
            self.inputs.append(clone_to_cpu(raw))
        # On CUDA the candidate is timed on one more secret input set, never seen in a trial, and what its
        # last timed call returned is judged too: a forward that replays cached answers gains nothing.
        self.timing_inputs: list[Any] | None = None
        self.timing_output: list[Any] | None = None
        if device == "cuda":
            self.timing_inputs = clone_to_cpu(_draw(mod, device, secrets.randbits(62)))
        path = os.path.join(group_dir, INPUTS_FILE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)  # supervisors only
        for inp in self.inputs:
            outs, post = self._run(inp)
            self.outputs.append(outs)
            self.post_inputs.append(post)
        self._check_determinism()
        with torch.no_grad():
            if self.timing_inputs is not None:
                self.timing_output = plain_outputs(model(*fresh_inputs(self.timing_inputs, device)), trusted=True)
        self._calibrate(vars(mod))
        self.uninformative = self._probe_informative(mod, device)
        # A task may hand the candidate's constructor more than the reference's (TritonBench: the calls its
        # test made, so the candidate need not run the whole test again to learn them).
        cand_init = list(init_inputs) + list(getattr(mod, "get_candidate_init_inputs", lambda: [])())
        # What one trial's honest answer weighs: supervisors refuse frames far larger than that.
        trial_bytes = max(_nbytes(o) + _nbytes(p) for o, p in zip(self.outputs, self.post_inputs, strict=True))
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        # What a candidate holds at once (its weights, one trial's inputs and outputs): the zygote sizes the
        # candidate's memory cap by it.
        self.candidate_bytes = trial_bytes + _nbytes(list(state.values())) + _nbytes(self.inputs[0] if self.inputs else [])
        with os.fdopen(fd, "wb") as f:
            torch.save({"init_inputs": clone_to_cpu(cand_init),
                        "state_dict": state,
                        "inputs": self.inputs, "seed": seed, "trial_bytes": trial_bytes, "grad_inputs": self.grad_idx,
                        "timing_inputs": self.timing_inputs, "answer_dtypes": _answer_dtypes(self.outputs, self.post_inputs)}, f)

    def _run(self, inp: list[Any], model: Any = None) -> tuple[list[Any], list[Any]]:
        """(outputs, inputs after the call) of one reference forward, as the candidate's are taken
        (`rewards.harness.child._Harness.trial`): copies first, then input gradients where the test runs backward.
        `model`: another instance to run the same way (the float64 shadow), else the reference's own."""
        dev_inp = fresh_inputs(inp, self.device)
        grad_leaves(dev_inp, self.grad_idx)
        with torch.set_grad_enabled(bool(self.grad_idx)):
            out = (self.model if model is None else model)(*dev_inp)
        sync_device(self.device)
        outs, post = plain_outputs(out, trusted=True), clone_to_cpu(dev_inp)
        if self.grad_idx:
            outs += input_grads(out, dev_inp, self.grad_idx, trusted=True)
            sync_device(self.device)
        return outs, post

    def _calibrate(self, namespace: dict[str, Any]) -> None:
        """The float64 shadow of every trial (and of the timed call's input on CUDA): the exact answers and
        the reference's own rounding the judge's calibrated bounds rest on (`rewards.oracle.shadow`). Its seconds are
        the reference process's, never the candidate's (candidates start once the reference is ready)."""
        from rewards.oracle.shadow import Calibration, calibrate, defines_triton_kernels

        t0 = time.perf_counter()
        own_kernels = defines_triton_kernels(namespace)
        self.calibration = calibrate(self.model, self.inputs, self.outputs, lambda m, inp: self._run(inp, m)[0],
                                     self.nondeterministic, secrets.randbits(62), own_kernels)
        self.timing_calibration: Calibration | None = None
        if self.timing_inputs is not None and self.timing_output is not None:
            def timed_call(m: Any, inp: list[Any]) -> list[Any]:
                with torch.no_grad():
                    return plain_outputs(m(*fresh_inputs(inp, self.device)), trusted=True)

            self.timing_calibration = calibrate(self.model, [self.timing_inputs], [self.timing_output], timed_call,
                                                self.nondeterministic, secrets.randbits(62), own_kernels)
        self.shadow_s = round(time.perf_counter() - t0, 3)

    def _probe_informative(self, mod: Any, device: str) -> str | None:
        """Which trivial answer (all zeros, a constant, an input passed through) this task's oracle accepts
        on every trial, or None (`rewards.oracle.informative`). With a single trial one more secret input set is
        drawn and run (fixed bounds there), since a constant cannot be told from the answer on one input."""
        from rewards.oracle.compare import compare_outputs
        from rewards.oracle.informative import uninformative

        if any(_mutates(i, p) for i, p in zip(self.inputs, self.post_inputs, strict=True)):
            return None  # an in-place task's answer is its inputs after the call: the probes do not apply
        outputs, inputs = list(self.outputs), list(self.inputs)
        try:
            if len(outputs) < 2:
                extra = clone_to_cpu(_draw(mod, device, secrets.randbits(62)))
                outputs.append(self._run(extra)[0])
                inputs.append(extra)

            def judge(t: int, answer: list[Any]) -> bool:
                return compare_outputs(outputs[t], answer, None, None, "probe",
                                       calibration=self.calibration.for_trial(t)).ok

            return uninformative(outputs, inputs, judge)
        except Exception:
            return None  # the probe is a report, never a reason for the reference to fail

    def _check_determinism(self) -> None:
        from rewards.oracle.compare import compare_outputs

        _scribble(self.device)
        again, _ = self._run(self.inputs[0])
        cmp = compare_outputs(self.outputs[0], again, None, None, "reference rerun")
        if not cmp.ok:
            self.nondeterministic = cmp.reason or "reference outputs differ between two runs on the same inputs"

    def time_reference(self, warmup: int, reps: int, lock_dir: str | None) -> tuple[float | None, str | None]:
        if self.device != "cuda":
            return None, None
        from rewards.harness.timing import time_cuda

        inp = to_device(self.timing_inputs or self.inputs[0], "cuda")
        with torch.no_grad():
            return time_cuda(lambda: self.model(*inp), warmup, reps, lock_dir)

    def time_compiled_reference(self, warmup: int, reps: int, lock_dir: str | None) -> float | None:
        """torch.compile baseline (Inductor), timed like eager; None where compilation fails."""
        if self.device != "cuda":
            return None
        from rewards.harness.timing import time_cuda

        try:
            compiled = torch.compile(self.model)
            inp = to_device(self.timing_inputs or self.inputs[0], "cuda")
            with torch.no_grad():
                compiled(*inp)  # compile outside the timed region
                ms, _ = time_cuda(lambda: compiled(*inp), warmup, reps, lock_dir)
            return ms
        except Exception:
            return None

    def judge(self, outputs_path: str, sha256: str | None, atol: float | None, rtol: float | None) -> dict[str, Any]:
        """Compare a candidate's outputs. Any failure here is that candidate's verdict, never the group's,
        except the judge's own want of memory: that says nothing about the candidate (an honest answer to a
        large task was scored a mismatch), so it is the judge's error, with the knob that mends it."""
        self._answer_bytes = 0
        try:
            return self._judge(outputs_path, sha256, atol, rtol)
        except Exception as e:
            if _out_of_memory(e):
                honest = sum(_nbytes(o) + _nbytes(p) for o, p in zip(self.outputs, self.post_inputs, strict=True)) \
                    + _nbytes(self.timing_output or [])
                return out_of_memory_verdict(type(e).__name__, self._answer_bytes, honest)
            return {"ok": False, "max_abs_err": None, "reason": f"candidate outputs could not be compared ({type(e).__name__}: {str(e)[:300]})"}

    def _judge(self, outputs_path: str, sha256: str | None, atol: float | None, rtol: float | None) -> dict[str, Any]:
        import io

        from rewards.contract.untrusted_files import read_untrusted
        from rewards.oracle.compare import compare_outputs

        try:  # weighed before it is read: reading it may be what runs out of memory
            self._answer_bytes = os.stat(outputs_path, follow_symlinks=False).st_size
        except OSError:
            pass
        raw = read_untrusted(outputs_path, MAX_OUTPUT_BYTES)
        if raw is None:
            return {"ok": False, "max_abs_err": None, "reason": "candidate outputs missing"}
        if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
            return {"ok": False, "max_abs_err": None, "reason": "candidate outputs were altered after the supervisor wrote them"}
        try:
            data = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
            outs, posts = data["outputs"], data["post_inputs"]
        except Exception as e:
            return {"ok": False, "max_abs_err": None, "reason": f"unreadable candidate outputs ({type(e).__name__})"}
        if len(outs) != len(self.outputs) or len(posts) != len(self.post_inputs):
            return {"ok": False, "max_abs_err": None, "reason": "candidate reported a different number of trials"}
        from rewards.oracle.benchmark_checks import benchmark_checks

        about = {"tolerance": self.calibration.mode, "tolerance_reason": self.calibration.reason,
                 "benchmark_checks": benchmark_checks(self.outputs, outs),
                 "uninformative": self.uninformative, "shadow_s": self.shadow_s}
        worst = 0.0
        mutated = any(_mutates(self.inputs[t], self.post_inputs[t]) for t in range(len(self.inputs)))
        for t, (ref_o, cand_o) in enumerate(zip(self.outputs, outs, strict=True)):
            # a task that returns nothing and writes nothing would accept anything
            cmp = compare_outputs(ref_o, cand_o, atol, rtol, f"trial {t} output", require_nonempty=not mutated,
                                  calibration=self.calibration.for_trial(t))
            if not cmp.ok:
                return {"ok": False, "max_abs_err": cmp.max_abs_err, "reason": cmp.reason, **about}
            worst = max(worst, cmp.max_abs_err or 0.0)
        timed = data.get("timing_outputs") if isinstance(data, dict) else None
        if self.timing_output is not None and timed is not None:
            tcal = self.timing_calibration.for_trial(0) if self.timing_calibration is not None else None
            cmp = compare_outputs(self.timing_output, timed, atol, rtol, "last timed call's output", calibration=tcal)
            if not cmp.ok:
                return {"ok": False, "max_abs_err": cmp.max_abs_err, "reason": "while being timed: " + cmp.reason, **about}
        for t, (ref_p, cand_p) in enumerate(zip(self.post_inputs, posts, strict=True)):
            # inputs written in place keep the fixed bounds: the shadow calibrates returned values only
            cmp = compare_outputs(input_tensors(ref_p), input_tensors(cand_p), atol, rtol, f"trial {t} input")
            if not cmp.ok:
                return {"ok": False, "max_abs_err": worst, "reason": "candidate mutated its inputs: " + cmp.reason, **about}
        return {"ok": True, "max_abs_err": worst, "reason": "", **about}


def _answer_dtypes(outputs: list[list[Any]], post_inputs: list[list[Any]]) -> list[str]:
    """The dtypes of what is judged (outputs, inputs updated in place): a candidate's cast to one of them
    rounds its answer the way the reference's does, which the candidate's op record does not count as compute."""
    from rewards.harness.call_values import input_tensors

    found = {str(t.dtype) for o in outputs for t in input_tensors(o)}
    found |= {str(t.dtype) for p in post_inputs for t in input_tensors(p)}
    return sorted(found)
