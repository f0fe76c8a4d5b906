import torch
import torch.nn as nn


class Model(nn.Module):
    """ReLU of a 4x8 input (32 elements)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs():
    return [torch.randn(4, 8)]


def get_init_inputs():
    return []
