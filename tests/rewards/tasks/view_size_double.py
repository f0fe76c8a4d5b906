import torch
import torch.nn as nn


class Model(nn.Module):
    """2 * x viewed as `size`, a torch.Size input (what `x.shape` of another tensor hands a caller)."""

    def __init__(self):
        super().__init__()

    def forward(self, x, size):
        return (2 * x).view(size)


def get_inputs():
    return [torch.randn(16, 64), torch.Size([64, 16])]


def get_init_inputs():
    return []
