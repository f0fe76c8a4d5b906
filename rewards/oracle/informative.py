"""Does a task's oracle tell answers apart? A task whose outputs do not depend on its inputs in the trials
(a KernelBench level-2 file outputs all zeros on its own inputs) accepts any bug that yields the same.

The reference process judges three trivial answers exactly as it judges a candidate (same comparison, same
calibration) and names the first its oracle accepts on every trial:

* all zeros (every output tensor zeros);
* a constant (the first trial's outputs returned for every trial): the outputs do not change with the input;
* an input passed through unchanged (each output tensor replaced by an input tensor of its shape and dtype).

Non-tensor leaves (numbers, flags) keep the reference's own values in the trivial answers, so a task is
flagged by its tensors alone. Reporting only: the verdict of a real candidate is unchanged, eval's
selfcheck lists such tasks apart from its accuracy denominators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rewards.harness.call_values import input_tensors

# judge(trial index, answer leaves) -> accepted?
Judge = Callable[[int, list[Any]], bool]


def _zeros(outs: list[Any]) -> list[Any]:
    return [torch.zeros_like(o) if isinstance(o, torch.Tensor) else o for o in outs]


def _passed_through(outs: list[Any], inputs: list[Any]) -> list[Any] | None:
    """Each output tensor replaced by the first input tensor of its shape and dtype; None if one has none."""
    pool = [t for t in input_tensors(inputs) if isinstance(t, torch.Tensor)]
    got: list[Any] = []
    for o in outs:
        if not isinstance(o, torch.Tensor):
            got.append(o)
            continue
        match = next((t for t in pool if tuple(t.shape) == tuple(o.shape) and t.dtype == o.dtype), None)
        if match is None:
            return None
        got.append(match.detach().cpu().clone())
    return got


def uninformative(outputs: list[list[Any]], inputs: list[list[Any]], judge: Judge) -> str | None:
    """The trivial answer the oracle accepts on every trial ("outputs all zeros", ...), or None.

    `outputs[t]`/`inputs[t]`: the reference's flattened outputs and its inputs on trial t (at least two
    trials are needed to see a constant)."""
    tensors = [o for o in (outputs[0] if outputs else []) if isinstance(o, torch.Tensor)]
    if not tensors or not any(o.numel() for o in tensors):
        return None  # nothing to fill: compares_nothing / an empty output is reported elsewhere
    n = len(outputs)
    if all(judge(t, _zeros(outputs[t])) for t in range(n)):
        return "outputs all zeros pass the oracle"
    same_structure = all(len(o) == len(outputs[0]) for o in outputs)
    if n >= 2 and same_structure and all(
            judge(t, [c if isinstance(o, torch.Tensor) else o for o, c in zip(outputs[t], outputs[0], strict=True)])
            for t in range(n)):
        return "a constant passes the oracle (the outputs do not change with the inputs)"
    answers = [_passed_through(outputs[t], inputs[t]) for t in range(n)]
    if all(a is not None for a in answers) and all(judge(t, a) for t, a in enumerate(answers) if a is not None):
        return "an input passed through unchanged passes the oracle"
    return None
