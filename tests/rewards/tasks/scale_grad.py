import torch
import torch.nn as nn


class Model(nn.Module):
    """Scale by 2; the input requires grad, so the judge also compares d(out)/d(x) (TritonBench-style
    tasks whose test runs backward)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2.0


def get_inputs():
    return [torch.randn(16, 64, requires_grad=True)]


def get_init_inputs():
    return []
