"""The harness's own handling of a call's inputs (rewards.harness.call_values): what each call gets is its own copy."""

from __future__ import annotations

import collections

import torch

from rewards.harness.call_values import fresh_inputs

Pair = collections.namedtuple("Pair", "tensor count")


def test_each_call_gets_its_own_copies_of_nested_inputs() -> None:
    src = [Pair(torch.ones(2), 3), torch.Size([2, 3]), (torch.zeros(1),), [torch.ones(1), 2], {"k": torch.ones(1)}, 7]
    out = fresh_inputs(src, "cpu")
    assert type(out[0]) is Pair and out[0].count == 3 and torch.equal(out[0].tensor, src[0].tensor)
    assert type(out[1]) is torch.Size and out[1] == src[1]
    for a, b in ((out[0].tensor, src[0].tensor), (out[2][0], src[2][0]), (out[3][0], src[3][0]), (out[4]["k"], src[4]["k"])):
        assert a is not b and a.data_ptr() != b.data_ptr()
    out[3][0].mul_(5)  # a call's in-place update never reaches the inputs kept for the next
    assert torch.equal(src[3][0], torch.ones(1)) and out[5] == 7


def test_an_ordered_dict_result_is_judged_like_a_dict() -> None:
    from rewards.harness.call_values import _result_leaves

    a, b = torch.ones(1), torch.zeros(1)
    want = _result_leaves({"pos": a, "neg": b}, trusted=True)
    for trusted in (True, False):
        got = _result_leaves(collections.OrderedDict(neg=b, pos=a), trusted=trusted)
        assert got[0] == want[0] == "dict keys ['neg', 'pos']" and got[1] is b and got[2] is a


def test_trial_inputs_keep_tuples_and_sizes() -> None:
    from rewards.harness.call_values import clone_to_cpu

    src = [torch.Size([2, 3]), (torch.ones(1), 2), [torch.zeros(1)]]
    out = clone_to_cpu(src)
    assert type(out[0]) is torch.Size and out[0] == src[0]
    assert type(out[1]) is tuple and out[1][1] == 2 and out[1][0] is not src[1][0] and type(out[2]) is list
    assert clone_to_cpu(out, trusted=False)[0] == [2, 3]  # a candidate's input left as a torch.Size is copied too
