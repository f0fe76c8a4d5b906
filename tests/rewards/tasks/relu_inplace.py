import torch
import torch.nn as nn


class Model(nn.Module):
    """In-place ReLU that returns nothing (an optimizer-step-like API): the answer is the input as the call
    leaves it, which the judge compares (`post_inputs`)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> None:
        x.relu_()


def get_inputs():
    return [torch.randn(16, 64)]


def get_init_inputs():
    return []
