import torch
import torch.nn as nn


class Model(nn.Module):
    """KernelBench level-2 style GEMM, divide, row sum, scale, with weights whose rows cancel in pairs: every
    row sum is ~100x smaller than the products it adds, so the fp32 reference carries far more rounding than
    a fixed atol + rtol * |ref| bound allows (KernelBench 14_Gemm_Divide_Sum_Scaling has a few such rows)."""

    def __init__(self, input_size, hidden_size, scaling_factor):
        super().__init__()
        w = torch.randn(hidden_size // 2, input_size)
        self.weight = nn.Parameter(torch.cat([w, -w + 1e-3 * torch.randn(hidden_size // 2, input_size)]))
        self.scaling_factor = scaling_factor

    def forward(self, x):
        x = torch.matmul(x, self.weight.T)
        x = x / 2
        x = torch.sum(x, dim=1, keepdim=True)
        x = x * self.scaling_factor
        return x


batch_size = 128
input_size = 512
hidden_size = 256
scaling_factor = 1.5


def get_inputs():
    return [torch.rand(batch_size, input_size) * 100]


def get_init_inputs():
    return [input_size, hidden_size, scaling_factor]
