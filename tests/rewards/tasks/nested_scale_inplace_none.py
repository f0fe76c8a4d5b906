import torch
import torch.nn as nn


class Model(nn.Module):
    """Multi-tensor in-place scale (a foreach-style optimizer step over a list of tensors), returning nothing: the answer is the list as the call leaves it."""

    def __init__(self):
        super().__init__()

    def forward(self, xs, alpha: float):
        for x in xs:
            x.mul_(alpha)
        return None


def get_inputs():
    return [[torch.randn(16, 64), torch.randn(32)], 3.0]


def get_init_inputs():
    return []
