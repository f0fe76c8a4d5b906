import torch
import torch.nn as nn


class Model(nn.Module):
    """Per-feature scale and shift with learnable random parameters, then ReLU: relu(x * weight + bias)."""

    def __init__(self, features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x * self.weight + self.bias)


def get_inputs():
    return [torch.randn(24, 40)]


def get_init_inputs():
    return [40]
