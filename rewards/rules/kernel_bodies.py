"""Static rules on what a `@triton.jit` body may hold: triton.language and other jit functions only (no
numpy, torch or plain Python helpers, which the CPU interpreter would run and a GPU would refuse), and no
Python `and`/`or`/`not` on block values (the GPU computes them element-wise, the interpreter truth-tests the
whole block: CPU and GPU disagree).

Apart from the other rule bodies because they read inside kernels, as the compiler would, where the others
read the module around them (`rewards.rules.forward_work`, `rewards.rules.judge_evasion`). Same contract:
`Context` in, `(message, line[, fatal])` out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from rewards.rules.context import Context, line_of, rule

Found = Iterator[tuple]


_INTERPRETER_INTERNALS = frozenset({"handle", "data", "tensor_shape", "np", "numpy"})


@rule("non_triton_in_kernel",
      "A jit body may use only triton.language (and other jit functions): under the CPU interpreter it is "
      "plain Python, so numpy/torch or a Python helper there would compute outside Triton and fail on a GPU.")
def _non_triton_in_kernel(ctx: Context) -> Found:
    for k in ctx.kernel_defs:
        if not isinstance(k, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for n in (m for stmt in k.body for m in ast.walk(stmt)):  # the body, not the decorators
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                q = ctx.aliases.get(n.id)
                if q is not None and q.split(".")[0] not in ("triton", "math"):
                    yield f"kernel `{k.name}` uses `{n.id}` ({q}) inside its jit body", line_of(n)
                elif n.id in ctx.functions and n.id not in ctx.kernels:
                    yield f"kernel `{k.name}` calls plain Python function `{n.id}` (not @triton.jit)", line_of(n)
                elif n.id in ctx.classes:
                    yield f"kernel `{k.name}` uses class `{n.id}` inside its jit body", line_of(n)
            elif isinstance(n, ast.Attribute) and n.attr in _INTERPRETER_INTERNALS:
                yield (f"kernel `{k.name}` reaches `.{n.attr}` (interpreter internals: numpy arrays that exist "
                       "only on the CPU interpreter)"), line_of(n)


# triton.language functions whose result is a block (a tensor with a shape), or carries one through
_TL_BLOCK_MAKERS = frozenset({
    "load", "arange", "zeros", "zeros_like", "full", "full_like", "where", "dot", "maximum", "minimum", "abs",
    "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "sigmoid", "softmax", "broadcast_to", "broadcast", "reshape",
    "view", "trans", "permute", "expand_dims", "cat", "join", "interleave", "clamp", "fma", "cumsum", "cumprod",
    "sort", "flip", "isnan", "isinf", "cast", "fdiv", "div_rn", "umulhi", "rand", "randn", "randint",
    "atomic_add", "atomic_max", "atomic_min", "atomic_cas", "atomic_xchg", "atomic_and", "atomic_or",
})


def _block_valued(e: ast.AST, tensors: set[str], tl_names: set[str]) -> bool:
    """Whether `e` evaluates to a Triton block inside a jit body: a `tl.load`/`tl.arange`/... result, a
    name bound to one, or arithmetic, comparisons, indexing and method calls over one. Parameters and
    constexprs are not blocks: `BLOCK > 16 and EVEN` is Python on Python values everywhere."""
    def rec(x: ast.AST) -> bool:
        if isinstance(x, ast.Name):
            return x.id in tensors
        if isinstance(x, ast.Call):
            f = x.func
            if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in tl_names
                    and f.attr in _TL_BLOCK_MAKERS):
                return True
            return isinstance(f, ast.Attribute) and rec(f.value)  # x.to(...), x.reshape(...)
        if isinstance(x, ast.BinOp):
            return rec(x.left) or rec(x.right)
        if isinstance(x, ast.Compare):
            return rec(x.left) or any(rec(c) for c in x.comparators)
        if isinstance(x, ast.UnaryOp):
            return rec(x.operand)
        if isinstance(x, ast.BoolOp):
            return any(rec(v) for v in x.values)
        if isinstance(x, (ast.Subscript, ast.Attribute)):
            return rec(x.value)
        if isinstance(x, ast.IfExp):
            return rec(x.body) or rec(x.orelse)
        return False

    return rec(e)


@rule("bool_op_on_tensors",
      "Python `and`/`or`/`not` on block values inside a jit body: the GPU compiler computes them element-wise, "
      "the CPU interpreter truth-tests the whole block, so CPU and GPU disagree; use `&`, `|`, `~`.")
def _bool_op_on_tensors(ctx: Context) -> Found:
    tl_names = {n for n, q in ctx.aliases.items() if q in ("triton.language", "triton.language.core")}
    for k in ctx.kernel_defs:
        if not isinstance(k, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = [m for stmt in k.body for m in ast.walk(stmt)]
        tensors: set[str] = set()
        for _ in range(3):  # names bound in a loop body can feed an earlier line on the next iteration
            for n in body:
                targets: list[ast.AST] = []
                if isinstance(n, ast.Assign):
                    targets, value = n.targets, n.value
                elif isinstance(n, (ast.AugAssign, ast.AnnAssign)) and n.value is not None:
                    targets, value = [n.target], n.value
                if targets and _block_valued(value, tensors, tl_names):
                    for t in targets:
                        tensors.update(x.id for x in ast.walk(t) if isinstance(x, ast.Name))
        for n in body:
            if isinstance(n, ast.BoolOp) and any(_block_valued(v, tensors, tl_names) for v in n.values):
                op = "and" if isinstance(n.op, ast.And) else "or"
                sym = "&" if op == "and" else "|"
                yield (f"kernel `{k.name}` applies Python `{op}` to tensor values: the GPU computes it element-wise, "
                       f"the CPU interpreter truth-tests the block (CPU and GPU disagree); use `{sym}` with "
                       "parenthesised operands"), line_of(n)
            elif isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not) and _block_valued(n.operand, tensors, tl_names):
                yield (f"kernel `{k.name}` applies Python `not` to a tensor value: CPU and GPU disagree; use `~` "
                       "(or `== 0`)"), line_of(n)
