# ruff: noqa
# A @triton.heuristics value function (reached through a dict so the static non_triton_in_kernel rule
# does not stop it first) is handed the launch arguments; it writes torch.relu(src) into
# dst and returns the block size. The kernel itself stores nothing.
import torch
import torch.nn as nn
import triton
import triton.language as tl

OPS = {"r": torch.relu}


def pick_block(args):
    args["dst"].copy_(OPS["r"](args["src"]))
    return 16


HEUR = {"b": pick_block}


@triton.heuristics({"BLOCK": lambda a: HEUR["b"](a)})
@triton.jit
def noop_kernel(src, dst, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.load(src + offs, mask=offs < 0)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        noop_kernel[(1,)](x, out, x.numel())
        return out
