"""The bodies of the static rules (registered in `rewards.rules.context.RULES`; see `rewards.rules.apply` for the fatal table).

Each check takes the shared `Context` and yields `(message, line)` or `(message, line, fatal)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from rewards.rules.context import MODELNEW, Context, is_dunder, is_tensor, line_of, rule, under
from rewards.rules.lists import (
    ALLOWED_DUNDERS,
    ALLOWED_IMPORT_ROOTS,
    ALLOWED_MODULES,
    BUFFER_PROTOCOL_NAMES,
    ESCAPE_ATTRS,
    ESCAPE_MODULES,
    FORBIDDEN_BUILTINS,
    FORBIDDEN_QUALIFIED,
    FOREIGN_KERNELS,
    FRAME_ATTRS,
    MAPPING_METHODS,
    NUMPY_SCALAR_TYPES,
    STREAM_QUALIFIED,
    TENSOR_METHODS_ALLOWED,
    TENSOR_METHODS_DENIED,
    TIMING_QUALIFIED,
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


_PATCH_HOOKS = ("register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
                "register_module_forward_hook", "register_module_forward_pre_hook")


def _patch_target(ctx: Context, node: ast.AST) -> str | None:
    """Name the patched object when `node` (an assignment/del target) reaches into a module or Model."""
    if isinstance(node, ast.Attribute):
        if is_dunder(node.attr) and node.attr not in ALLOWED_DUNDERS:
            return f".{node.attr}"
        root = node.value
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(root, ast.Name) and (root.id in ctx.aliases or root.id in ctx.reference_names):
            return ctx.qual(node) or ast.unparse(node)
    elif isinstance(node, ast.Subscript):
        base = node.value
        if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id in ("globals", "vars", "locals"):
            return f"{base.func.id}()[...]"
        return _patch_target(ctx, base) if isinstance(base, ast.Attribute) else (
            ctx.qual(base) if isinstance(base, ast.Name) and base.id in ctx.aliases else None)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            t = _patch_target(ctx, elt)
            if t:
                return t
    return None


@rule("monkeypatch",
      "Patching torch/triton/builtins/Model (or returning a Tensor subclass) can fake the comparison or timing.")
def _monkeypatch(ctx: Context) -> Found:
    for n in ast.walk(ctx.tree):
        targets: list[ast.AST] = []
        if isinstance(n, ast.Assign):
            targets = list(n.targets)
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)):
            targets = [n.target]
        elif isinstance(n, ast.Delete):
            targets = list(n.targets)
        for t in targets:
            what = _patch_target(ctx, t)
            if what and what.endswith(".allow_tf32") and what.startswith("torch.backends."):
                continue  # a precision flag of the candidate's own process, not the judge's
            if what:
                yield f"assigns to `{what}` (patching shared modules or the reference)", line_of(n)
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and n.args:
                obj = n.args[0]
                root = obj
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and (root.id in ctx.aliases or root.id in ctx.reference_names):
                    yield f"{f.id}() on `{ast.unparse(obj)}` (patching a module)", line_of(n)
                elif len(n.args) > 1 and isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str) \
                        and is_dunder(n.args[1].value):
                    yield f"{f.id}() of dunder `{n.args[1].value}`", line_of(n)
            elif isinstance(f, ast.Attribute) and (f.attr in _PATCH_HOOKS or f.attr == "__setattr__"):
                yield f"`.{f.attr}(...)` changes module behaviour behind forward's back", line_of(n)
            elif isinstance(f, ast.Attribute) and f.attr == "update" and isinstance(f.value, ast.Call) \
                    and isinstance(f.value.func, ast.Name) and f.value.func.id in ("globals", "vars", "locals"):
                yield f"{f.value.func.id}().update(...) rewrites a namespace", line_of(n)
        elif isinstance(n, ast.ClassDef):
            for b in n.bases:
                q = ctx.qual(b) or ""
                if q in ("torch.Tensor", "torch._C.TensorBase", "torch._C._TensorBase"):
                    yield f"class {n.name} subclasses torch.Tensor (can override comparison ops)", line_of(n)
            for m in n.body:
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name in (
                        "__torch_function__", "__torch_dispatch__"):
                    yield f"{n.name}.{m.name} intercepts torch ops (can fake comparisons)", line_of(m)
        elif isinstance(n, ast.Global):
            for name in n.names:
                if name in ctx.aliases or name in ctx.reference_names:
                    yield f"`global {name}` rebinds a module or the reference", line_of(n)


@rule("subclass_reference", "Inheriting from, instantiating or calling the reference Model is not a solution.")
def _subclass_reference(ctx: Context) -> Found:
    refs = ctx.reference_names
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.ClassDef):
            for b in n.bases:
                name = b.id if isinstance(b, ast.Name) else (b.attr if isinstance(b, ast.Attribute) else None)
                if name in refs:
                    yield f"class {n.name} inherits from the reference `{name}`", line_of(n)
    scope: list[ast.AST] = list(ctx.reachable)
    if ctx.modelnew is not None:
        scope.append(ctx.modelnew)
    defined = {c for c in ctx.classes if c in refs}
    lines: set[int | None] = set()
    for root in scope:
        for n in ctx.walk(root):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in refs:
                lines.add(line_of(n))
                yield f"uses the reference `{n.id}` inside {MODELNEW}", line_of(n)
    for n in ast.walk(ctx.tree):  # the reference from elsewhere (not the candidate's own copy)
        if (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in refs and n.id not in defined
                and line_of(n) not in lines):
            yield f"uses the reference `{n.id}`", line_of(n)


@rule("forbidden_import",
      "OS, process, network, reflection and dynamic-code access let a candidate escape or inspect the harness.")
def _forbidden_import(ctx: Context) -> Found:
    # `torch._C._cuda_getCurrentRawStream` is allowed as a whole: its inner `torch._C` node is not a use.
    inner = {id(n.value) for n in ast.walk(ctx.tree) if isinstance(n, ast.Attribute) and ctx.qual(n) in TORCH_ALLOWED}
    inner |= _own_op_chain_nodes(ctx)
    for n in ast.walk(ctx.tree):
        if id(n) in inner:
            continue
        if isinstance(n, ast.Import):
            for a in n.names:
                yield from _check_module(a.name, n)
        elif isinstance(n, ast.ImportFrom):
            mod = n.module or ""
            if n.level:
                yield f"relative import `from {'.' * n.level}{mod} import ...`", line_of(n)
                continue
            for a in n.names:
                if a.name == "*":
                    yield f"`from {mod} import *` hides where names come from", line_of(n)
                yield from _check_module(f"{mod}.{a.name}" if a.name != "*" else mod, n)
        elif isinstance(n, ast.Name) and n.id in FORBIDDEN_BUILTINS and n.id not in ctx.aliases:
            yield f"uses builtin `{n.id}`", line_of(n)
        elif isinstance(n, ast.Name) and n.id == "getattr":  # literal-name getattr was rewritten to `x.name`
            yield "getattr() with a computed name (defeats the static rules)", line_of(n)
        elif isinstance(n, ast.Attribute):
            if is_dunder(n.attr) and n.attr not in ALLOWED_DUNDERS:
                yield f"accesses dunder attribute `{n.attr}`", line_of(n)
            elif n.attr.lstrip("_") in ESCAPE_ATTRS:
                yield f"reaches `.{n.attr}` (an escape module held as an attribute)", line_of(n)
            elif n.attr in FRAME_ATTRS:
                yield f"reaches `.{n.attr}` (frames and code objects lead into the harness)", line_of(n)
            q = ctx.qual(n)
            if q and under(q, FORBIDDEN_QUALIFIED) and q not in TORCH_ALLOWED:
                yield f"uses `{q}`", line_of(n)
            elif q and isinstance(n.ctx, ast.Load) and q not in TORCH_ALLOWED:
                bad = _module_outside_allowlist(q)
                if bad:
                    yield f"`{q}` reaches module `{bad}` (not on the module allowlist)", line_of(n)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and (
                n.value in BUFFER_PROTOCOL_NAMES or n.value in FRAME_ATTRS):
            yield f"names `{n.value}` in a string (buffer protocols and frames reach raw memory and the harness)", line_of(n)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in BUFFER_PROTOCOL_NAMES:
            yield f"defines `{n.name}` (a buffer protocol hands raw memory to numpy)", line_of(n)
        elif isinstance(n, ast.Name) and n.id in BUFFER_PROTOCOL_NAMES:
            yield f"binds `{n.id}` (a buffer protocol hands raw memory to numpy)", line_of(n)
        elif isinstance(n, ast.Call) and any(kw.arg in ("assigned", "updated") for kw in n.keywords) and (
                (ctx.qual(n.func) or "").endswith(("wraps", "update_wrapper"))):
            yield "functools.wraps with chosen attribute names (a getattr/setattr by data)", line_of(n)
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("setattr", "delattr")
              and (len(n.args) < 2 or not (isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str)))):
            yield f"{n.func.id}() with a computed name (defeats the static rules)", line_of(n)


def _own_op_chain_nodes(ctx: Context) -> set[int]:
    """ids of the nodes of every `torch.ops.<ns>.<name>[.default]` chain naming an operator the candidate
    registered itself (`torch.ops`, `torch.ops.<ns>` inside it included): calling one's own triton_op the
    documented way reaches no module. Any other `torch.ops` use stays forbidden."""
    ids: set[int] = set()
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.Attribute) and ctx.qual(n) in ctx.own_ops:
            node: ast.AST = n
            while isinstance(node, ast.Attribute):
                ids.add(id(node))
                node = node.value
    return ids


def _module_allowed(name: str) -> bool:
    return name in ALLOWED_MODULES or any(p.endswith(".*") and name.startswith(p[:-1]) for p in ALLOWED_MODULES)


_RESOLVED: dict[str, str | None] = {}


def _module_outside_allowlist(qual: str) -> str | None:
    """Follow `qual` (e.g. `torch.serialization.load`) on the real modules; the first module reached that is
    not allowlisted, or None. Only allowlisted roots are imported to follow the chain."""
    if qual in _RESOLVED:
        return _RESOLVED[qual]
    import sys
    import types

    parts = qual.split(".")
    obj = sys.modules.get(parts[0])
    if obj is None and parts[0] in ALLOWED_IMPORT_ROOTS:
        import importlib

        try:  # the same answer in every process: resolve on the real module, importing it once
            obj = importlib.import_module(parts[0])
        except Exception:
            obj = None
    bad = None
    if obj is not None and len(parts) > 1:
        for i, attr in enumerate(parts[1:], start=1):
            try:
                obj = getattr(obj, attr)
            except Exception:
                sub = sys.modules.get(".".join(parts[: i + 1]))
                if sub is None:
                    break
                obj = sub
            if isinstance(obj, types.ModuleType) and not _module_allowed(obj.__name__):
                bad = obj.__name__
                break
    if len(_RESOLVED) < 100_000:
        _RESOLVED[qual] = bad
    return bad


def _check_module(name: str, node: ast.AST) -> Found:
    root = name.split(".")[0]
    if root in ESCAPE_MODULES:
        yield f"imports `{name}` (system/process/reflection access)", line_of(node)
    elif root not in ALLOWED_IMPORT_ROOTS:
        yield f"imports `{name}` (not on the allowlist: {', '.join(sorted(ALLOWED_IMPORT_ROOTS))})", line_of(node)
    elif under(name, FORBIDDEN_QUALIFIED) and name not in TORCH_ALLOWED:
        yield f"imports `{name}` (native code, pickles or disk access)", line_of(node)


@rule("threads_streams", "Side streams, threads and processes move work outside the timed, synchronised region.")
def _threads_streams(ctx: Context) -> Found:
    for n in ast.walk(ctx.tree):
        if isinstance(n, ast.Attribute | ast.Name) and isinstance(getattr(n, "ctx", None), ast.Load):
            q = ctx.qual(n)
            if q and under(q, STREAM_QUALIFIED):
                yield f"uses `{q}`", line_of(n)
        elif isinstance(n, ast.Import | ast.ImportFrom):
            mods = [a.name for a in n.names] if isinstance(n, ast.Import) else [n.module or ""]
            for m in mods:
                if under(m, STREAM_QUALIFIED):
                    yield f"imports `{m}`", line_of(n)


@rule("timing_tamper", "Patching timers or events makes speedups lie (fatal); plain use of them is only suspicious.",
      fatal=False)
def _timing_tamper(ctx: Context) -> Found:
    for n in ast.walk(ctx.tree):
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            q = ctx.qual(t) if isinstance(t, ast.Attribute) else None
            if q and under(q, TIMING_QUALIFIED):
                yield f"assigns to timer `{q}`", line_of(n), True
        if isinstance(n, ast.Attribute | ast.Name) and isinstance(getattr(n, "ctx", None), ast.Load):
            q = ctx.qual(n)
            if q and under(q, TIMING_QUALIFIED) and q not in ("torch.cuda.synchronize",):
                yield f"uses timer `{q}` (candidates have no reason to time themselves)", line_of(n), False


@rule("caching_outputs",
      "Keeping results across forward calls can replay a stale answer; heuristic, the runtime check with fresh "
      "inputs is the real defence.", fatal=False)
def _caching_outputs(ctx: Context) -> Found:
    for fn, n in ctx.walk_reachable():
        if getattr(fn, "name", "") == "__init__":
            continue
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                yield f"forward stores `self.{t.attr}` across calls", line_of(n)
        if isinstance(n, (ast.Global, ast.Nonlocal)):
            yield f"forward path declares `{'global' if isinstance(n, ast.Global) else 'nonlocal'} " \
                  f"{', '.join(n.names)}` (state across calls)", line_of(n)
    module_names = {t.id for n in ctx.tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    module_names -= set(ctx.aliases) | set(ctx.kernels)
    for _, n in ctx.walk_reachable():
        if isinstance(n, (ast.Assign, ast.AugAssign)):
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                root = t
                while isinstance(root, (ast.Subscript, ast.Attribute)):
                    root = root.value
                if root is not t and isinstance(root, ast.Name) and root.id in module_names:
                    yield f"forward path writes into module-level `{root.id}` (state across calls)", line_of(n)
        elif isinstance(n, ast.Return) and n.value is not None:
            root = n.value
            while isinstance(root, (ast.Subscript, ast.Attribute, ast.Call)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id in module_names:
                yield f"forward path returns module-level `{root.id}` (a precomputed answer?)", line_of(n)
    for fn in ctx.reachable:
        for d in getattr(fn, "decorator_list", ()):
            target = d.func if isinstance(d, ast.Call) else d
            q = ctx.qual(target) or ""
            if q.rsplit(".", 1)[-1] in ("lru_cache", "cache", "cached_property"):
                yield f"`{getattr(fn, 'name', '?')}` is memoised with `{q}`", line_of(d)


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
