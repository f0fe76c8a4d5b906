"""The runtime op record (rewards.guard), exercised in-process on trusted test code."""

from __future__ import annotations

import pytest
import torch

from rewards.guard import MAX_SCALAR_READS, OpRecorder


def _record(fn):  # noqa: ANN001, ANN202
    rec = OpRecorder()
    with torch.no_grad(), rec.modes():
        out = fn()
    return rec, out


def test_wrapper_plumbing_is_allowed() -> None:
    x = torch.randn(4, 8)

    def wrapper() -> torch.Tensor:
        y = torch.empty_like(x)
        z = x.reshape(8, 4).contiguous().view(-1)
        w = torch.zeros(3, dtype=torch.float32)
        y.copy_(x.t().contiguous().t())
        return torch.cat([z, w]).to(torch.float64)

    rec, _ = _record(wrapper)
    assert rec.summary()["forbidden"] == {}, rec.summary()


@pytest.mark.parametrize("compute", [
    lambda x: x + 1,
    lambda x: torch.softmax(x, -1),
    lambda x: sum(x.unbind(0)),
    lambda x: x @ x.t(),
    lambda x: torch.nn.functional.relu(x),
    lambda x: x.exp().sum(),
])
def test_compute_is_recorded(compute) -> None:  # noqa: ANN001
    x = torch.randn(4, 4)
    rec, _ = _record(lambda: compute(x))
    assert rec.summary()["forbidden"], "a compute op went unrecorded"


@pytest.mark.parametrize("escape", ["tolist", "numpy", "untyped_storage"])
def test_data_escapes_are_refused(escape: str) -> None:
    x = torch.randn(4)
    rec = OpRecorder()
    with pytest.raises(RuntimeError, match="not allowed inside forward"), torch.no_grad(), rec.modes():
        getattr(x, escape)()
    assert rec.summary()["refused"] == {escape: 1}


def test_scalar_reads_are_capped() -> None:
    x = torch.randn(MAX_SCALAR_READS + 8)
    rec, _ = _record(lambda: [x[i].item() for i in range(x.numel())])
    assert any("item" in k for k in rec.summary()["forbidden"])
    rec, _ = _record(lambda: [x[i].item() for i in range(4)])
    assert rec.summary()["forbidden"] == {}


def test_custom_op_bodies_are_not_opaque() -> None:
    @torch.library.custom_op("tftest::hidden_softmax", mutates_args=())
    def hidden(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, -1)

    x = torch.randn(3, 3)
    rec, out = _record(lambda: hidden(x))
    assert any("softmax" in k for k in rec.summary()["forbidden"]), rec.summary()
    assert torch.allclose(out.sum(-1), torch.ones(3))


def test_suspension_hides_only_marked_regions() -> None:
    rec = OpRecorder()
    x = torch.randn(3)
    with torch.no_grad(), rec.modes():
        rec.suspended += 1
        x + 1
        rec.suspended -= 1
        x * 2
    assert list(rec.summary()["forbidden"]) == ["aten::mul"]
