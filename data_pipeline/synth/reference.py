"""Render a spec as a KernelBench-style PyTorch reference (`Model`, `get_inputs`, `get_init_inputs`)
plus a natural-language instruction.

The `__init__` body is produced here once and reused verbatim by the Triton code generator, so the
reference and the candidate create the same parameters in the same order: identical under a shared
seed and under `load_state_dict` alike, whichever way the verifier pairs them.
"""

from __future__ import annotations

import random

from data_pipeline.synth.graphs import NORMS, SOFTMAXES, Spec
from data_pipeline.synth.ops import Op, op_text, torch_expr

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def forward_args(spec: Spec) -> list[str]:
    """Names of forward() inputs, in get_inputs() order."""
    if spec.family == "matmul":
        return ["x"] if spec.linear else ["a", "b"]
    args = ["x"]
    if spec.binary_input:
        args.append("y")
    if spec.bias == "col":
        args.append("scale")
    if spec.residual:
        args.append("residual")
    return args


def init_block(spec: Spec) -> tuple[list[str], list[str], list[str]]:
    """(constructor params, __init__ body lines, get_init_inputs values) shared by Model and ModelNew."""
    params: list[str] = []
    body = ["super().__init__()"]
    values: list[str] = []
    if spec.family == "flat" and spec.bias == "row":
        params, values = ["num_features"], [str(spec.shape[-1])]
        body.append("self.bias = nn.Parameter(torch.randn(num_features))")
    elif spec.family == "row" and spec.core in NORMS:
        params, values = ["hidden_size", "eps"], [str(spec.shape[-1]), repr(spec.eps)]
        body += ["self.hidden_size = hidden_size", "self.eps = eps"]
        if spec.affine:
            body.append("self.weight = nn.Parameter(torch.randn(hidden_size))")
            if spec.core == "layernorm":
                body.append("self.bias = nn.Parameter(torch.randn(hidden_size))")
    elif spec.family == "matmul":
        m, k = spec.shape
        if spec.linear:
            params, values = ["in_features", "out_features"], [str(k), str(spec.n)]
            body.append(f"self.linear = nn.Linear(in_features, out_features, bias={spec.bias is not None})")
        elif spec.bias:
            params, values = ["out_features"], [str(spec.n)]
            body.append("self.bias = nn.Parameter(torch.randn(out_features))")
    return params, body, values


def _shape(s: tuple[int, ...]) -> str:
    return ", ".join(str(d) for d in s)


def _ops_lines(ops: tuple[Op, ...], var: str, other: str | None, rng: random.Random) -> list[str]:
    return [f"{var} = {torch_expr(o, var, other, rng)}" for o in ops]


def _core_lines(spec: Spec, rng: random.Random) -> list[str]:
    c, kd = spec.core, spec.keepdim
    dim = "-1" if spec.family == "row" else "0"
    if spec.family == "row" and rng.random() < 0.4:
        dim = "1"
    kds = ", keepdim=True" if kd else ""
    if c in ("sum", "mean"):
        return [rng.choice([f"x = torch.{c}(x, dim={dim}{kds})", f"x = x.{c}(dim={dim}{kds})"])]
    if c in ("max", "min"):
        return [rng.choice([f"x = torch.a{c}(x, dim={dim}{kds})", f"x = torch.{c}(x, dim={dim}{kds}).values",
                            f"x = x.{c}(dim={dim}{kds})[0]"])]
    if c == "softmax":
        return [rng.choice([f"x = torch.softmax(x, dim={dim})", f"x = F.softmax(x, dim={dim})"])]
    if c == "log_softmax":
        return [rng.choice([f"x = torch.log_softmax(x, dim={dim})", f"x = F.log_softmax(x, dim={dim})"])]
    if c == "logsumexp":
        return [f"x = torch.logsumexp(x, dim={dim}{kds})"]
    if c == "layernorm":
        if spec.affine:
            return ["x = F.layer_norm(x, (self.hidden_size,), self.weight, self.bias, self.eps)"]
        return ["x = F.layer_norm(x, (self.hidden_size,), eps=self.eps)"]
    if c == "rmsnorm":
        lines = ["x = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)"]
        return lines + (["x = x * self.weight"] if spec.affine else [])
    raise ValueError(f"unknown core {c!r}")


def forward_lines(spec: Spec, rng: random.Random) -> list[str]:
    lines: list[str] = []
    if spec.family == "matmul":
        if spec.linear:
            lines.append("x = self.linear(x)")
        else:
            lines.append(rng.choice(["x = torch.matmul(a, b)", "x = a @ b", "x = torch.mm(a, b)"]))
            if spec.bias:
                lines.append("x = x + self.bias")
        return lines + _ops_lines(spec.post, "x", None, rng)
    if spec.residual:
        lines.append(rng.choice(["x = x + residual", "x = torch.add(x, residual)"]))
    if spec.family == "flat" and spec.bias:
        other = "self.bias" if spec.bias == "row" else "scale"
        lines += _ops_lines(spec.pre, "x", other, rng)
    else:
        lines += _ops_lines(spec.pre, "x", "y", rng)
    if spec.core:
        lines += _core_lines(spec, rng)
    lines += _ops_lines(spec.post, "x", None, rng)
    return lines


def input_shapes(spec: Spec) -> dict[str, tuple[int, ...]]:
    if spec.family == "matmul":
        m, k = spec.shape
        return {"x": (m, k)} if spec.linear else {"a": (m, k), "b": (k, spec.n)}
    shapes = {"x": spec.shape}
    if spec.binary_input:
        shapes["y"] = spec.shape
    if spec.bias == "col":
        shapes["scale"] = (spec.shape[0], 1)
    if spec.residual:
        shapes["residual"] = spec.shape
    return shapes


def describe(spec: Spec) -> str:
    """What the module computes, in one English sentence fragment."""
    steps: list[str] = []
    if spec.family == "matmul":
        steps.append("a linear layer (x @ W^T + b)" if spec.linear and spec.bias else
                     "a linear layer without bias" if spec.linear else "a matrix multiplication a @ b")
        if spec.bias and not spec.linear:
            steps.append("a bias add")
    if spec.residual:
        steps.append("a residual addition")
    yname = {"row": "a learned per-column bias", "col": "a per-row scale tensor"}.get(spec.bias or "", "y")
    steps += [op_text(o, yname) for o in spec.pre]
    if spec.core:
        axis = "each row" if spec.family == "row" else "each column (dim 0)"
        steps.append({
            "softmax": f"a softmax over {axis}", "log_softmax": f"a log-softmax over {axis}",
            "logsumexp": f"a logsumexp over {axis}", "layernorm": "a layer normalization of the last dimension",
            "rmsnorm": "an RMS normalization of the last dimension",
        }.get(spec.core, f"a {spec.core} reduction over {axis}"))
    steps += [op_text(o) for o in spec.post]
    if len(steps) == 1:
        return steps[0]
    return ", then ".join(steps[:-1]) + ", then " + steps[-1] if len(steps) < 4 else \
        "; ".join(steps[:-1]) + "; and finally " + steps[-1]


INSTRUCTIONS = (
    "Write a Triton implementation of this module, which applies {desc} to a {shape} {dtype} input.",
    "Replace the PyTorch operators in Model with custom Triton kernels. The module computes {desc}.",
    "Implement `ModelNew` with Triton kernels that fuse the whole forward pass: {desc} ({dtype}, shape {shape}).",
    "The module below performs {desc}. Rewrite its forward pass as Triton kernels so that no PyTorch compute "
    "op remains.",
    "Optimize this PyTorch model with Triton: it applies {desc}. Fuse as much as you can into one kernel.",
)


def render_reference(spec: Spec, rng: random.Random) -> tuple[str, str]:
    """(reference source, instruction)."""
    params, body, values = init_block(spec)
    args = forward_args(spec)
    doc = describe(spec)
    out = [HEADER, "", "class Model(nn.Module):", f'    """Applies {doc}."""', ""]
    out.append(f"    def __init__(self{''.join(', ' + p for p in params)}):")
    out += [f"        {b}" for b in body]
    out += ["", f"    def forward(self, {', '.join(args)}):"]
    out += [f"        {ln}" for ln in forward_lines(spec, rng)]
    out += ["        return x", "", ""]
    dt = "" if spec.dtype == "float32" else f", dtype=torch.{spec.dtype}"
    out.append("def get_inputs():")
    shapes = input_shapes(spec)
    for name, shp in shapes.items():
        out.append(f"    {name} = torch.randn({_shape(shp)}{dt})")
    out += [f"    return [{', '.join(shapes)}]", "", "", "def get_init_inputs():", f"    return [{', '.join(values)}]", ""]
    shape_txt = "x".join(str(d) for d in (spec.shape if spec.family != "matmul" else spec.shape))
    instr = rng.choice(INSTRUCTIONS).format(desc=doc, shape=shape_txt, dtype=spec.dtype)
    if spec.core in SOFTMAXES and spec.family == "row":
        instr += " Keep the computation numerically stable (subtract the row max)."
    return "\n".join(out), instr
