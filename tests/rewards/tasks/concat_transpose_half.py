import torch
import torch.nn as nn


class Model(nn.Module):
    """Data movement only: stack two inputs along rows, transpose, cast to half (KernelBench has many
    such layout/cast tasks)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, y], dim=0).t().contiguous().to(torch.float16)


def get_inputs():
    return [torch.randn(16, 48), torch.randn(8, 48)]


def get_init_inputs():
    return []
