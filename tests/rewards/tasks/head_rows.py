import torch
import torch.nn as nn


class Model(nn.Module):
    """Doubles the first n rows (n a one-element integer tensor read as a length)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return x[: int(n.item())] * 2


def get_inputs():
    return [torch.randn(8, 16), torch.tensor([5])]


def get_init_inputs():
    return []
