"""The value oracle's comparison: every kind of leaf, and tolerances that small magnitudes cannot fool."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from rewards.oracle.compare import NOTHING_TO_COMPARE, compare_outputs, compare_tensors, flatten


def _softmax_rows(rows: int, dim: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.rand(rows, dim, generator=g), dim=1)


def test_all_zeros_softmax_fails_at_every_size() -> None:
    """At KernelBench's softmax width every value is below atol=1e-4, so the element-wise test alone
    accepted an all-zeros output; the norm-relative bound rejects it at any size."""
    for rows, dim in ((4, 64), (8, 16384), (2, 393216)):
        ref = _softmax_rows(rows, dim)
        cmp = compare_tensors(ref, torch.zeros_like(ref), None, None, "out")
        assert not cmp.ok, (rows, dim)
    ref = _softmax_rows(2, 393216)
    assert float(ref.abs().max()) < 1e-4  # the element-wise test alone is blind here
    assert "relative L2 error" in compare_tensors(ref, torch.zeros_like(ref), None, None, "out").reason


def test_softmax_counting_padding_in_its_denominator_fails() -> None:
    """A kernel padding 16000 columns to a block of 16384 and summing exp(0 - max) for the padding."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(16, 16000, generator=g)
    ref = torch.softmax(x, dim=1)
    e = torch.exp(x - x.max(dim=1, keepdim=True).values)
    pad = 384 * torch.exp(-x.max(dim=1, keepdim=True).values)
    wrong = e / (e.sum(dim=1, keepdim=True) + pad)
    assert float((wrong - ref).abs().max()) < 1e-4  # inside atol element by element
    assert not compare_tensors(ref, wrong, None, None, "out").ok


def test_honest_reordered_float32_results_pass() -> None:
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(64, 256, generator=g), torch.randn(256, 32, generator=g)
    ref = a @ b
    blocked = sum(a[:, k : k + 64] @ b[k : k + 64] for k in range(0, 256, 64))  # another summation order
    assert compare_tensors(ref, blocked, None, None, "out").ok
    sm = _softmax_rows(8, 16384, seed=3)
    exp2_based = torch.exp2((torch.log(sm) - 0) * 1.4426950408889634)  # exp via exp2, as Triton kernels do
    assert compare_tensors(sm, exp2_based, None, None, "out").ok


def test_flatten_walks_every_container_and_keeps_order() -> None:
    out = {"a": (torch.ones(2), 3), "b": [np.arange(3), {"c": 1.5, "d": True}], "e": None, "f": "text"}
    leaves = flatten(out)  # default: numbers as 0-d tensors, text dropped (an exception's text is no value)
    assert all(isinstance(x, torch.Tensor) for x in leaves)
    assert [x.dtype for x in leaves] == [torch.float32, torch.int64, torch.int64, torch.float32, torch.bool]
    raw = flatten(out, keep_scalars=True)
    assert raw[1:2] == [3] and raw[3:] == [1.5, True, "text"]
    assert torch.equal(raw[2], torch.arange(3))
    buf = io.BytesIO()
    torch.save(raw, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=True)  # what the judge reads from the candidate's process
    assert back[1:2] == [3] and back[3:] == [1.5, True, "text"] and torch.equal(back[0], raw[0])
    with pytest.raises(TypeError, match="unsupported type"):
        flatten(object())


def test_scalars_are_compared_not_skipped() -> None:
    """Non-tensor results (a test's `.item()`, a tuple of flags) decide too."""
    assert compare_outputs([1.0, 2, True], [1.00001, 2, True], None, None, "o").ok
    assert not compare_outputs([1.0], [1.1], None, None, "o").ok
    assert not compare_outputs([2], [3], None, None, "o").ok
    assert not compare_outputs([True], [False], None, None, "o").ok
    assert not compare_outputs([1.0], ["1.0"], None, None, "o").ok
    assert compare_outputs([torch.tensor(2.5)], [2.5], None, None, "o").ok  # 0-d tensor vs number: by value
    assert compare_outputs([float("nan")], [float("nan")], None, None, "o").ok
    assert not compare_outputs(["abc"], ["abd"], None, None, "o").ok


def test_a_reference_that_yields_nothing_compares_nothing() -> None:
    cmp = compare_outputs([], [], None, None, "trial 0 output", require_nonempty=True)
    assert not cmp.ok and NOTHING_TO_COMPARE in cmp.reason
    assert compare_outputs([], [], 0.0, 0.0, "inputs").ok  # default: an empty list of inputs is fine


def test_structure_shape_dtype_and_nan_positions_still_decide() -> None:
    r = torch.tensor([1.0, float("nan"), float("inf")])
    assert compare_tensors(r, r.clone(), None, None, "o").ok
    assert not compare_tensors(r, torch.tensor([1.0, 0.0, float("inf")]), None, None, "o").ok
    assert not compare_tensors(r, r.double(), None, None, "o").ok
    assert not compare_outputs([r], [r, r], None, None, "o").ok
    assert not compare_tensors(torch.arange(4), torch.arange(4).flip(0), None, None, "o").ok


def test_reasons_stay_short_whatever_the_candidate_returns() -> None:
    """A candidate's string or int can be any size; the reason line travels to the zygote as JSON and a huge
    one could starve the judge's process (its group would then be infra_error, left out of the reward)."""
    from rewards.oracle.compare import compare_scalars

    r = compare_scalars("expected", "x" * 10_000_000, None, None, "output")
    assert not r.ok and len(r.reason) < 1000 and "10000000 chars" in r.reason
    r = compare_scalars(3, 10 ** 5000, None, None, "output")
    assert not r.ok and len(r.reason) < 1000


def test_a_number_for_a_tensor_meets_the_tensor_s_bounds() -> None:
    """A one-element tensor answered with a Python number is judged as the tensor would be: the 0-d answer
    6e-5 (a mean softmax probability over 16k classes) returned as the float 0.0 passed on atol alone, while
    the 0-d tensor 0.0 fails the norm bound; and a float64 answer got float32's tolerances."""
    ref = torch.tensor(6.1e-5)
    assert not compare_outputs([ref], [torch.tensor(0.0)], None, None, "o").ok
    assert not compare_outputs([ref], [0.0], None, None, "o").ok
    assert not compare_outputs([ref.reshape(1, 1)], [0.0], None, None, "o").ok
    assert not compare_outputs([6.1e-5], [0.0], None, None, "o").ok  # a test's .item() alike
    assert not compare_outputs([torch.tensor(1.0, dtype=torch.float64)], [1.00005], None, None, "o").ok
    assert not compare_outputs([torch.tensor(6.1e-5 + 0j)], [0j], None, None, "o").ok
    # honest answers keep passing: reordered fp32 sums, half precision rounding, exact ints and flags
    assert compare_outputs([ref], [6.1e-5 * (1 + 1e-6)], None, None, "o").ok
    assert compare_outputs([torch.tensor(1.0, dtype=torch.float16)], [1.0009765625], None, None, "o").ok
    assert compare_outputs([torch.tensor(3), torch.tensor(True), 0.0], [3, True, 0.0], None, None, "o").ok
