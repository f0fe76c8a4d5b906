"""The operator vocabulary of the synthesizer: one entry per pointwise op, in three dialects.

Each op knows how to write itself as PyTorch (for the `Model` reference), as Triton (for the known-good
`ModelNew`), and as English (for the instruction). Keeping the three side by side is what keeps the
reference and the kernel in agreement: a new op is one table row, and the row is the whole contract.

Triton expressions always see fp32 values (kernels upcast on load), so transcendental ops never hit
Triton's fp32-only math functions with half inputs. tanh is written through `tl.sigmoid`
(tanh z = 2 sigmoid(2z) - 1) because `tl` has no portable tanh across Triton 3.x and the interpreter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Categories drive the op-kind labels and where an op may appear in a graph.
ACT = "activation"
ARITH = "arith"
BINARY = "binary"


@dataclass(frozen=True)
class OpDef:
    """One pointwise op. Format strings use {x} (operand), {y} (second operand) and named params."""

    name: str
    category: str
    torch_fmt: tuple[str, ...]  # alternative spellings; one is picked per sample for variety
    triton_fmt: str
    text: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class Op:
    """An OpDef instance with concrete parameter values (floats, rendered as literals)."""

    name: str
    params: tuple[tuple[str, float], ...] = field(default=())

    @property
    def spec(self) -> OpDef:
        return OPS[self.name]

    def kw(self) -> dict[str, str]:
        return {k: _lit(v) for k, v in self.params}


def _lit(v: float) -> str:
    """A float literal a human would write (no 0.30000000000000004)."""
    s = f"{v:.4g}"
    return s if any(c in s for c in ".e") else s + ".0"


_TANH = "(2.0 * tl.sigmoid(2.0 * ({x})) - 1.0)"

OPS: dict[str, OpDef] = {
    d.name: d
    for d in [
        OpDef("relu", ACT, ("torch.relu({x})", "F.relu({x})", "{x}.relu()"), "tl.maximum({x}, 0.0)", "a ReLU"),
        OpDef("gelu", ACT, ("F.gelu({x})",), "0.5 * {x} * (1.0 + tl.math.erf({x} * 0.7071067811865476))",
              "an exact (erf-based) GELU"),
        OpDef("gelu_tanh", ACT, ('F.gelu({x}, approximate="tanh")',),
              "0.5 * {x} * (1.0 + " + _TANH.format(x="0.7978845608028654 * ({x} + 0.044715 * {x} * {x} * {x})") + ")",
              "a tanh-approximated GELU"),
        OpDef("sigmoid", ACT, ("torch.sigmoid({x})", "{x}.sigmoid()"), "tl.sigmoid({x})", "a sigmoid"),
        OpDef("tanh", ACT, ("torch.tanh({x})", "{x}.tanh()"), _TANH, "a tanh"),
        OpDef("silu", ACT, ("F.silu({x})", "{x} * torch.sigmoid({x})"), "{x} * tl.sigmoid({x})", "a SiLU (swish)"),
        OpDef("exp", ACT, ("torch.exp({x})", "{x}.exp()"), "tl.exp({x})", "an exponential"),
        OpDef("abs", ARITH, ("torch.abs({x})", "{x}.abs()"), "tl.abs({x})", "an absolute value"),
        OpDef("square", ARITH, ("{x} * {x}", "torch.square({x})"), "{x} * {x}", "a square"),
        OpDef("neg", ARITH, ("-{x}", "torch.neg({x})"), "-{x}", "a negation"),
        OpDef("leaky_relu", ACT, ("F.leaky_relu({x}, negative_slope={a})",), "tl.where({x} > 0, {x}, {x} * {a})",
              "a leaky ReLU (slope {a})", ("a",)),
        OpDef("clamp", ARITH, ("torch.clamp({x}, min={lo}, max={hi})", "{x}.clamp({lo}, {hi})"),
              "tl.minimum(tl.maximum({x}, {lo}), {hi})", "a clamp to [{lo}, {hi}]", ("lo", "hi")),
        OpDef("softplus", ACT, ("F.softplus({x})",), "tl.where({x} > 20.0, {x}, tl.log(1.0 + tl.exp({x})))",
              "a softplus"),
        OpDef("hardsigmoid", ACT, ("F.hardsigmoid({x})",), "tl.minimum(tl.maximum({x} / 6.0 + 0.5, 0.0), 1.0)",
              "a hard sigmoid"),
        OpDef("scale", ARITH, ("{x} * {s}",), "{x} * {s}", "a multiplication by {s}", ("s",)),
        OpDef("add_scalar", ARITH, ("{x} + {c}",), "{x} + {c}", "an addition of {c}", ("c",)),
        # Binary ops with a second same-shape tensor (the graph supplies {y}).
        OpDef("add", BINARY, ("{x} + {y}", "torch.add({x}, {y})"), "{x} + {y}", "an element-wise addition of {yname}"),
        OpDef("mul", BINARY, ("{x} * {y}", "torch.mul({x}, {y})"), "{x} * {y}", "an element-wise product with {yname}"),
        OpDef("sub", BINARY, ("{x} - {y}", "torch.sub({x}, {y})"), "{x} - {y}", "a subtraction of {yname}"),
        OpDef("maximum", BINARY, ("torch.maximum({x}, {y})",), "tl.maximum({x}, {y})",
              "an element-wise maximum with {yname}"),
    ]
}

ACTIVATIONS = [n for n, d in OPS.items() if d.category == ACT]
ARITHS = [n for n, d in OPS.items() if d.category == ARITH]
BINARIES = [n for n, d in OPS.items() if d.category == BINARY]
# Ops that are cheap, well-conditioned epilogues after a matmul or a norm (no exp blow-ups).
EPILOGUES = ["relu", "gelu", "gelu_tanh", "sigmoid", "tanh", "silu", "leaky_relu", "scale", "add_scalar", "clamp",
             "hardsigmoid"]


def sample_op(rng: random.Random, name: str) -> Op:
    """Instantiate an op with parameter values drawn to keep the numbers well-conditioned."""
    params: list[tuple[str, float]] = []
    for p in OPS[name].params:
        if p == "s":
            params.append((p, rng.choice([0.5, 0.25, 1.5, 2.0, 0.125, 0.75, -1.0, 3.0])))
        elif p == "c":
            params.append((p, rng.choice([1.0, 0.5, -0.5, 2.0, -1.0, 0.1, 3.0])))
        elif p == "a":
            params.append((p, rng.choice([0.01, 0.1, 0.2, 0.05])))
        elif p == "lo":
            lo = rng.choice([-1.0, -0.5, -2.0, 0.0])
            params.append((p, lo))
            params.append(("hi", lo + rng.choice([1.0, 2.0, 3.0])))
    return Op(name, tuple(params))


def torch_expr(op: Op, x: str, y: str | None, rng: random.Random) -> str:
    fmt = rng.choice(OPS[op.name].torch_fmt)
    if any(op.name == n for n in ("scale", "add_scalar")) or "{x} * {x}" in fmt or fmt.startswith("-"):
        x = x if x.isidentifier() else f"({x})"
    return fmt.format(x=x, y=y or "", **op.kw())


def triton_expr(op: Op, x: str, y: str | None = None) -> str:
    xx = x if x.isidentifier() else f"({x})"
    return OPS[op.name].triton_fmt.format(x=xx, y=y or "", **op.kw())


def op_text(op: Op, yname: str = "a second tensor") -> str:
    return OPS[op.name].text.format(yname=yname, **op.kw())
