import torch
import torch.nn as nn


class Model(nn.Module):
    """Negation."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.neg(x)


def get_inputs():
    return [torch.randn(16, 64)]


def get_init_inputs():
    return []
