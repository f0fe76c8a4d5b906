import torch
import torch.nn as nn


class Model(nn.Module):
    """ReLU computed in float32, returned in float16 (the reference casts its own output)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x).half()


def get_inputs():
    return [torch.randn(16, 64)]


def get_init_inputs():
    return []
