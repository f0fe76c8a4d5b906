# ruff: noqa
# Honest: @triton.heuristics and @triton.autotune(prune_configs_by=...) given module-level helper
# functions by name (as the Triton tutorials and many real kernels do); masked row sums.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def block_for(args):
    return triton.next_power_of_2(args["n_cols"])


def keep_fitting(configs, named_args, **kwargs):
    return [c for c in configs if c.num_warps <= 4] or configs[:1]


@triton.autotune(configs=[triton.Config({}, num_warps=2), triton.Config({}, num_warps=8)], key=["n_cols"],
                 prune_configs_by={"early_config_prune": keep_fitting})
@triton.heuristics({"BLOCK": block_for})
@triton.jit
def rowsum_kernel(src, dst, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    v = tl.load(src + row * n_cols + cols, mask=cols < n_cols, other=0.0)
    tl.store(dst + row, tl.sum(v, axis=0))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty(rows, device=x.device, dtype=x.dtype)
        rowsum_kernel[(rows,)](x, out, cols)
        return out
