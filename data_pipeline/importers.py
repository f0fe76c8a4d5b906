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


def kernelbench_eval_items(root: str | Path, levels: list[int] | tuple[int, ...] = (1, 2, 3)) -> list[EvalItem]:
    return [EvalItem(i.task.task_id, "kernelbench", (i.task.reference,)) for i in kernelbench_tasks(root, levels)]


# -- TritonBench: file -> value-oracle reference --------------------------------------------------


class _CudaToDevice(ast.NodeTransformer):
    """TritonBench harnesses hard-code device='cuda'; point them at the device actually present."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if node.value == "cuda":
            return ast.copy_location(ast.Name(id="_TB_DEVICE", ctx=ast.Load()), node)
        return node


class _RecordCalls(ast.NodeTransformer):
    """`entry(a, b=c)` -> `_tb_call("entry", entry, a, b=c)`, so each call's arguments can be recorded."""

    def __init__(self, entries: set[str]) -> None:
        self.entries = entries

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = ast.unparse(node.func)
        if name in self.entries:
            args = [ast.Constant(name), node.func, *node.args]
            return ast.copy_location(ast.Call(ast.Name("_tb_call", ast.Load()), args, node.keywords), node)
        return node


def _entry_points(code: str, test: ast.Module, where: str) -> list[str]:
    """Functions (or `Class.apply`-style attributes) of the code that the test harness calls."""
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        raise DataError(f"{where}: code does not parse: {e.msg} (line {e.lineno})") from None
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    found: list[str] = []
    for n in ast.walk(test):
        if not isinstance(n, ast.Call):
            continue
        f = n.func
        if isinstance(f, ast.Name) and f.id in funcs:
            name = f.id
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in classes:
            name = f"{f.value.id}.{f.attr}"
        else:
            continue
        if name not in found:
            found.append(name)
    if not found:
        raise DataError(f"{where}: the test harness calls none of the code's functions")
    return found


def split_tritonbench(text: str, where: str) -> tuple[str, str, str, list[str]]:
    """(code, rewritten test body, test function name, entry points) of one TritonBench file."""
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
    # Keep definitions and imports; drop the module-level calls and prints (we call the test ourselves).
    keep = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
    mod = _RecordCalls(set(entries)).visit(_CudaToDevice().visit(ast.Module(body=keep, type_ignores=[])))
    return code, ast.unparse(ast.fix_missing_locations(mod)), funcs[-1].name, entries


_HARNESS = '''
# ---- TritonBench harness (value oracle) ----
# The test function runs outside forward (in __init__ / get_inputs) only to record every call of the entry
# points with its arguments; forward then replays those calls on the tensors it is given and returns their
# outputs, so candidate and reference are compared value by value and the rule checks see plain calls.
import torch
import torch as _tb_torch
import torch.nn as _tb_nn

_TB_DEVICE = "cuda" if _tb_torch.cuda.is_available() else "cpu"
_TB_LOG = []
_TB_TENSORS = []


class _TBSlot:
    def __init__(self, index):
        self.index = index


def _tb_template(value):
    if isinstance(value, _tb_torch.Tensor):
        _TB_TENSORS.append(value.detach().clone())
        return _TBSlot(len(_TB_TENSORS) - 1)
    if isinstance(value, list):
        return [_tb_template(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_template(v) for v in value)
    if isinstance(value, dict):
        return {k: _tb_template(v) for k, v in value.items()}
    return value


def _tb_call(name, fn, *args, **kwargs):
    _TB_LOG.append((name, _tb_template(list(args)), _tb_template(kwargs)))
    return fn(*args, **kwargs)


{test_body}


def _tb_record():
    _TB_LOG.clear()
    _TB_TENSORS.clear()
    {test_name}()
    return list(_TB_LOG), list(_TB_TENSORS)


def _tb_fill(value, tensors):
    if isinstance(value, _TBSlot):
        return tensors[value.index]
    if isinstance(value, list):
        return [_tb_fill(v, tensors) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_fill(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _tb_fill(v, tensors) for k, v in value.items()}
    return value


def _tb_flatten(value, out):
    if isinstance(value, _tb_torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tb_flatten(v, out)
    return out


class {cls}(_tb_nn.Module):
    def __init__(self):
        super().__init__()
        self._tb_spec = _tb_record()[0]

    def forward(self, *tensors):
        outs = []
        for name, args, kwargs in self._tb_spec:
            a = _tb_fill(args, tensors)
            k = _tb_fill(kwargs, tensors)
{dispatch}
        return tuple(_tb_flatten(outs, []))
'''

_REFERENCE_TAIL = '''

def get_inputs():
    return _tb_record()[1]


def get_init_inputs():
    return []
'''


def harness_source(test_body: str, test_name: str, entries: list[str], cls: str) -> str:
    """A module tail defining `cls`, whose forward replays the recorded entry-point calls."""
    dispatch = "\n".join(
        f"            {'if' if i == 0 else 'elif'} name == {e!r}:\n                outs.append({e}(*a, **k))"
        for i, e in enumerate(entries)
    )
    out = _HARNESS
    for key, val in (("{test_name}", test_name), ("{cls}", cls), ("{dispatch}", dispatch), ("{test_body}", test_body)):
        out = out.replace(key, val)  # not str.format: the harness is full of braces
    # Classes of the reference count as "the reference" for the rules, so each side gets its own slot class.
    return out.replace("_TBSlot", f"_TBSlot{cls}")


def with_harness(code: str, harness: str) -> str:
    """Candidate code (wrapper functions, TritonBench style) made comparable: the `ModelNew` harness appended."""
    return code.rstrip("\n") + "\n\n" + harness


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

    def eval_item(self, source: str) -> EvalItem:
        extra = [self.meta.get(k) for k in ("torch_code", "output")]
        texts = (self.text, *(t for t in extra if isinstance(t, str) and t.strip()))
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
    """Every file of TritonBench-T (`variant` "t") or -G ("g"); files that do not convert carry `error`."""
    source, name = f"tritonbench_{variant}", f"TritonBench_{variant.upper()}_v1"
    folder, index = _locate(_path(root, source), name, source)
    if index is not None:
        rows = _read_entries(index, source)
        for n, e in enumerate(rows):
            if not isinstance(e.get("file"), str):
                raise DataError(f"{source}: {index}: entry {n} lacks a 'file' string")
            if not (folder / e["file"]).is_file():
                raise DataError(f"{source}: {folder / e['file']}: task file named by entry {n} is missing")
    else:
        rows = [{"file": p.name} for p in _py_files(folder)]
    if not rows:
        raise DataError(f"{source}: {index or folder}: no entries (no *.py task files)")
    out: list[TritonBenchEntry] = []
    for meta in rows:
        path = folder / meta["file"]
        text = path.read_text(encoding="utf-8", errors="replace")
        tid = f"{source}-{path.stem}"
        try:
            code, body, test_name, entries = split_tritonbench(text, f"{source}: {path}")
            reference = with_harness(code, harness_source(body, test_name, entries, "Model")) + _REFERENCE_TAIL
            task = Task(task_id=tid, source=source, reference=reference,
                        instruction=tritonbench_instruction(variant, meta, code),
                        difficulty=str(meta.get("difficulty", "unknown")), license=TRITONBENCH_LICENSE,
                        provenance=f"TritonBench/data/{name}/{meta['file']}")
        except (DataError, TaskError) as e:
            out.append(TritonBenchEntry(meta["file"], text, meta, error=str(e)))
            continue
        harness = harness_source(body, test_name, entries, "ModelNew")
        gold = meta.get("triton_code")
        solution = with_harness(gold, harness) if isinstance(gold, str) and gold.strip() else None
        imp = Imported(task, solution=solution, op_kind=source, signature=f"{source}:{tid}")
        out.append(TritonBenchEntry(meta["file"], text, meta, imp, harness))
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
