"""Static rules on ways around the judge rather than through a kernel: patching torch, the harness or the
Model (monkeypatch), reusing the reference Model, imports outside the allowlist (OS, process, network,
reflection, dynamic code), threads, side streams and processes, patched timers, and outputs cached across
calls.

Apart from the other rule bodies because these look at the whole module for reach outside the candidate's own
kernels, not at forward's work (`rewards.rules.forward_work`) or inside jit bodies
(`rewards.rules.kernel_bodies`). Same contract: `Context` in, `(message, line[, fatal])` out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from rewards.rules.context import MODELNEW, Context, is_dunder, line_of, rule, under
from rewards.rules.lists import (
    ALLOWED_DUNDERS,
    ALLOWED_IMPORT_ROOTS,
    ALLOWED_MODULES,
    BUFFER_PROTOCOL_NAMES,
    ESCAPE_ATTRS,
    ESCAPE_MODULES,
    FORBIDDEN_BUILTINS,
    FORBIDDEN_QUALIFIED,
    FRAME_ATTRS,
    STREAM_QUALIFIED,
    TIMING_QUALIFIED,
    TORCH_ALLOWED,
)

Found = Iterator[tuple]


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
