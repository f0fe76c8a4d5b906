"""Importers: the one reader per benchmark format, shared by the corpus builder and eval.

Layouts read (nothing is downloaded; users pass local paths):

- KernelBench: ``ROOT/level{1,2,3,4}/*.py`` or ``ROOT/KernelBench/levelN/*.py`` — each file is a task.
- TritonBench-T / -G: ``ROOT[/data]/TritonBench_{T,G}_v1/*.py`` (one file per task: code, a ``#####...``
  separator line, then a test harness that calls the code's functions) and, optional, the index
  ``TritonBench_{T,G}_v1.json[l]`` next to it (a JSON list upstream, JSON lines accepted too) whose
  entries name ``file`` and carry the instruction texts. With an index, its entries are the task list.
- User folder (or one file): ``*.py`` task files; ``<stem>_solution.py`` next to one is its candidate.

TritonBench is compared by *values*, not by TritonBench's printed text: the harness becomes the body of a
synthesized KernelBench reference whose `__init__`/`get_inputs` run the test once to record every call of
the entry functions (and their tensors), and whose `forward` replays those calls. A candidate gets the
same harness appended as `ModelNew` (`with_harness`), so reference and candidate run through the one
sandboxed `verify` on every test case. Task ids are ``<source>-<name>`` everywhere, so a decontamination
drop in the corpus report names the same task an eval report shows.

A wrong-shaped folder, a missing path or a malformed file raises one `DataError` line.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_pipeline.decontam import EvalItem
from data_pipeline.errors import DataError
from rewards.task import Task, TaskError

KERNELBENCH_LICENSE = "MIT"
TRITONBENCH_LICENSE = "see thunlp/TritonBench"
SEPARATOR = re.compile(r"^#{20,}\s*$", re.M)


@dataclass(frozen=True)
class Imported:
    """One imported task, with a candidate solution when the source ships one."""

    task: Task
    solution: str | None = None
    op_kind: str = "imported"
    signature: str = ""


def _path(path: str | Path, what: str, file_ok: bool = False) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{what}: {p}: no such {'path' if file_ok else 'directory'}")
    if not p.is_dir() and not (file_ok and p.is_file()):
        raise DataError(f"{what}: {p}: not a directory")
    return p


def _task_file(path: Path, source: str, task_id: str, **kw: Any) -> Task:
    try:
        return Task.from_file(path, source=source, task_id=task_id, **kw)
    except TaskError as e:
        raise DataError(f"{source}: malformed task file: {e}") from None


def _py_files(folder: Path) -> list[Path]:
    """Task files of a folder: sorted, non-recursive, without `_private.py` helpers like `__init__.py`."""
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


# -- KernelBench --------------------------------------------------------------------------------


def kernelbench_tasks(root: str | Path, levels: list[int] | tuple[int, ...] = (1, 2, 3),
                      explicit: bool = False) -> list[Imported]:
    """Every task of the given levels. With `explicit`, a level asked for must exist (a user named it);
    otherwise missing levels are skipped, since checkouts differ in which levels they ship."""
    base = _path(root, "kernelbench")
    if not any((base / f"level{n}").is_dir() for n in range(1, 5)) and (base / "KernelBench").is_dir():
        base = base / "KernelBench"
    have = [n for n in range(1, 5) if (base / f"level{n}").is_dir()]
    if not have:
        raise DataError(f"kernelbench: {root}: not a KernelBench checkout (no level1..level4 folders with .py tasks)")
    missing = [n for n in levels if n not in have]
    if explicit and missing:
        raise DataError(f"kernelbench: {root}: no level{missing[0]}/ folder (levels here: {', '.join(map(str, have))})")
    found = [base / f"level{n}" for n in levels if n in have]
    if not found:
        raise DataError(f"kernelbench: {root}: none of levels {', '.join(map(str, levels))} here "
                        f"(levels here: {', '.join(map(str, have))})")
    out: list[Imported] = []
    for level_dir in found:
        level = level_dir.name.removeprefix("level")
        for f in _py_files(level_dir):
            task = _task_file(f, "kernelbench", f"kernelbench-l{level}-{f.stem}", difficulty=f"level{level}",
                              license=KERNELBENCH_LICENSE, provenance=f"KernelBench/{level_dir.name}/{f.name}")
            out.append(Imported(task, op_kind=f"kernelbench_l{level}", signature=f"kernelbench:{f.stem}"))
    if not out:
        raise DataError(f"kernelbench: {root}: level folders hold no .py task files")
    return out


# -- TritonBench: file -> value-oracle reference --------------------------------------------------


_DEVICE_PROLOGUE = ('import torch as _tb_torch0\n'
                    '_TB_DEVICE = "cuda" if _tb_torch0.cuda.is_available() else "cpu"  # tritonforge: device shim\n')


class _CudaToDevice(ast.NodeTransformer):
    """TritonBench hard-codes the GPU ('cuda', 'cuda:0', `.cuda()`, `t.is_cuda`); point it at the device present.

    On a GPU `_TB_DEVICE` is "cuda", so this changes nothing there; on CPU it lets the interpreter run
    the same code. Applied to the test harness, the benchmark's code, and candidates (EvalItem.candidate).
    """

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and re.fullmatch(r"cuda(:\d+)?", node.value):
            return ast.copy_location(ast.Name(id="_TB_DEVICE", ctx=ast.Load()), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """`t.is_cuda` (asserted by wrappers before a launch) -> "t is on the device we run on"."""
        self.generic_visit(node)
        if node.attr == "is_cuda" and isinstance(node.ctx, ast.Load):
            dev_type = ast.Attribute(value=ast.Attribute(value=node.value, attr="device", ctx=ast.Load()), attr="type",
                                     ctx=ast.Load())
            cmp = ast.Compare(left=dev_type, ops=[ast.Eq()], comparators=[ast.Name(id="_TB_DEVICE", ctx=ast.Load())])
            return ast.copy_location(cmp, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "cuda" and not node.keywords and len(node.args) <= 1 \
                and not (isinstance(f.value, ast.Name) and f.value.id in {"torch", "_tb_torch", "_tb_torch0"}):
            to = ast.Attribute(value=f.value, attr="to", ctx=ast.Load())
            return ast.copy_location(ast.Call(to, [ast.Name("_TB_DEVICE", ast.Load())], []), node)
        return node


def device_portable(code: str) -> str:
    """`code` with GPU device literals replaced by `_TB_DEVICE` (and its definition prepended).

    Code that does not parse is returned unchanged (the verifier reports the syntax error itself)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    new = ast.unparse(ast.fix_missing_locations(_CudaToDevice().visit(tree)))
    return _DEVICE_PROLOGUE + new + "\n"


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

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """`t.is_cuda` (asserted by wrappers before a launch) -> "t is on the device we run on"."""
        self.generic_visit(node)
        if node.attr == "is_cuda" and isinstance(node.ctx, ast.Load):
            dev_type = ast.Attribute(value=ast.Attribute(value=node.value, attr="device", ctx=ast.Load()), attr="type",
                                     ctx=ast.Load())
            cmp = ast.Compare(left=dev_type, ops=[ast.Eq()], comparators=[ast.Name(id="_TB_DEVICE", ctx=ast.Load())])
            return ast.copy_location(cmp, node)
        return node

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


_HARNESS = '''
# ---- TritonBench harness (value oracle) ----
# The test function runs outside forward (in __init__ / get_inputs) only to record every call of the entry
# points with its arguments; forward then replays those calls on (copies of) the tensors it is given and
# returns every result: return values (tensors, numbers, nested containers), tensors the call wrote in
# place, gradients where the test runs backward, and whether a call raised where the test expects it to.
import torch
import torch as _tb_torch
import torch.nn as _tb_nn

_TB_DEVICE = "cuda" if _tb_torch.cuda.is_available() else "cpu"
_TB_BACKWARD = {backward}
_TB_LOG = []
_TB_TENSORS = []
_TB_OBJS = []


class _TBSlot:
    def __init__(self, index, grad):
        self.index = index
        self.grad = grad


class _TBObjRef:
    def __init__(self, index):
        self.index = index


class _TBObj:
    """Stands for an object the test built from the code (an nn.Module, say): its calls are recorded."""

    def __init__(self, index, obj):
        self._tb_index = index
        self._tb_obj = obj

    def __call__(self, *args, **kwargs):
        return _tb_record_call(("call", self._tb_index), self._tb_obj, args, kwargs)


def _tb_template(value, memo):
    if isinstance(value, _tb_torch.Tensor):
        if id(value) not in memo:
            _TB_TENSORS.append(value.detach().clone())
            memo[id(value)] = _TBSlot(len(_TB_TENSORS) - 1, bool(value.requires_grad))
        return memo[id(value)]
    if isinstance(value, _TBObj):
        return _TBObjRef(value._tb_index)
    if isinstance(value, list):
        return [_tb_template(v, memo) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_template(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: _tb_template(v, memo) for k, v in value.items()}
    return value


def _tb_changed(before, after):
    if before.shape != after.shape or before.dtype != after.dtype:
        return True
    a, b = before.detach(), after.detach()
    same = a == b
    if a.is_floating_point() or a.is_complex():
        same = same | (_tb_torch.isnan(a) & _tb_torch.isnan(b))
    return not bool(same.all())


def _tb_record_call(key, fn, args, kwargs, extra=None):
    memo = {}
    entry = [key, _tb_template(list(args), memo), _tb_template(dict(kwargs), memo), extra, False, []]
    _TB_LOG.append(entry)
    live = {id(v): v for v in _tb_leaves([list(args), dict(kwargs)], []) if isinstance(v, _tb_torch.Tensor)}
    try:
        result = fn(*args, **kwargs)
    except Exception:
        entry[4] = True  # the test expects this call to raise (it caught the exception)
        raise
    # Arguments the call wrote in place are outputs too (an `out=` buffer, a kernel's output pointer).
    entry[5] = sorted(slot.index for i, slot in memo.items()
                      if isinstance(slot, _TBSlot) and i in live and _tb_changed(_TB_TENSORS[slot.index], live[i]))
    return result


def _tb_call(name, fn, *args, **kwargs):
    return _tb_record_call(("func", name), fn, args, kwargs)


def _tb_launch(name, kernel, grid, *args, **kwargs):
    return _tb_record_call(("launch", name), kernel[grid], args, kwargs, grid)


def _tb_new(name, cls, *args, **kwargs):
    obj = _tb_record_call(("new", name, len(_TB_OBJS)), cls, args, kwargs)
    _TB_OBJS.append(obj)
    return _TBObj(len(_TB_OBJS) - 1, obj)


{test_body}


def _tb_record():
    _TB_LOG.clear()
    _TB_TENSORS.clear()
    _TB_OBJS.clear()
    {test_name}()
    return list(_TB_LOG), list(_TB_TENSORS)


def _tb_fill(value, tensors, objs, leaves):
    if isinstance(value, _TBSlot):
        t = tensors[value.index]
        if value.grad and leaves is not None and t.is_floating_point():
            if value.index not in leaves:
                leaves[value.index] = t.detach().requires_grad_(True)
            return leaves[value.index]
        return t
    if isinstance(value, _TBObjRef):
        return objs[value.index]
    if isinstance(value, list):
        return [_tb_fill(v, tensors, objs, leaves) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_fill(v, tensors, objs, leaves) for v in value)
    if isinstance(value, dict):
        return {k: _tb_fill(v, tensors, objs, leaves) for k, v in value.items()}
    return value


def _tb_leaves(value, out):
    """Tensors, numbers and strings of a result, in a fixed order (dicts by key order)."""
    if isinstance(value, _tb_torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tb_leaves(v, out)
    elif isinstance(value, dict):
        for k in value:
            _tb_leaves(value[k], out)
    elif isinstance(value, (bool, int, float, complex)):
        out.append(value)
    elif type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        import numpy as _tb_np
        out.append(_tb_torch.from_numpy(_tb_np.array(value, copy=True)))
    return out


def _tb_cotangent(t, k):
    """A fixed pseudo-random output gradient (the same on both sides), so every output element counts."""
    g = _tb_torch.Generator().manual_seed(1234 + k)
    return _tb_torch.randn(t.shape, generator=g, dtype=_tb_torch.float32).to(device=t.device, dtype=t.dtype)


class _TBOps:
    """The replay's bookkeeping, kept off ModelNew.forward so the static rules read forward as what it is:
    plain calls of the candidate's entry points (copies, gradients and expected raises are the judge's)."""

    def __init__(self):
        self.tensors, self.objs, self.outs, self.leaves = [], {}, [], None

    def start(self, tensors):
        # Copies: a call that writes its arguments in place is judged by what it wrote (an output, with
        # the output tolerances), while the inputs the judge handed in stay as they were.
        self.tensors = [t.clone() if isinstance(t, _tb_torch.Tensor) else t for t in tensors]
        self.objs, self.outs = {}, []

    def args(self, step):
        self.leaves = {} if _TB_BACKWARD else None
        with _tb_torch.enable_grad():
            return (_tb_fill(step[1], self.tensors, self.objs, self.leaves),
                    _tb_fill(step[2], self.tensors, self.objs, self.leaves))

    def obj(self, step):
        return self.objs[step[0][1]]

    def run(self, step, fn, a, k):
        key, raised = step[0], step[4]
        if raised:
            try:
                fn(*a, **k)
            except Exception:
                self.outs.append(True)  # raised, as the benchmark's test expects
            else:
                self.outs.append(False)
            return
        with _tb_torch.enable_grad():
            res = fn(*a, **k)
            if key[0] == "new":
                self.objs[key[2]] = res
                return
            vals = _tb_leaves(res, [])
            written = [self.tensors[i] for i in step[5]]
            if self.leaves:
                diff = [v for v in vals if isinstance(v, _tb_torch.Tensor) and v.requires_grad]
                if diff:
                    cots = [_tb_cotangent(v, i) for i, v in enumerate(diff)]
                    grads = _tb_torch.autograd.grad(diff, list(self.leaves.values()), grad_outputs=cots,
                                                    allow_unused=True)
                    vals += [g if g is not None else "no gradient" for g in grads]
        self.outs += [v.detach() if isinstance(v, _tb_torch.Tensor) else v for v in vals]
        self.outs += [v.detach() for v in written]

    def finish(self):
        if not self.outs:
            raise RuntimeError("TritonBench harness: the test compares nothing (no recorded call returned or wrote a value)")
        return tuple(self.outs)


class {cls}(_tb_nn.Module):
    def __init__(self):
        super().__init__()
        self._tb_spec = _tb_record()[0]
        self._tb_ops = _TBOps()

    def forward(self, *tensors):
        ops = self._tb_ops
        ops.start(tensors)
        for step in self._tb_spec:
            a, k = ops.args(step)
            kind, name, grid = step[0][0], step[0][1], step[3]
{dispatch}
            ops.run(step, fn, a, k)
        return ops.finish()
'''

_REFERENCE_TAIL = '''

def get_inputs():
    return _tb_record()[1]


def get_init_inputs():
    return []
'''


def harness_source(split: SplitTest, cls: str) -> str:
    """A module tail defining `cls`, whose forward replays the recorded calls of the test."""
    lines = []
    for kind, names in (("func", split.entries.funcs), ("launch", split.entries.launches),
                        ("new", split.entries.classes)):
        for e in names:
            # A launch keeps the `kernel[grid](...)` call syntax, which is what the rules look for.
            target = f"lambda *a, **k: {e}[grid](*a, **k)" if kind == "launch" else e
            lines.append(f"            {'if' if not lines else 'elif'} kind == {kind!r} and name == {e!r}:\n"
                         f"                fn = {target}")
    lines.append("            " + ("else:" if lines else "if True:") + "\n                fn = ops.obj(step)")
    out = _HARNESS
    for key, val in (("{test_name}", split.test_name), ("{cls}", cls), ("{dispatch}", "\n".join(lines)),
                     ("{backward}", repr(split.backward)), ("{test_body}", split.test_body)):
        out = out.replace(key, val)  # not str.format: the harness is full of braces
    # Classes of the reference count as "the reference" for the rules, so each side gets its own classes.
    for c in ("_TBSlot", "_TBObjRef", "_TBObj", "_TBOps"):
        out = re.sub(rf"\b{c}\b", f"{c}{cls}", out)
    return out


def with_harness(code: str, harness: str) -> str:
    """Candidate code (wrapper functions, TritonBench style) made comparable and device-portable: device
    literals pointed at the present device, the `ModelNew` harness appended."""
    return device_portable(code).rstrip("\n") + "\n\n" + harness


def tritonbench_instruction(variant: str, meta: dict[str, Any], code: str) -> str:
    """TritonBench's own instruction text (the T 'simp' alpaca format; G's comp/simp instructions)."""
    if variant == "t" and meta.get("description"):
        return (
            "You are an expert in Trion programming, capable of writing corresponding Triton kernels and "
            "wrapper functions based on functional descriptions and function parameters. Ensure that the "
            "wrapper function fully corresponds to the provided function information.\n"
            f"Functional Description: {meta['description']}\n"
            f"Wrapper Entry Information: {meta.get('func_inputs', '')}\n"
            "After generation, verify if the Triton wrapper aligns with the provided func_inputs. "
            "If not, regenerate."
        )
    if variant == "g" and (meta.get("comp_instru") or meta.get("simp_instru")):
        text = str(meta.get("comp_instru") or meta.get("simp_instru")).strip()
        return "You are an expert in Triton programming. " + text
    # No metadata: describe the entry functions by signature, as TritonBench's instructions do.
    sigs = [ln.strip().rstrip(":") for ln in code.splitlines() if ln.startswith("def ")]
    return "Write Triton kernels and Python wrapper functions with exactly these entry points:\n" + "\n".join(sigs)


# -- TritonBench: checkouts ------------------------------------------------------------------------


@dataclass(frozen=True)
class TritonBenchEntry:
    """One TritonBench file: its raw text and index entry (decontamination needs every file), and — when it
    converts — the value-oracle task plus the `ModelNew` harness that candidates get appended."""

    file: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    imported: Imported | None = None
    harness: str | None = None
    error: str | None = None  # why it did not convert (one line)
    backward: bool = False  # the test runs backward, so the oracle compares gradients too
    code: str | None = None  # the file's code part (the benchmark's own implementation)

    def eval_item(self, source: str) -> EvalItem:
        extra = [self.text, *(self.meta.get(k) for k in ("torch_code", "output"))]
        texts = tuple(t for t in extra if isinstance(t, str) and t.strip())  # a missing file has no text
        return EvalItem(f"{source}-{Path(self.file).stem}", source, texts)


def _read_entries(path: Path, what: str) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DataError(f"{what}: {path}: line {n} is not JSON ({e.msg})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise DataError(f"{what}: {path}: expected a list of JSON objects")
    return data


def _locate(base: Path, name: str, what: str) -> tuple[Path, Path | None]:
    """(per-task folder, index or None) of a checkout, its data/ folder, or the per-task folder itself."""
    homes = [base, base / "data", *([base.parent] if base.name == name else [])]
    folder = base if base.name == name else next((d / name for d in homes if (d / name).is_dir()), None)
    index = next((d / f"{name}{ext}" for d in homes for ext in (".json", ".jsonl") if (d / f"{name}{ext}").is_file()),
                 None)
    if folder is None and index is None:
        raise DataError(f"{what}: {base}: not a TritonBench checkout (expected {name}/ or {name}.json[l] in it "
                        "or in data/)")
    if folder is None:
        raise DataError(f"{what}: {index.parent if index else base}: missing the per-task folder {name}/")
    return folder, index


def tritonbench(root: str | Path, variant: str) -> list[TritonBenchEntry]:
    """Every file of TritonBench-T (`variant` "t") or -G ("g"), as it is on disk: each entry either converts
    (`imported`) or carries `error`, one line saying why (index entry without its file, file missing from
    the index, no separator, a test that calls nothing of the code). Only an unusable checkout raises."""
    source, name = f"tritonbench_{variant}", f"TritonBench_{variant.upper()}_v1"
    folder, index = _locate(_path(root, source), name, source)
    if index is not None:
        rows = _read_entries(index, source)
        for n, e in enumerate(rows):
            if not isinstance(e.get("file"), str):
                raise DataError(f"{source}: {index}: entry {n} lacks a 'file' string")
        named = {e["file"] for e in rows}
        extra = [{"file": p.name, "_not_indexed": True} for p in _py_files(folder) if p.name not in named]
        rows = rows + extra
    else:
        rows = [{"file": p.name} for p in _py_files(folder)]
    if not rows:
        raise DataError(f"{source}: {index or folder}: no entries (no *.py task files)")
    out: list[TritonBenchEntry] = []
    for meta in rows:
        path = folder / meta["file"]
        if not path.is_file():
            out.append(TritonBenchEntry(meta["file"], "", meta, error=f"{source}: {path}: named by the index but missing"))
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if meta.get("_not_indexed"):
            out.append(TritonBenchEntry(meta["file"], text, {}, error=f"{source}: {path}: not in the benchmark's index"))
            continue
        tid = f"{source}-{path.stem}"
        try:
            split = split_tritonbench(text, f"{source}: {path}", path.stem)
            reference = with_harness(split.code, harness_source(split, "Model")) + _REFERENCE_TAIL
            task = Task(task_id=tid, source=source, reference=reference,
                        instruction=tritonbench_instruction(variant, meta, split.code),
                        difficulty=str(meta.get("difficulty", "unknown")), license=TRITONBENCH_LICENSE,
                        provenance=f"TritonBench/data/{name}/{meta['file']}")
        except (DataError, TaskError) as e:
            out.append(TritonBenchEntry(meta["file"], text, meta, error=str(e)))
            continue
        harness = harness_source(split, "ModelNew")
        # The shipped solution: `triton_code` where an index has one; TritonBench-G's `output` is its
        # reference Triton code (identical to the file's code part), the gold answer of the task.
        gold = meta.get("triton_code") or (meta.get("output") if variant == "g" else None)
        solution = with_harness(gold, harness) if isinstance(gold, str) and gold.strip() else None
        imp = Imported(task, solution=solution, op_kind=source, signature=f"{source}:{tid}")
        out.append(TritonBenchEntry(meta["file"], text, meta, imp, harness, backward=split.backward, code=split.code))
    return out


def tritonbench_t(root: str | Path) -> tuple[list[Imported], list[EvalItem], int]:
    """(value-oracle tasks, eval items of every entry, number of files that do not convert)."""
    entries = tritonbench(root, "t")
    tasks = [e.imported for e in entries if e.imported is not None]
    return tasks, [e.eval_item("tritonbench_t") for e in entries], len(entries) - len(tasks)


def tritonbench_g(root: str | Path) -> list[EvalItem]:
    """Eval items (reference Triton code + index texts) of TritonBench-G: the corpus only keeps it out of
    train; eval runs its tasks through the same `tritonbench` loader."""
    return [e.eval_item("tritonbench_g") for e in tritonbench(root, "g")]


# -- user folders --------------------------------------------------------------------------------


def user_tasks(root: str | Path, prefix: str = "user-") -> list[Imported]:
    """Every task file of a folder (or one file); `<stem>_solution.py` next to a task is its candidate.

    Ids are `prefix` + file stem: a corpus mixes sources and needs `user-`, while eval reports show the
    user's own file names (`prefix=""`)."""
    base = _path(root, "user_tasks", file_ok=True)
    files = [base] if base.is_file() else [p for p in _py_files(base) if not p.stem.endswith("_solution")]
    if not files:
        raise DataError(f"user_tasks: {base}: no *.py task files")
    out: list[Imported] = []
    for f in files:
        task = _task_file(f, "user", f"{prefix}{f.stem}", provenance=str(f))
        sol = f.with_name(f"{f.stem}_solution.py")
        out.append(Imported(task, solution=sol.read_text() if sol.is_file() else None, op_kind="user",
                            signature=f"user:{f.stem}"))
    return out


# -- KernelBench at reduced sizes (CPU interpreter) ------------------------------------------------------

SIZE_MIN = 32  # module-level integers below this are shapes' small parts (kernel 3, stride 2, dim=1): kept
SIZE_FLOOR = 16  # a size constant is never halved below this
CPU_BUDGET_ELEMS = 1 << 22  # inputs + parameters + outputs of one reference call (16 MiB of fp32)


@dataclass(frozen=True)
class Scaled:
    """A KernelBench source with its size constants reduced, and what was done (for the verdict/report)."""

    source: str
    factor: float  # elements before / after (1.0: unchanged)
    changes: tuple[tuple[str, int, int], ...] = ()  # (constant, old, new)
    elems_before: int | None = None
    elems_after: int | None = None
    fits: bool = True
    note: str = ""

    def describe(self) -> str:
        """One line for reports: which constants were reduced and by how much."""
        if not self.changes:
            return "full size" if self.fits else f"full size, over budget ({self.note})"
        ch = ", ".join(f"{n} {a}->{b}" for n, a, b in self.changes)
        return f"reduced x{self.factor:.0f} ({ch})" + ("" if self.fits else f"; still over budget ({self.note})")


def _int_value(node: ast.expr) -> int | None:
    """The value of an integer constant expression (`4096`, `2048 * 2`, `1 << 10`), else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _int_value(node.left), _int_value(node.right)
        if a is None or b is None:
            return None
        ops: dict[type, Any] = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                                ast.FloorDiv: lambda: a // b if b else None, ast.LShift: lambda: a << b if 0 <= b < 64 else None}
        fn = ops.get(type(node.op))
        return fn() if fn else None
    return None


def size_constants(source: str) -> dict[str, tuple[int, ...]]:
    """Module-level integer constants (and tuples of them) of a KernelBench source: name -> values."""
    out: dict[str, tuple[int, ...]] = {}
    for n in ast.parse(source).body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            v = n.value
            if isinstance(v, ast.Tuple):
                vals = [_int_value(e) for e in v.elts]
                if vals and all(x is not None for x in vals):
                    out[n.targets[0].id] = tuple(int(x) for x in vals if x is not None)
            else:
                x = _int_value(v)
                if x is not None:
                    out[n.targets[0].id] = (x,)
    return out


def rewrite_constants(source: str, values: dict[str, tuple[int, ...]]) -> str:
    """`source` with the named module-level constants set to `values` (line by line, comments kept)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for n in reversed(tree.body):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                and n.targets[0].id in values and n.end_lineno is not None:
            vals = values[n.targets[0].id]
            text = str(vals[0]) if not isinstance(n.value, ast.Tuple) else "(" + ", ".join(map(str, vals)) + ("," if len(vals) == 1 else "") + ")"
            first, last = n.lineno - 1, n.end_lineno - 1
            head = lines[first][: n.value.col_offset]
            tail = lines[last][n.value.end_col_offset or 0:]
            lines[first: last + 1] = [head + text + tail]
    return "".join(lines)


_PROBE = r'''
import json, sys, resource
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
import torch
def count(x):
    if isinstance(x, torch.Tensor):
        return x.numel()
    if isinstance(x, (list, tuple)):
        return sum(count(v) for v in x)
    if isinstance(x, dict):
        return sum(count(v) for v in x.values())
    return 0
out = []
for src in json.loads(sys.stdin.read()):
    try:
        ns = {"__name__": "tf_probe"}
        with torch.device("meta"):
            exec(compile(src, "reference.py", "exec"), ns)
            init = list(ns.get("get_init_inputs", lambda: [])())
            inputs = list(ns["get_inputs"]())
            model = ns["Model"](*init)
            n = count(inputs) + sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
            try:
                with torch.no_grad():
                    n += count(model(*inputs))
            except Exception:
                pass  # an op without a meta kernel: inputs and parameters still count
        out.append(n)
    except Exception as e:
        out.append(f"{type(e).__name__}: {e}"[:200])
print(json.dumps(out))
'''


def probe_sizes(sources: list[str], timeout_s: float = 300.0) -> list[int | str]:
    """Elements (inputs + parameters + outputs) each KernelBench source's reference handles, measured on
    torch's meta device (shapes only: nothing is allocated or computed) in one throwaway subprocess with a
    4 GiB address-space cap. A string says why a source could not be probed."""
    import os
    import subprocess
    import sys

    if not sources:
        return []
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "PYTHONPATH", "OMP_NUM_THREADS"}}
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], input=json.dumps(sources), capture_output=True,
                              text=True, timeout=timeout_s, env=env)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as e:
        return [f"size probe failed: {type(e).__name__}"] * len(sources)
    return [r if isinstance(r, (int, str)) else str(r) for r in res]


def scale_kernelbench(sources: list[str], budget_elems: int = CPU_BUDGET_ELEMS, rounds: int = 40) -> list[Scaled]:
    """The documented size rule for running KernelBench references on CPU (the Triton interpreter).

    Rule: measure a reference's elements (inputs + parameters + outputs, `probe_sizes`); while over
    `budget_elems`, halve its largest module-level size constant (integers >= SIZE_MIN, in tuples too;
    never below SIZE_FLOOR), together with every constant of the same value (equal sizes are often a
    shape relation, e.g. predictions (batch, n) times targets (batch,) with batch == n), and measure again. Small integers (kernel sizes, strides, a reduction `dim`)
    are never touched, so the operator stays the same and only its extent shrinks. The result says which
    constants changed and the factor (elements before / after); tasks within budget are unchanged.
    """
    cur = list(sources)
    consts = [size_constants(s) for s in sources]
    vals = [dict(c) for c in consts]
    first = probe_sizes(cur)
    sizes: list[int | str] = list(first)
    active = [isinstance(n, int) and n > budget_elems for n in sizes]
    for _ in range(rounds):
        todo = [i for i, a in enumerate(active) if a]
        if not todo:
            break
        for i in todo:
            best: tuple[int, str, int] | None = None
            for name, vs in vals[i].items():
                for j, v in enumerate(vs):
                    if v >= SIZE_MIN and v // 2 >= SIZE_FLOOR and (best is None or v > best[0]):
                        best = (v, name, j)
            if best is None:
                active[i] = False
                continue
            v = best[0]
            for name in vals[i]:  # equal sizes move together: `batch == features` may be a shape relation
                vals[i][name] = tuple(x // 2 if x == v else x for x in vals[i][name])
            cur[i] = rewrite_constants(sources[i], {k: x for k, x in vals[i].items() if x != consts[i][k]})
        measured = probe_sizes([cur[i] for i in todo])
        for i, n in zip(todo, measured, strict=True):
            sizes[i] = n
            active[i] = active[i] and isinstance(n, int) and n > budget_elems
    out = []
    for i, src in enumerate(sources):
        before, after = first[i], sizes[i]
        changes = tuple((k, consts[i][k][j], vals[i][k][j]) for k in consts[i] for j in range(len(consts[i][k]))
                        if vals[i][k][j] != consts[i][k][j])
        if not isinstance(after, int):
            out.append(Scaled(src, 1.0, (), None, None, False, str(after)))
            continue
        b = before if isinstance(before, int) else after
        fits = after <= budget_elems
        note = "" if fits else f"{after} elements > budget {budget_elems}"
        if changes:
            header = (f"# tritonforge: sizes reduced for the CPU interpreter ({', '.join(f'{n} {a}->{c}' for n, a, c in changes)}; "
                      f"elements x{b / max(after, 1):.0f} fewer)\n")
            out.append(Scaled(header + cur[i], b / max(after, 1), changes, b, after, fits, note))
        else:
            out.append(Scaled(src, 1.0, (), b, after, fits, note))
    return out
