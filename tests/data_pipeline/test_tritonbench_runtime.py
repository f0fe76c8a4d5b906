"""The TritonBench harness's runtime helpers, imported as a module (the harness appends their source text to
the reference and the candidates): the plain-data form of a call list, result leaves, in-place writes, and
the replay's bookkeeping."""

from __future__ import annotations

import pytest
import torch

from data_pipeline import tritonbench_runtime as rt


@pytest.fixture(autouse=True)
def _fresh_log(monkeypatch: pytest.MonkeyPatch):
    for name in ("_TB_LOG", "_TB_TENSORS", "_TB_OBJS"):
        monkeypatch.setattr(rt, name, [])
    yield


def test_encode_decode_round_trip() -> None:
    value = [("func", "add"), [rt._TBSlot(0, True), 3, 2.5, None, "s", True],
             {"dtype": torch.bfloat16, "shape": torch.Size([2, 3]), "obj": rt._TBObjRef(1)},
             (1, (2, [3])), False, [0]]
    plain = rt._tb_encode(value)
    back = rt._tb_decode(plain)
    assert back[0] == ("func", "add") and isinstance(back[0], tuple)
    slot = back[1][0]
    assert isinstance(slot, rt._TBSlot) and (slot.index, slot.grad) == (0, True)
    assert back[1][1:] == [3, 2.5, None, "s", True]
    assert back[2]["dtype"] is torch.bfloat16
    assert type(back[2]["shape"]) is torch.Size and tuple(back[2]["shape"]) == (2, 3)
    assert isinstance(back[2]["obj"], rt._TBObjRef) and back[2]["obj"].index == 1
    assert list(back[2]) == ["dtype", "shape", "obj"]  # key order kept
    assert back[3] == (1, (2, [3])) and back[4] is False and back[5] == [0]


def test_encoded_call_list_survives_weights_only_load(tmp_path) -> None:
    plain = rt._tb_encode([("launch", "k"), [rt._TBSlot(0, False)], {"n": 4, "dt": torch.float16}, (8,), False, []])
    torch.save([plain], tmp_path / "inputs.pt")
    (loaded,) = torch.load(tmp_path / "inputs.pt", weights_only=True)
    back = rt._tb_decode(loaded)
    assert back[2] == {"n": 4, "dt": torch.float16} and back[3] == (8,)


@pytest.mark.parametrize("value", [lambda meta: (1,), {1: "int key"}, object()])
def test_encode_refuses_values_without_a_plain_form(value) -> None:
    with pytest.raises(ValueError):
        rt._tb_encode([value])


def test_encode_refuses_numpy_scalars() -> None:
    np = pytest.importorskip("numpy")
    with pytest.raises(ValueError):
        rt._tb_encode([np.float32(1.5)])  # a float subclass would stop the weights_only load


def test_leaves_in_fixed_order() -> None:
    a, b = torch.ones(2), torch.zeros(3)
    leaves = rt._tb_leaves({"y": (a, 2), "x": [b, {"z": 1.5}], "s": "ignored", "n": None}, [])
    assert leaves[0] is a and leaves[1] == 2 and leaves[2] is b and leaves[3] == 1.5 and len(leaves) == 4


def test_leaves_turn_numpy_values_into_tensors() -> None:
    np = pytest.importorskip("numpy")
    arr = np.arange(3.0)
    (leaf,) = rt._tb_leaves([arr], [])
    assert isinstance(leaf, torch.Tensor) and leaf.tolist() == [0.0, 1.0, 2.0]
    arr[0] = 9.0
    assert leaf[0] == 0.0  # a copy, not a view of the array


def test_changed_detection() -> None:
    t = torch.tensor([1.0, float("nan"), 3.0])
    assert not rt._tb_changed(t, t.clone())  # NaN in the same place is unchanged
    assert rt._tb_changed(t, torch.tensor([1.0, float("nan"), 4.0]))
    assert rt._tb_changed(t, t.double())
    assert rt._tb_changed(t, t[:2])
    assert not rt._tb_changed(torch.arange(3), torch.arange(3))


def test_template_shares_a_slot_per_tensor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt, "_TB_BACKWARD", True)
    x = torch.ones(2, requires_grad=True)
    i = torch.arange(2)
    memo: dict = {}
    t = rt._tb_template([x, (x, i), {"k": 3}], memo)
    assert t[0] is t[1][0] and t[0].grad is True and t[1][1].grad is False and t[2] == {"k": 3}
    assert len(rt._TB_TENSORS) == 2 and rt._TB_TENSORS[0].requires_grad


def test_record_call_notes_in_place_writes_and_expected_raises() -> None:
    def fill(out, value):
        out.fill_(value)
        return None

    def boom(x):
        raise ValueError("bad shape")

    buf = torch.zeros(3)
    rt._tb_call("fill", fill, buf, 2.0)
    with pytest.raises(ValueError):
        rt._tb_call("boom", boom, torch.ones(1))
    (fill_entry, boom_entry) = rt._TB_LOG
    assert fill_entry[0] == ("func", "fill") and fill_entry[5] == [0] and not fill_entry[4]
    assert rt._TB_TENSORS[0].tolist() == [0.0, 0.0, 0.0]  # the recorded input is the state before the call
    assert boom_entry[4] is True


def test_recorded_objects_are_replayed_by_reference() -> None:
    class Scale:
        def __init__(self, k):
            self.k = k

        def __call__(self, x):
            return x * self.k

    obj = rt._tb_new("Scale", Scale, 3)
    assert isinstance(obj, rt._TBObj) and obj(torch.ones(2)).tolist() == [3.0, 3.0]
    new, call = rt._TB_LOG
    assert new[0] == ("new", "Scale", 0) and call[0] == ("call", 0)

    ops = rt._TBOps()
    ops.start(list(rt._TB_TENSORS) + [1234])
    for step in rt._TB_LOG:
        a, k = ops.args(step)
        fn = Scale if step[0][0] == "new" else ops.obj(step)
        ops.run(step, fn, a, k)
    (out,) = ops.finish()
    assert out.tolist() == [3.0, 3.0]


def test_replay_copies_inputs_and_reports_expected_raises() -> None:
    def add_(x):
        x.add_(1)

    def boom(x):
        raise RuntimeError("expected")

    x = torch.zeros(2)
    rt._tb_call("add_", add_, x)
    with pytest.raises(RuntimeError):
        rt._tb_call("boom", boom, x)
    inputs = list(rt._TB_TENSORS)
    ops = rt._TBOps()
    ops.start(inputs + [7])
    fns = {"add_": add_, "boom": boom}
    for step in rt._TB_LOG:
        a, k = ops.args(step)
        ops.run(step, fns[step[0][1]], a, k)
    written, raised = ops.finish()
    assert written.tolist() == [1.0, 1.0] and raised is True
    assert inputs[0].tolist() == [0.0, 0.0]  # the judge's inputs stay as they were


def test_replay_with_nothing_to_compare_is_an_error() -> None:
    ops = rt._TBOps()
    ops.start([0])
    with pytest.raises(RuntimeError, match="compares nothing"):
        ops.finish()


def test_replay_seeds_each_call_from_the_trial_seed() -> None:
    draws = []
    ops = rt._TBOps()
    for _ in range(2):
        ops.start([99])
        step = [("func", "r"), [], {}, None, False, []]
        ops.run(step, lambda: draws.append(torch.rand(1).item()) or torch.zeros(1), [], {})
    assert draws[0] == draws[1]
