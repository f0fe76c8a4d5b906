"""What the static rules share: the parsed `Context` and the rule registry (the allow/deny lists are
`rewards.rules.lists`).

The rule bodies live in `rewards.rules.forward_work`, `judge_evasion` and `kernel_bodies` (they import this
module); `rewards.rules.apply` runs them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from rewards.rules.lists import NN_NON_COMPUTE

_NON_TENSOR_RESULTS = frozenset({
    "size", "stride", "numel", "nelement", "dim", "ndimension", "is_contiguous", "data_ptr",
    "element_size", "storage_offset", "get_device", "is_floating_point", "item", "dim_order",
    "untyped_storage", "type",
})
MODELNEW = "ModelNew"
REFERENCE_NAMES = frozenset({"Model"})
_ENTRY_METHODS = ("forward", "__call__")
MAX_FINDINGS_PER_RULE = 8

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def under(qual: str, prefixes: Iterable[str]) -> bool:
    return any(qual == p or qual.startswith(p + ".") for p in prefixes)


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def bindings(node: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """(target, value) of every binding `node` makes: `a = b = v`, `a: T = v` and `(a := v)` alike.

    An annotated assignment is an assignment (`ModelNew: type[nn.Module] = _Impl` binds ModelNew); one
    without a value (`x: int`) binds nothing."""
    if isinstance(node, ast.Assign):
        return [(t, node.value) for t in node.targets]
    if isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
        return [(node.target, node.value)]
    return []


class GetattrToAttribute(ast.NodeTransformer):
    """Rewrite `getattr(x, "name"[, d])` as `x.name`: a literal getattr is just attribute access."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if (isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) in (2, 3)
                and not node.keywords and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str) and node.args[1].value.isidentifier()):
            return ast.copy_location(ast.Attribute(node.args[0], node.args[1].value, ast.Load()), node)
        return node


@dataclass
class Context:
    """Everything the rules share about one parsed candidate (built once, read by every rule)."""

    tree: ast.Module
    reference_names: frozenset[str] = REFERENCE_NAMES
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted module path
    kernels: dict[str, ast.AST] = field(default_factory=dict)  # kernel name -> its def (or the assign)
    kernel_defs: set[ast.AST] = field(default_factory=set)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    modelnew: ast.ClassDef | None = None
    modelnew_bound: bool = False
    compute_attrs: set[str] = field(default_factory=set)  # self.<attr> holding an nn compute module
    reachable: list[FuncNode] = field(default_factory=list)
    tensors: dict[ast.AST, set[str]] = field(default_factory=dict)  # func -> names known to be tensors
    # `torch.ops.<ns>.<name>` (and `.default`) of operators the candidate registers itself with
    # torch.library.triton_op/custom_op -> the function that implements it (None when not a module def)
    own_ops: dict[str, FuncNode | None] = field(default_factory=dict)

    # -- name resolution --
    def qual(self, node: ast.AST) -> str | None:
        """Dotted path of an attribute chain rooted at an imported name (`F.relu` -> torch.nn.functional.relu)."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return ".".join([self.aliases[node.id], *reversed(parts)])
        return None

    def methods(self, cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        return {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def walk(self, node: ast.AST) -> Iterator[ast.AST]:
        """ast.walk that does not enter @triton.jit bodies (tl.* code there is the point, not a fallback)."""
        stack = [node]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(c for c in ast.iter_child_nodes(n) if c not in self.kernel_defs)

    def walk_reachable(self) -> Iterator[tuple[FuncNode, ast.AST]]:
        for fn in self.reachable:
            body = fn.body if isinstance(fn.body, list) else [fn.body]
            for stmt in body:
                for n in self.walk(stmt):
                    yield fn, n


def build_context(tree: ast.Module, reference: str | None) -> Context:
    ctx = Context(tree=tree)
    if reference:
        try:
            ref_tree = ast.parse(reference)
            ref_classes = {n.name for n in ref_tree.body if isinstance(n, ast.ClassDef)}
            ctx.reference_names = REFERENCE_NAMES | ref_classes
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    ctx.aliases[a.asname] = a.name
                else:
                    root = a.name.split(".")[0]
                    ctx.aliases[root] = root
        elif isinstance(node, ast.ImportFrom):
            mod = ("." * node.level) + (node.module or "")
            for a in node.names:
                if a.name != "*":
                    ctx.aliases[a.asname or a.name] = f"{mod}.{a.name}"
    for _ in range(3):  # `F = torch.nn.functional`, `sm = F.softmax`: follow simple rebinding
        for node in ast.walk(tree):
            for t, value in bindings(node):
                q = ctx.qual(value)
                if q and isinstance(t, ast.Name) and t.id not in ctx.aliases:
                    ctx.aliases[t.id] = q
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            ctx.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            ctx.classes[node.name] = node
    # A helper class of the reference (e.g. TritonBench-G's `Cls.apply` entry points) that the candidate
    # defines itself is the candidate's own code; only `Model` always means the reference.
    ctx.reference_names = frozenset(n for n in ctx.reference_names if n in REFERENCE_NAMES or n not in ctx.classes)
    _find_kernels(ctx)
    _find_own_ops(ctx)
    _find_modelnew(ctx)
    _find_reachable(ctx)
    _infer_tensors(ctx)
    return ctx


def _is_triton_decorator(ctx: Context, deco: ast.AST) -> bool:
    target = deco.func if isinstance(deco, ast.Call) else deco
    q = ctx.qual(target) or ""
    return q.split(".")[0] == "triton" and q.rsplit(".", 1)[-1] in {"jit", "autotune", "heuristics"}


def _find_kernels(ctx: Context) -> None:
    for node in ast.walk(ctx.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            _is_triton_decorator(ctx, d) for d in node.decorator_list
        ):
            ctx.kernels[node.name] = node
            ctx.kernel_defs.add(node)
    for _ in range(2):  # `k = triton.jit(f)` and `k2 = k`
        for node in ast.walk(ctx.tree):
            pairs = bindings(node)
            if len(pairs) == 1 and isinstance(pairs[0][0], ast.Name) and not isinstance(node, ast.NamedExpr):
                target, v = pairs[0]
                is_kernel = (isinstance(v, ast.Call) and _is_triton_decorator(ctx, v.func if isinstance(
                    v.func, ast.Call) else v)) or (isinstance(v, ast.Name) and v.id in ctx.kernels)
                if is_kernel:
                    ctx.kernels.setdefault(target.id, node)
    for node in list(ctx.kernels.values()):  # a def wrapped later by `k = triton.jit(f)`
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            for a in node.value.args:
                if isinstance(a, ast.Name) and a.id in ctx.functions:
                    ctx.kernel_defs.add(ctx.functions[a.id])


# Operator registrations whose body is the candidate's Python function (run under the op record at runtime).
_OP_DEFINERS = frozenset({"torch.library.triton_op", "torch.library.custom_op"})
# Namespaces of operators torch ships, used when torch's own registry cannot be read.
_BUILTIN_OP_NAMESPACES = frozenset({"aten", "prim", "prims", "quantized", "_quantized", "profiler", "inductor",
                                    "higher_order", "c10d", "_c10d_functional", "mkldnn", "onednn", "fbgemm"})


def builtin_op_namespaces() -> frozenset[str]:
    """Namespaces torch itself registers operators in: a candidate's `triton_op("aten::add")` is not its own
    operator, and `torch.ops.aten.add` is torch's compute whatever the candidate registered."""
    global _BUILTIN_NS_CACHE
    if _BUILTIN_NS_CACHE is None:
        try:
            import torch

            names = torch._C._dispatch_get_all_op_names()
            _BUILTIN_NS_CACHE = _BUILTIN_OP_NAMESPACES | {n.split("::", 1)[0] for n in names if "::" in n}
        except Exception:
            _BUILTIN_NS_CACHE = _BUILTIN_OP_NAMESPACES
    return _BUILTIN_NS_CACHE


_BUILTIN_NS_CACHE: frozenset[str] | None = None


def _op_definition(ctx: Context, call: ast.AST) -> str | None:
    """`ns.name` when `call` is `triton_op("ns::name", ...)`/`custom_op("ns::name", ...)` with a literal name
    in a namespace of the candidate's own; None otherwise."""
    if not (isinstance(call, ast.Call) and ctx.qual(call.func) in _OP_DEFINERS and call.args):
        return None
    name = call.args[0]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    ns, sep, op = name.value.partition("::")
    if not (sep and ns.isidentifier() and op.isidentifier()) or ns in builtin_op_namespaces():
        return None
    return f"{ns}.{op}"


def _find_own_ops(ctx: Context) -> None:
    """Operators the candidate registers (`@triton_op("ns::name")` on a def, or `triton_op("ns::name", ...)(fn)`),
    so a call through `torch.ops.ns.name` is read as a call of that function, not as torch compute."""
    def add(op: str, fn: FuncNode | None) -> None:
        for q in (f"torch.ops.{op}", f"torch.ops.{op}.default"):
            ctx.own_ops[q] = fn

    for node in ast.walk(ctx.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list:
                op = _op_definition(ctx, d)
                if op:
                    add(op, node)
        elif isinstance(node, ast.Call) and node.args:
            curried = _op_definition(ctx, node.func)  # triton_op("ns::name", ...)(fn)
            direct = _op_definition(ctx, node) if len(node.args) > 1 else None  # custom_op("ns::name", fn)
            if curried or direct:
                target = node.args[0] if curried else node.args[1]
                add(curried or direct or "", ctx.functions.get(target.id) if isinstance(target, ast.Name) else None)


def _find_modelnew(ctx: Context) -> None:
    for node in ctx.tree.body:
        if isinstance(node, ast.ClassDef) and node.name == MODELNEW:
            ctx.modelnew, ctx.modelnew_bound = node, True
        elif any(isinstance(t, ast.Name) and t.id == MODELNEW for t, _ in bindings(node)):
            ctx.modelnew_bound = True
            value = bindings(node)[0][1]
            if isinstance(value, ast.Name) and value.id in ctx.classes:
                ctx.modelnew = ctx.classes[value.id]
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name) == MODELNEW for a in node.names
        ):
            ctx.modelnew_bound = True
    if ctx.modelnew is None:
        return
    init = ctx.methods(ctx.modelnew).get("__init__")
    for node in ast.walk(init) if init else ():
        for t, value in bindings(node):
            if not isinstance(value, ast.Call):
                continue
            q = ctx.qual(value.func) or ""
            is_layer = q.startswith("torch.nn.") and q.split(".")[2] not in NN_NON_COMPUTE and q.split(".")[2] != "init"
            if is_layer and isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                ctx.compute_attrs.add(t.attr)


# Methods of an autograd.Function (or any helper class) that the forward call never runs: gradients are
# computed with torch ops by design, and only forward is judged.
_NOT_FORWARD = frozenset({"backward", "setup_context", "jvp", "vjp", "vmap"})


def _find_reachable(ctx: Context) -> None:
    """Functions reachable from ModelNew.forward/__call__ through module functions, classes and methods."""
    if ctx.modelnew is None:
        return
    own = ctx.methods(ctx.modelnew)
    # Callables stored as data are code too: `self.f = lambda t: torch.softmax(t, -1)` in __init__, or a
    # module-level `SM = lambda ...`, then called from forward. Map those names to the code they hold.
    held: dict[str, list[ast.AST]] = {}
    for n in ast.walk(ctx.modelnew):
        for t, value in bindings(n):
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                held.setdefault("self." + t.attr, []).append(value)
    for n in ctx.tree.body:
        for t, value in bindings(n):
            if isinstance(t, ast.Name):
                held.setdefault(t.id, []).append(value)

    def code_in(values: list[ast.AST]) -> list[FuncNode]:
        """Functions held as objects (a lambda, or a function name not called here: `self.f = helper`).
        A call's result (`self.spec = build()`) is data, computed in __init__, not on the forward path."""
        out: list[FuncNode] = []
        for v in values:
            called = {id(c.func) for c in ast.walk(v) if isinstance(c, ast.Call)}
            for m in ast.walk(v):
                if isinstance(m, ast.Lambda):
                    out.append(m)
                elif isinstance(m, ast.Name) and m.id in ctx.functions and id(m) not in called:
                    out.append(ctx.functions[m.id])
        return out

    todo: list[FuncNode] = [own[m] for m in _ENTRY_METHODS if m in own]
    seen: set[ast.AST] = set()
    while todo:
        fn = todo.pop()
        if fn in seen or fn in ctx.kernel_defs:
            continue
        seen.add(fn)
        ctx.reachable.append(fn)
        for n in ctx.walk(fn):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                todo.extend(code_in(held.get(n.id, [])))
                if n.id in ctx.functions:
                    todo.append(ctx.functions[n.id])
                elif n.id in ctx.classes and ctx.classes[n.id] is not ctx.modelnew:
                    todo.extend(m for name, m in ctx.methods(ctx.classes[n.id]).items() if name not in _NOT_FORWARD)
            elif isinstance(n, ast.Attribute) and ctx.own_ops.get(ctx.qual(n) or "") is not None:
                todo.append(ctx.own_ops[ctx.qual(n) or ""])  # torch.ops.ns.name of the candidate's own op
            elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in ("self", "cls"):
                if n.attr in own:
                    todo.append(own[n.attr])
                todo.extend(code_in(held.get("self." + n.attr, [])))


def is_tensor(ctx: Context, names: set[str], node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Subscript):
        return is_tensor(ctx, names, node.value)
    if isinstance(node, ast.Attribute):
        return node.attr in {"T", "mT", "H", "mH", "data", "real", "imag"} and is_tensor(ctx, names, node.value)
    if isinstance(node, ast.BinOp):
        return is_tensor(ctx, names, node.left) or is_tensor(ctx, names, node.right)
    if isinstance(node, ast.Call):
        q = ctx.qual(node.func)
        if q is not None:
            return q.startswith("torch.") and q not in {"torch.Size", "torch.device", "torch.finfo", "torch.iinfo"}
        if isinstance(node.func, ast.Attribute):
            return node.func.attr not in _NON_TENSOR_RESULTS and is_tensor(ctx, names, node.func.value)
    return False


def _infer_tensors(ctx: Context) -> None:
    """Which local names hold tensors: forward's inputs, torch results, views of them, and helper params
    that receive them. Needed to tell `x + y` on tensors (a fallback) from `n + BLOCK - 1` on ints."""
    scalar_ann = {"int", "float", "bool", "str"}
    for fn in ctx.reachable:
        ctx.tensors[fn] = set()
    if ctx.modelnew is not None:
        for m in _ENTRY_METHODS:
            fn = ctx.methods(ctx.modelnew).get(m)
            if fn is not None:
                for a in [*fn.args.posonlyargs, *fn.args.args[1:], *fn.args.kwonlyargs]:
                    ann = a.annotation
                    if not (isinstance(ann, ast.Name) and ann.id in scalar_ann):
                        ctx.tensors[fn].add(a.arg)
                if fn.args.vararg:
                    ctx.tensors[fn].add(fn.args.vararg.arg)
    own = ctx.methods(ctx.modelnew) if ctx.modelnew else {}
    for _ in range(4):
        for fn in ctx.reachable:
            names = ctx.tensors[fn]
            for n in ctx.walk(fn):
                if isinstance(n, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and n.value is not None:
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    if is_tensor(ctx, names, n.value):
                        names.update(t.id for t in targets if isinstance(t, ast.Name))
                elif isinstance(n, ast.Call):  # propagate tensor arguments into helper parameters
                    callee = None
                    if isinstance(n.func, ast.Name):
                        callee = ctx.functions.get(n.func.id)
                    elif isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name):
                        callee = own.get(n.func.attr) if n.func.value.id == "self" else None
                    if callee is None or callee not in ctx.tensors:
                        continue
                    params = [a.arg for a in [*callee.args.posonlyargs, *callee.args.args]]
                    if params and params[0] in ("self", "cls") and isinstance(n.func, ast.Attribute):
                        params = params[1:]
                    for p, arg in zip(params, n.args, strict=False):
                        if is_tensor(ctx, names, arg):
                            ctx.tensors[callee].add(p)
                    for kw in n.keywords:
                        if kw.arg in params and is_tensor(ctx, names, kw.value):
                            ctx.tensors[callee].add(kw.arg)


# --- rule registry ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One named static check. `check` yields (message, line) or (message, line, fatal) tuples."""

    name: str
    reason: str
    fatal: bool
    check: Callable[[Context], Iterable[tuple]]


RULES: dict[str, Rule] = {}


def rule(name: str, reason: str, fatal: bool = True) -> Callable[[Callable], Callable]:
    def deco(fn: Callable[[Context], Iterable[tuple]]) -> Callable:
        RULES[name] = Rule(name=name, reason=reason, fatal=fatal, check=fn)
        return fn

    return deco


def line_of(node: ast.AST) -> int | None:
    return getattr(node, "lineno", None)
