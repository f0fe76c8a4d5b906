"""Operator-graph synthesizer: PyTorch references paired with known-good Triton solutions.

    from data_pipeline.synth import synthesize
    samples = synthesize(n_train=100, n_heldout=20, seed=0)

Each sample is drawn from its own `random.Random(f"{seed}:{index}")`, so a larger request extends a
smaller one without changing it, and a resumed build regenerates exactly the same samples and ids.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

from data_pipeline.synth.codegen import compact_solution, plan_text, render_solution
from data_pipeline.synth.graphs import OP_KINDS, Spec, is_heldout, sample_spec
from data_pipeline.synth.reference import render_reference

LICENSE = "Apache-2.0"


@dataclass(frozen=True)
class SynthSample:
    """One synthesized task with its known-good solution and labels."""

    sample_id: str
    reference: str
    instruction: str
    solution: str
    split: str  # train | heldout (unseen op combination) | indist (unseen instance of a train combination)
    op_kind: str
    difficulty: int
    signature: str
    dtype: str
    index: int
    reasoning: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_sample(seed: int, index: int, kinds: tuple[str, ...] = OP_KINDS, half: bool = True,
                heldout_fraction: float = 0.1, reasoning: bool = True, compact: bool = False
                ) -> tuple[SynthSample, Spec]:
    """Deterministically draw sample number `index` of the stream for `seed`.

    `reasoning=False` drops the plan sentence and `compact=True` strips comments and docstrings from the
    solution and never uses a separate launcher helper: both only shorten and simplify the answer (every random draw is still made, so the same index yields the
    same task either way). A 135M model learns a ~250-token answer far faster than a ~460-token one.
    """
    rng = random.Random(f"{seed}:{index}")
    spec = sample_spec(rng, kinds, half)
    reference, instruction = render_reference(spec, rng)
    solution = render_solution(spec, rng, helper_ok=not compact)
    plan = plan_text(spec, rng)
    if compact:
        solution = compact_solution(solution)
    digest = hashlib.sha256((reference + "\0" + solution).encode()).hexdigest()[:12]
    split = "heldout" if is_heldout(spec.signature, seed, heldout_fraction) else "train"
    sample = SynthSample(
        sample_id=f"synth-{digest}", reference=reference, instruction=instruction, solution=solution, split=split,
        op_kind=spec.op_kind, difficulty=spec.difficulty, signature=spec.signature, dtype=spec.dtype, index=index,
        reasoning=plan if reasoning else "",
    )
    return sample, spec


def is_indist(seed: int, index: int, fraction: float) -> bool:
    """Deterministic pick of the draws that become in-distribution held-out instances (by draw index)."""
    if fraction <= 0:
        return False
    h = int(hashlib.sha256(f"{seed}:{index}:indist".encode()).hexdigest()[:8], 16)
    return (h % 10_000) < fraction * 10_000


def synthesize(n_train: int, n_heldout: int = 0, seed: int = 0, kinds: tuple[str, ...] = OP_KINDS,
               half: bool = True, heldout_fraction: float = 0.1, max_per_signature: int = 12,
               max_per_variant: int = 2, max_draws: int | None = None, n_indist: int = 0,
               indist_fraction: float = 0.1, reasoning: bool = True, compact: bool = False) -> list[SynthSample]:
    """Draw samples until `n_train` train, `n_heldout` held-out and `n_indist` in-distribution samples exist.

    `max_per_signature` caps repeats of one op combination, `max_per_variant` repeats of one combination
    with the same dtype/rank/style (differing only in shapes), so the corpus spreads over combinations
    instead of piling up on the few single-op ones.

    Two held-out splits answer two questions. `heldout` (combinations never seen in train) asks "does it
    compose?"; `indist` asks the easier "did it learn what it was shown?": a draw picked by `is_indist`
    whose combination already occurs in train becomes an unseen *instance* (other shapes, names, dtypes)
    of a seen combination. With `n_indist=0` nothing is routed there, so the stream is the same as a draw without the split.
    """
    unknown = set(kinds) - set(OP_KINDS)
    if unknown:
        raise ValueError(f"unknown op kinds {sorted(unknown)}; valid: {', '.join(OP_KINDS)}")
    per_sig: Counter[str] = Counter()
    per_var: Counter[str] = Counter()
    seen: set[str] = set()
    out: list[SynthSample] = []
    want = {"train": n_train, "heldout": n_heldout, "indist": n_indist}
    got: Counter[str] = Counter()
    train_sigs: set[str] = set()
    limit = max_draws if max_draws is not None else 50 * (n_train + n_heldout + n_indist) + 1000
    for index in range(limit):
        if all(got[k] >= v for k, v in want.items()):
            break
        s, spec = make_sample(seed, index, kinds, half, heldout_fraction, reasoning, compact)
        if n_indist and s.split == "train" and is_indist(seed, index, indist_fraction):
            if s.signature not in train_sigs:
                continue  # an in-distribution instance needs its combination in train already
            s = replace(s, split="indist")
        if (got[s.split] >= want[s.split] or per_sig[s.signature] >= max_per_signature
                or per_var[spec.variant] >= max_per_variant or s.sample_id in seen):
            continue
        per_sig[s.signature] += 1
        per_var[spec.variant] += 1
        seen.add(s.sample_id)
        got[s.split] += 1
        if s.split == "train":
            train_sigs.add(s.signature)
        out.append(s)
    return out


__all__ = ["LICENSE", "OP_KINDS", "SynthSample", "is_indist", "make_sample", "synthesize"]
