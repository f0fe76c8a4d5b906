import torch
import torch.nn as nn


class Model(nn.Module):
    """Outputs all zeros whatever its inputs (relu of a non-positive value), as one real KernelBench level-2
    file does on its own inputs: its oracle accepts any answer that returns zeros."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(-x.abs())


def get_inputs():
    return [torch.randn(16, 64)]


def get_init_inputs():
    return []
