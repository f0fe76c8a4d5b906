"""Static rules on whether forward's work is the candidate's Triton kernels: a `ModelNew` to run, a
`@triton.jit` kernel that forward actually launches, no torch op computing on the forward path, and no
try/except that would fall back to torch when a kernel fails.

Apart from the other rule bodies because these read forward's call graph for what does the work; the rules on
ways around the judge are `rewards.rules.judge_evasion`, those on what a jit body may hold
`rewards.rules.kernel_bodies`. Each check takes the shared `Context` (`rewards.rules.context`) and yields
`(message, line)` or `(message, line, fatal)`; `rewards.rules.apply` imports the three rule modules in this
order (forward_work, judge_evasion, kernel_bodies), which is the order the rules run and report in.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from rewards.rules.context import Context, is_tensor, line_of, rule, under
from rewards.rules.lists import (
    FOREIGN_KERNELS,
    MAPPING_METHODS,
    NUMPY_SCALAR_TYPES,
    TENSOR_METHODS_ALLOWED,
    TENSOR_METHODS_DENIED,
    TORCH_ALLOWED,
    TORCH_DTYPES,
)

Found = Iterator[tuple]


@rule("no_modelnew", "The harness instantiates ModelNew; without it there is nothing to run or compare.")
def _no_modelnew(ctx: Context) -> Found:
    if not ctx.modelnew_bound:
        yield "no top-level `class ModelNew` defined", None


@rule("no_triton_kernel", "The task is to write a Triton kernel; a candidate without @triton.jit is plain PyTorch.")
def _no_triton_kernel(ctx: Context) -> Found:
    if not ctx.kernels:
        yield "no function decorated with @triton.jit (or triton.autotune/heuristics + jit)", None


def _launched_kernels(ctx: Context, nodes: Iterator[ast.AST]) -> set[str]:
    """Kernels launched as `kernel[grid](...)` (also `wrap_triton(kernel)[grid](...)`, `kernel.run(...)`)."""
    found: set[str] = set()
    for n in nodes:
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Subscript):
            base = f.value
            if isinstance(base, ast.Call) and base.args:  # wrap_triton(kernel)[grid](...)
                base = base.args[0]
            if isinstance(base, ast.Name) and base.id in ctx.kernels:
                found.add(base.id)
        elif (isinstance(f, ast.Attribute) and f.attr == "run" and isinstance(f.value, ast.Name)
              and f.value.id in ctx.kernels):
            found.add(f.value.id)
    return found


@rule("kernel_not_launched", "A kernel that forward never launches is decoration next to the real (torch) work; "
      "advisory here, the runtime launch record decides.", fatal=False)
def _kernel_not_launched(ctx: Context) -> Found:
    if not ctx.kernels:
        return
    if ctx.modelnew is None:  # no_modelnew already fails; only ask that something launches somewhere
        if not _launched_kernels(ctx, ast.walk(ctx.tree)):
            yield f"kernels {sorted(ctx.kernels)} are defined but never launched as kernel[grid](...)", None
        return
    if not _launched_kernels(ctx, (n for _, n in ctx.walk_reachable())):
        where = "ModelNew.forward" if ctx.reachable else "ModelNew (it has no forward)"
        yield (f"no kernel among {sorted(ctx.kernels)} is launched as kernel[grid](...) from {where} "
               "or a helper it calls"), line_of(ctx.modelnew)


def _torch_call_denied(q: str) -> str | None:
    """Why a resolved call on the forward path is a compute fallback, or None when it is plumbing."""
    if under(q, ("torch.nn.functional",)):
        return "torch.nn.functional op"
    if under(q, FOREIGN_KERNELS):
        return "library kernel, not the candidate's own"
    if q == "torch" or q.startswith("torch."):
        if q in TORCH_ALLOWED or under(q, ("torch.cuda.Event",)):
            return None
        parts = q.split(".")
        if len(parts) == 2 and parts[1] in TORCH_DTYPES:
            return None
        if len(parts) == 3 and parts[1] == "Tensor" and parts[2] in TENSOR_METHODS_ALLOWED:
            return None
        if q in ("torch.compile", "torch.jit.script", "torch.jit.trace") or under(q, ("torch._inductor", "torch._dynamo")):
            return "compiler-generated code, not the candidate's kernel"
        return "PyTorch compute op"
    if q == "numpy" or q.startswith("numpy."):
        return "numpy compute"
    return None


def _numpy_scalar_of_plain_values(ctx: Context, names: set[str], call: ast.Call, q: str) -> bool:
    """`np.int64(n + 255)`: a numpy scalar built from values no tensor flows into directly. Scalar arithmetic
    on Python ints (a launch grid) computes nothing over tensor memory; `np.int64(x)` of a tensor does (and
    reaches its memory through `__array__`, which the runtime record refuses as well)."""
    if not (q.startswith("numpy.") and q.split(".", 1)[1] in NUMPY_SCALAR_TYPES):
        return False
    values = [*call.args, *(kw.value for kw in call.keywords)]
    # A sequence makes an array (`np.float32([v for v in x])` runs over elements): only single values pass.
    sequences = (ast.List, ast.Tuple, ast.Set, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.Starred)
    return not any(is_tensor(ctx, names, v) or isinstance(v, sequences) for v in values)


@rule("torch_compute_fallback",
      "PyTorch/numpy ops, tensor arithmetic or nn submodules on the forward path would do the work instead "
      "of the kernel.")
def _torch_compute_fallback(ctx: Context) -> Found:
    for fn, n in ctx.walk_reachable():
        names = ctx.tensors.get(fn, set())
        if isinstance(n, ast.Call):
            f = n.func
            q = ctx.qual(f)
            if q in ctx.own_ops or (q is not None and _numpy_scalar_of_plain_values(ctx, names, n, q)):
                continue  # the candidate's own operator (its body is followed), or np.int64(n) on Python ints
            if q is not None:
                why = _torch_call_denied(q)
                if why:
                    yield f"`{q}` on the forward path ({why})", line_of(n)
                continue
            if isinstance(f, ast.Attribute):
                recv_self = isinstance(f.value, ast.Name) and f.value.id == "self"
                if recv_self and f.attr in ctx.compute_attrs:
                    yield f"calls nn submodule `self.{f.attr}` (a PyTorch layer does the work)", line_of(n)
                elif (isinstance(f.value, ast.Attribute) and isinstance(f.value.value, ast.Name)
                      and f.value.value.id == "self" and f.value.attr in ctx.compute_attrs
                      and f.attr in ("forward", "__call__")):
                    yield f"calls nn submodule `self.{f.value.attr}.{f.attr}`", line_of(n)
                elif ((is_tensor(ctx, names, f.value) and f.attr not in TENSOR_METHODS_ALLOWED
                       and f.attr not in MAPPING_METHODS)
                      or f.attr.rstrip("_") in TENSOR_METHODS_DENIED or f.attr in TENSOR_METHODS_DENIED):
                    yield f"tensor method `.{f.attr}()` on the forward path (PyTorch compute)", line_of(n)
        elif isinstance(n, (ast.Attribute, ast.Name)) and isinstance(n.ctx, ast.Load):
            q = ctx.qual(n)  # a compute op passed around as a value: `f = torch.softmax`, map(F.relu, ...)
            if q and (q.startswith("torch.nn.functional.") or q in ("torch.compile",)):
                yield f"`{q}` referenced on the forward path", line_of(n)
        elif isinstance(n, ast.BinOp):
            if isinstance(n.op, ast.MatMult):
                yield "`@` matrix multiply on the forward path (PyTorch matmul)", line_of(n)
            elif is_tensor(ctx, names, n.left) or is_tensor(ctx, names, n.right):
                yield f"tensor arithmetic `{type(n.op).__name__}` on the forward path (PyTorch compute)", line_of(n)
        elif isinstance(n, ast.AugAssign) and (is_tensor(ctx, names, n.target) or is_tensor(ctx, names, n.value)):
            yield f"in-place tensor arithmetic `{type(n.op).__name__}=` on the forward path", line_of(n)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.Invert)) and is_tensor(ctx, names, n.operand):
            yield "tensor negation/inversion on the forward path (PyTorch compute)", line_of(n)
        elif isinstance(n, ast.Compare) and not all(isinstance(o, (ast.Is, ast.IsNot, ast.In, ast.NotIn)) for o in n.ops):
            if any(is_tensor(ctx, names, x) for x in [n.left, *n.comparators]):
                yield "elementwise tensor comparison on the forward path (PyTorch compute)", line_of(n)
        elif (isinstance(n, ast.For) and isinstance(n.iter, ast.Attribute) and isinstance(n.iter.value, ast.Name)
              and n.iter.value.id == "self" and n.iter.attr in ctx.compute_attrs):
            yield f"iterates nn submodules in `self.{n.iter.attr}`", line_of(n)
    for n in ast.walk(ctx.tree):  # compilers anywhere (decorators, module level) generate the kernel for you
        q = ctx.qual(n) if isinstance(n, ast.Attribute) else None
        if q and (q in ("torch.compile", "torch.jit.script", "torch.jit.trace")
                  or under(q, ("torch._inductor", "torch._dynamo"))):
            yield f"`{q}` generates the kernel instead of the candidate", line_of(n)


_TRITON_RETRY_ERRORS = ("OutOfResources", "CompilationError", "PTXASError")


def _only_triton_retry(n: ast.Try) -> bool:
    """`except OutOfResources: relaunch with smaller blocks` is tuning, not a torch fallback."""
    for h in n.handlers:
        types_ = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        for t in types_:
            name = t.attr if isinstance(t, ast.Attribute) else t.id if isinstance(t, ast.Name) else ""
            if name not in _TRITON_RETRY_ERRORS:
                return False
    return bool(n.handlers)


@rule("try_except_fallback", "A try/except on the forward path lets a failing kernel fall back to torch silently.")
def _try_except_fallback(ctx: Context) -> Found:
    for _, n in ctx.walk_reachable():
        if isinstance(n, (ast.Try, getattr(ast, "TryStar", ast.Try))):
            if _only_triton_retry(n):
                yield "try/except around a launch (retrying on a Triton resource error)", line_of(n), False
            else:
                yield "try/except on the forward path (a failing kernel must fail, not fall back)", line_of(n)
        elif isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                e = item.context_expr
                target = e.func if isinstance(e, ast.Call) else e
                q = ctx.qual(target) or (target.id if isinstance(target, ast.Name) else "")
                if q.endswith("suppress"):
                    yield "contextlib.suppress on the forward path swallows kernel failures", line_of(n)
