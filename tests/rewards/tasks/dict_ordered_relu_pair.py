from collections import OrderedDict

import torch
import torch.nn as nn


class Model(nn.Module):
    """Both halves of x as an OrderedDict (torch's own containers return one): relu(x), relu(-x)."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return OrderedDict([("pos", torch.relu(x)), ("neg", torch.relu(-x))])


def get_inputs():
    return [torch.randn(16, 64)]


def get_init_inputs():
    return []
