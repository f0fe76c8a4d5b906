import torch
import torch.nn as nn


class Model(nn.Module):
    """ReLU of a float16 input."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs():
    return [torch.randn(16, 64).half()]


def get_init_inputs():
    return []
