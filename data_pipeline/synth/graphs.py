"""Sample small operator graphs ("specs") that the reference writer and the Triton code generator render.

A spec is deliberately a *shape* of computation the code generator can always lower correctly:

    flat    : out = post(pre(x [, y] [, bias]))               one element per lane, any rank
    row     : out = post(core_row(pre(x [, residual])))      one program per row (softmax, norms, row reductions)
    col     : out = core_col(pre(x))                          reduction over dim 0, one program per column block
    matmul  : out = post(x @ w [+ bias])                       tiled tl.dot with a fused epilogue

The *signature* names the op combination without shapes or dtypes; the held-out split is a set of
signatures, so a held-out sample's combination never appears in train.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace

from data_pipeline.synth.ops import ACTIVATIONS, ARITHS, BINARIES, EPILOGUES, Op, sample_op

ROW_REDUCTIONS = ("sum", "mean", "max", "min")
SOFTMAXES = ("softmax", "log_softmax", "logsumexp")
NORMS = ("layernorm", "rmsnorm")
OP_KINDS = ("elementwise", "activation", "broadcast", "reduction", "softmax", "norm", "matmul", "fused")


@dataclass(frozen=True)
class Spec:
    """One operator graph plus everything needed to render it (shapes, dtype, style choices)."""

    family: str  # flat | row | col | matmul
    shape: tuple[int, ...]  # input x shape; matmul: (M, K) and n_out in `n`
    dtype: str = "float32"
    pre: tuple[Op, ...] = ()
    core: str | None = None  # row/col reduction, softmax or norm name
    post: tuple[Op, ...] = ()
    binary_input: bool = False  # pre contains a binary op on a second same-shape input
    bias: str | None = None  # flat: "row" (C,) or "col" (R, 1) broadcast bias; matmul: "bias"
    residual: bool = False  # row: x + residual before the core
    keepdim: bool = False
    n: int = 0  # matmul output features
    linear: bool = False  # matmul: nn.Linear weight (N, K) instead of a second input (K, N)
    affine: bool = True  # norms: learnable weight (and bias for layernorm)
    eps: float = 1e-5
    style: int = 0  # picks naming / block-size / grid style variants
    extra: tuple[tuple[str, object], ...] = field(default=())

    # -- labels -------------------------------------------------------------------------------
    @property
    def n_ops(self) -> int:
        heavy = {"matmul": 3, "row": 2, "col": 2}.get(self.family, 0) if self.core or self.family == "matmul" else 0
        return len(self.pre) + len(self.post) + heavy + (1 if self.bias else 0) + (1 if self.residual else 0)

    @property
    def difficulty(self) -> int:
        n = self.n_ops
        return 1 if n <= 2 else 2 if n <= 4 else 3

    @property
    def op_kind(self) -> str:
        extra_ops = len(self.pre) + len(self.post) + (1 if self.residual else 0)
        if self.family == "flat":
            if self.bias:
                return "broadcast"
            if len(self.pre) == 1 and self.pre[0].spec.category == "activation":
                return "activation"
            return "elementwise"
        if self.family == "matmul":
            return "matmul" if not self.post else "fused"
        if extra_ops:
            return "fused"
        if self.core in SOFTMAXES:
            return "softmax"
        if self.core in NORMS:
            return "norm"
        return "reduction"

    @property
    def variant(self) -> str:
        """Signature plus the non-op choices (dtype, rank, keepdim, naming style): the unit of repetition."""
        return f"{self.signature}|{self.dtype}|{len(self.shape)}|{int(self.keepdim)}|{self.style % 3}"

    @property
    def signature(self) -> str:
        """Canonical op combination: family, core and op names in order (no shapes, dtypes, params)."""
        parts = [self.family]
        if self.family == "matmul":
            parts.append("linear" if self.linear else "mm")
        if self.bias:
            parts.append(f"bias_{self.bias}")
        if self.residual:
            parts.append("residual")
        parts += [o.name for o in self.pre]
        if self.core:
            parts.append(f"{self.family}_{self.core}" + ("_affine" if self.core in NORMS and self.affine else ""))
        parts += [o.name for o in self.post]
        return ">".join(parts)


def is_heldout(signature: str, seed: int, fraction: float) -> bool:
    """Deterministic held-out membership of a *combination* (only multi-op signatures are eligible).

    Single primitives stay in train so the held-out split tests composition, not unseen primitives.
    """
    if fraction <= 0 or signature.count(">") < 2:
        return False
    h = int(hashlib.sha256(f"{seed}:{signature}".encode()).hexdigest()[:8], 16)
    return (h % 10_000) < fraction * 10_000


# -- sampling -----------------------------------------------------------------------------------


def _chain(rng: random.Random, n: int, pool: list[str]) -> tuple[Op, ...]:
    """A chain of n pointwise ops without silly repeats (exp after exp overflows, relu twice is a no-op)."""
    ops: list[Op] = []
    for _ in range(n):
        choices = [p for p in pool if not ops or p != ops[-1].name]
        if any(o.name in ("exp", "softplus") for o in ops):
            choices = [p for p in choices if p not in ("exp", "softplus", "square")]
        ops.append(sample_op(rng, rng.choice(choices)))
    return tuple(ops)


def _rows(rng: random.Random) -> int:
    return rng.choice([4, 8, 12, 16, 24, 32, 48, 64])


def _cols(rng: random.Random) -> int:
    return rng.choice([16, 32, 48, 64, 96, 100, 128, 160, 200, 256])


def _dtype(rng: random.Random, allow_half: bool, single_op: bool) -> str:
    if not allow_half:
        return "float32"
    r = rng.random()
    if r < 0.12:
        return "float16"
    if r < 0.16 and single_op:
        return "bfloat16"
    return "float32"


def sample_flat(rng: random.Random, kind: str, half: bool) -> Spec:
    rank = rng.choice([1, 2, 2, 3])
    shape = {1: (rng.choice([256, 1000, 1024, 2048, 4096]),), 2: (_rows(rng), _cols(rng)),
             3: (rng.choice([2, 4]), _rows(rng), _cols(rng))}[rank]
    if kind == "activation":
        pre = _chain(rng, 1, ACTIVATIONS)
        return Spec("flat", shape, _dtype(rng, half, True), pre=pre, style=rng.randrange(1 << 16))
    if kind == "broadcast":
        shape = (_rows(rng), _cols(rng))
        post = _chain(rng, rng.choice([0, 1, 1, 2]), ACTIVATIONS + ARITHS)
        op = sample_op(rng, rng.choice(["add", "mul", "add", "sub"]))
        bias = rng.choice(["row", "col"])
        # A row bias is an fp32 parameter: a half input would be promoted to fp32 by the reference.
        dtype = _dtype(rng, half and bias == "col", not post)
        return Spec("flat", shape, dtype, pre=(op,), post=post, bias=bias, style=rng.randrange(1 << 16))
    n = rng.choice([2, 2, 3, 3, 4])
    pool = ACTIVATIONS + ARITHS + ARITHS
    ops = list(_chain(rng, n, pool))
    binary = rng.random() < 0.5
    if binary:
        ops.insert(rng.randrange(len(ops) + 1), sample_op(rng, rng.choice(BINARIES)))
    return Spec("flat", shape, _dtype(rng, half, False), pre=tuple(ops), binary_input=binary,
                style=rng.randrange(1 << 16))


def sample_row(rng: random.Random, core: str, fused: bool, half: bool) -> Spec:
    shape = (_rows(rng), _cols(rng))
    pre: tuple[Op, ...] = ()
    post: tuple[Op, ...] = ()
    residual = False
    if fused:
        choice = rng.random()
        if core in NORMS:
            residual = choice < 0.5
            post = _chain(rng, rng.choice([0, 1]) if residual else 1, EPILOGUES)
        elif core in SOFTMAXES:
            pre = _chain(rng, 1, ["scale", "add_scalar", "tanh", "scale"]) if choice < 0.7 else ()
            residual = not pre
        else:  # reductions: activation before reducing, e.g. sum(relu(x))
            pre = _chain(rng, rng.choice([1, 1, 2]), ACTIVATIONS + ["abs", "square", "scale"])
    return Spec("row", shape, _dtype(rng, half and core not in ("layernorm",), False), pre=pre, core=core,
                post=post, residual=residual, keepdim=rng.random() < 0.3, affine=rng.random() < 0.8,
                eps=rng.choice([1e-5, 1e-6, 1e-5]), style=rng.randrange(1 << 16))


def sample_col(rng: random.Random, fused: bool) -> Spec:
    pre = _chain(rng, 1, ACTIVATIONS + ["abs", "square"]) if fused else ()
    return Spec("col", (_rows(rng), _cols(rng)), pre=pre, core=rng.choice(ROW_REDUCTIONS),
                keepdim=rng.random() < 0.3, style=rng.randrange(1 << 16))


def sample_matmul(rng: random.Random, fused: bool) -> Spec:
    m, k, n = (rng.choice([16, 24, 32, 48, 64]) for _ in range(3))
    linear = rng.random() < 0.5
    bias = "bias" if (linear and rng.random() < 0.8) or (not linear and rng.random() < 0.3) else None
    post = _chain(rng, rng.choice([1, 1, 2]), EPILOGUES) if fused else ()
    return Spec("matmul", (m, k), n=n, linear=linear, bias=bias, post=post, style=rng.randrange(1 << 16))


# Relative weights of what gets drawn; tuned so every op kind gets a fair share of the corpus.
KIND_WEIGHTS = {
    "elementwise": 3, "activation": 2, "broadcast": 2, "reduction": 2, "softmax": 2, "norm": 2, "matmul": 2,
    "fused": 4,
}


def sample_spec(rng: random.Random, kinds: tuple[str, ...] = OP_KINDS, half: bool = True) -> Spec:
    """Draw one spec; `kinds` restricts the op kinds (all by default)."""
    spec = _sample_spec(rng, kinds, half)
    return spec if spec.dtype == "float32" or _half_safe(spec) else replace(spec, dtype="float32")


def _half_safe(spec: Spec) -> bool:
    """Half precision only where the reference stays in half and does not overflow: fp32 parameters
    (norm weights, a row bias) would promote the reference's output, and exp-like ops overflow fp16."""
    names = {o.name for o in spec.pre + spec.post}
    return not (names & {"exp", "softplus", "square"}) and spec.core not in NORMS and spec.bias != "row"


def _sample_spec(rng: random.Random, kinds: tuple[str, ...], half: bool) -> Spec:
    weights = [KIND_WEIGHTS.get(k, 1) for k in kinds]
    kind = rng.choices(list(kinds), weights)[0]
    if kind in ("elementwise", "activation", "broadcast"):
        return sample_flat(rng, kind, half)
    if kind == "reduction":
        return sample_col(rng, False) if rng.random() < 0.35 else sample_row(rng, rng.choice(ROW_REDUCTIONS), False, half)
    if kind == "softmax":
        return sample_row(rng, rng.choice(SOFTMAXES), False, half)
    if kind == "norm":
        return sample_row(rng, rng.choice(NORMS), False, half)
    if kind == "matmul":
        return sample_matmul(rng, False)
    # fused: compositions across families
    r = rng.random()
    if r < 0.3:
        return sample_matmul(rng, True)
    if r < 0.55:
        return sample_row(rng, rng.choice(NORMS), True, half)
    if r < 0.8:
        return sample_row(rng, rng.choice(SOFTMAXES), True, half)
    if r < 0.92:
        return sample_row(rng, rng.choice(ROW_REDUCTIONS), True, half)
    return sample_col(rng, True)
