"""One TritonBench file taken apart: its code, and its test harness rewritten so that every call of the
code's entry points is recorded (what the value-oracle harness, `data_pipeline.tritonbench_harness`, replays).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from data_pipeline.errors import DataError
from data_pipeline.tritonbench_device import _CudaToDevice

SEPARATOR = re.compile(r"^#{20,}\s*$", re.M)


@dataclass(frozen=True)
class _Entries:
    """What the test harness calls: functions (and `Cls.attr`, module-level aliases), kernels launched
    directly (`kernel[grid](...)`), and classes it instantiates (`Module(...)`, then calls)."""

    funcs: tuple[str, ...]
    launches: tuple[str, ...]
    classes: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.funcs + self.launches + self.classes


class _RecordCalls(ast.NodeTransformer):
    """Rewrite each entry call so it is recorded: `f(a)` -> `_tb_call("f", f, a)`,
    `k[grid](a)` -> `_tb_launch("k", k, grid, a)`, `Cls(a)` -> `_tb_new("Cls", Cls, a)`."""

    def __init__(self, entries: _Entries) -> None:
        self.entries = entries

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        name = ast.unparse(f)
        if isinstance(f, ast.Subscript) and ast.unparse(f.value) in self.entries.launches:
            kname = ast.unparse(f.value)
            args = [ast.Constant(kname), f.value, f.slice, *node.args]
            return ast.copy_location(ast.Call(ast.Name("_tb_launch", ast.Load()), args, node.keywords), node)
        if name in self.entries.classes:
            args = [ast.Constant(name), f, *node.args]
            return ast.copy_location(ast.Call(ast.Name("_tb_new", ast.Load()), args, node.keywords), node)
        if name in self.entries.funcs:
            args = [ast.Constant(name), f, *node.args]
            return ast.copy_location(ast.Call(ast.Name("_tb_call", ast.Load()), args, node.keywords), node)
        return node


def _entry_points(code: str, test: ast.Module, where: str) -> _Entries:
    """The code's functions, `Class.attr`s, module-level aliases, kernels and classes the test uses."""
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        raise DataError(f"{where}: code does not parse: {e.msg} (line {e.lineno})") from None
    funcs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    kernels = {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list}
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for n in tree.body:  # `attention = _attention.apply`, `fn = other_fn`
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                and isinstance(n.value, (ast.Attribute, ast.Name)):
            root = n.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and (root.id in classes or root.id in funcs):
                funcs.add(n.targets[0].id)
    fs: list[str] = []
    ls: list[str] = []
    cs: list[str] = []
    for n in ast.walk(test):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Subscript) and isinstance(f.value, ast.Name) and f.value.id in kernels:
            if f.value.id not in ls:
                ls.append(f.value.id)
        elif isinstance(f, ast.Name) and f.id in classes:
            if f.id not in cs:
                cs.append(f.id)
        elif isinstance(f, ast.Name) and f.id in funcs:
            if f.id not in fs:
                fs.append(f.id)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in classes:
            name = f"{f.value.id}.{f.attr}"
            if name not in fs:
                fs.append(name)
    if not (fs or ls or cs):
        raise DataError(f"{where}: the test harness calls none of the code's functions, kernels or classes")
    return _Entries(tuple(fs), tuple(ls), tuple(cs))


def _uses_backward(test: ast.Module) -> bool:
    """Does the benchmark's test exercise backward (`.backward()`, `torch.autograd.grad`)?"""
    for n in ast.walk(test):
        if isinstance(n, ast.Call):
            name = ast.unparse(n.func)
            if name.endswith(".backward") or name.endswith("autograd.grad"):
                return True
    return False


@dataclass(frozen=True)
class SplitTest:
    """One TritonBench file taken apart: the code, the rewritten test, and what the oracle checks."""

    code: str
    test_body: str
    test_name: str
    entries: _Entries
    backward: bool  # the test runs backward: the oracle also compares gradients


def split_tritonbench(text: str, where: str, stem: str = "") -> SplitTest:
    """The code and the rewritten test harness of one TritonBench file (`stem`: its module name, whose
    self-imports the test drops)."""
    parts = SEPARATOR.split(text, maxsplit=1)
    if len(parts) != 2:
        raise DataError(f"{where}: no '#####' line separating code from its test harness")
    code, test = parts
    try:
        tree = ast.parse(test)
    except SyntaxError as e:
        raise DataError(f"{where}: test harness does not parse: {e.msg} (line {e.lineno})") from None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    if not funcs:
        raise DataError(f"{where}: test harness defines no test_* function")
    entries = _entry_points(code, tree, where)

    def keep(n: ast.stmt) -> bool:
        if isinstance(n, ast.ImportFrom):
            return (n.module or "").split(".")[0] != stem  # the test importing its own module
        if isinstance(n, ast.Import):
            return all(a.name.split(".")[0] != stem for a in n.names)
        return isinstance(n, (ast.FunctionDef, ast.ClassDef))

    # Keep definitions and imports; drop the module-level calls and prints (we call the test ourselves).
    body = [n for n in tree.body if keep(n)]
    mod = _RecordCalls(entries).visit(_CudaToDevice().visit(ast.Module(body=body, type_ignores=[])))
    return SplitTest(code, ast.unparse(ast.fix_missing_locations(mod)), funcs[-1].name, entries,
                     _uses_backward(tree))
