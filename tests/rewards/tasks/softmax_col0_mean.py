import torch
import torch.nn as nn


class Model(nn.Module):
    """Mean probability of class 0 under a row softmax over 16k classes: a 0-d answer of ~6e-5, below fp32 atol."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=1)[:, 0].mean()


def get_inputs():
    return [torch.randn(8, 16384)]


def get_init_inputs():
    return []
