"""Distillation with a fake teacher: verified answers become SFT rows, every attempt is kept apart."""

from __future__ import annotations

from data_pipeline.config import load_config
from data_pipeline.distill import distill, sft_row_from_attempt
from data_pipeline.synth import synthesize
from rewards import VerifyConfig
from stagekit.journal import Journal

WRONG = """I'll just copy the input.

```python
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self, *args):
        super().__init__()

    def forward(self, x, *rest):
        out = torch.empty_like(x)
        copy_kernel[(triton.cdiv(x.numel(), 1024),)](x, out, x.numel(), BLOCK=1024)
        return out
```
"""


class FakeTeacher:
    """Two completions per prompt: the known-good solution with reasoning, then a wrong kernel."""

    model_name = "fake-teacher"

    def __init__(self, solutions: dict[str, str]) -> None:
        self.solutions = solutions
        self.calls = 0

    def generate(self, prompts, n, temperature, max_new_tokens, seed):
        self.calls += 1
        out = []
        for p in prompts:
            sol = next(s for ref, s in self.solutions.items() if ref.strip() in p[-1]["content"])
            out.append([f"Fuse everything into one pass.\n\n```python\n{sol}```", WRONG][:n])
        return out


def test_distill_keeps_verified_and_all_attempts(tmp_path) -> None:
    samples = synthesize(3, 0, seed=2)
    tasks = [{"task_id": s.sample_id, "reference": s.reference, "instruction": s.instruction, "source": "synth",
              "op_kind": s.op_kind, "difficulty": s.difficulty, "signature": s.signature} for s in samples]
    cfg = load_config(None, ["--distill_n", "2", "--distill_batch", "2"])
    teacher = FakeTeacher({s.reference: s.solution for s in samples})
    journal = Journal(tmp_path / "attempts.jsonl")
    vcfg = VerifyConfig(device="cpu", trials=1, workers=2)
    attempts = distill(tasks, cfg, vcfg, journal, backend=teacher, log=lambda m: None)
    assert len(attempts) == 6 and teacher.calls == 2
    good = [a for a in attempts if a["correct"]]
    assert len(good) == 3 and all(a["attempt_id"].endswith("#0") for a in good)
    assert all(a["verify_status"] != "ok" for a in attempts if not a["correct"])
    row = sft_row_from_attempt(good[0])
    assert row["messages"][-1]["content"].startswith("Fuse everything") and row["source"] == "distill:synth"
    # Resume: everything is journaled, the teacher is not asked again.
    again = distill(tasks, cfg, vcfg, journal, backend=teacher, log=lambda m: None)
    assert teacher.calls == 2 and len(again) == 6
