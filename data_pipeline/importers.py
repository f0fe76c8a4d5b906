"""Importers: turn local benchmark checkouts and user folders into `Task`s (and eval items to avoid).

Layouts read (nothing is downloaded; users pass local paths):

- KernelBench: ``ROOT/level{1,2,3,4}/*.py`` or ``ROOT/KernelBench/levelN/*.py`` — each file is a task.
- TritonBench-T: ``ROOT[/data]/TritonBench_T_v1.jsonl`` (a JSON list in the upstream repo, JSON lines
  accepted too) whose entries name ``file``; the per-task file ``TritonBench_T_v1/<file>`` holds a
  PyTorch function, a ``####...`` separator line, then a ``test_<name>()`` with ``results["test_case_1"] =
  fn(...)``. The function plus the first test case's inputs become a KernelBench-style `Model`.
- TritonBench-G: ``ROOT[/data]/TritonBench_G_v1.json`` entries (``file``, ``repo``, ``simp_instru``,
  ``comp_instru``, ``output`` = the Triton reference code). G has no PyTorch reference to verify
  against, so it is used as an eval set (decontamination) only.
- User folder: ``*.py`` task files; ``<stem>_solution.py`` next to one is imported as its candidate.

A wrong-shaped folder, a missing path or a malformed file raises one `DataError` line.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_pipeline.decontam import EvalItem
from data_pipeline.errors import DataError
from rewards.task import Task, TaskError

KERNELBENCH_LICENSE = "MIT"
TRITONBENCH_LICENSE = "see thunlp/TritonBench"
_SEPARATOR = re.compile(r"^#{20,}\s*$", re.M)


@dataclass(frozen=True)
class Imported:
    """One imported task, with a candidate solution when the source ships one."""

    task: Task
    solution: str | None = None
    op_kind: str = "imported"
    signature: str = ""


def _dir(path: str | Path, what: str) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{what}: {p}: no such directory")
    if not p.is_dir():
        raise DataError(f"{what}: {p}: not a directory")
    return p


def _task_file(path: Path, source: str, task_id: str, **kw: Any) -> Task:
    try:
        return Task.from_file(path, source=source, task_id=task_id, **kw)
    except TaskError as e:
        raise DataError(f"{source}: malformed task file: {e}") from None


# -- KernelBench --------------------------------------------------------------------------------


def kernelbench_tasks(root: str | Path, levels: list[int] | tuple[int, ...] = (1, 2, 3)) -> list[Imported]:
    base = _dir(root, "kernelbench")
    if not any((base / f"level{n}").is_dir() for n in range(1, 5)) and (base / "KernelBench").is_dir():
        base = base / "KernelBench"
    found = [base / f"level{n}" for n in levels if (base / f"level{n}").is_dir()]
    if not found:
        raise DataError(f"kernelbench: {root}: not a KernelBench checkout (no level1..level4 folders with .py tasks)")
    out: list[Imported] = []
    for level_dir in found:
        level = level_dir.name.removeprefix("level")
        for f in sorted(level_dir.glob("*.py")):
            task = _task_file(f, "kernelbench", f"kernelbench-l{level}-{f.stem}", difficulty=level,
                              license=KERNELBENCH_LICENSE, provenance=f"KernelBench/{level_dir.name}/{f.name}")
            out.append(Imported(task, op_kind=f"kernelbench_l{level}", signature=f"kernelbench:{f.stem}"))
    if not out:
        raise DataError(f"kernelbench: {root}: level folders hold no .py task files")
    return out


def kernelbench_eval_items(root: str | Path, levels: list[int] | tuple[int, ...] = (1, 2, 3)) -> list[EvalItem]:
    return [EvalItem(i.task.task_id, "kernelbench", (i.task.reference,)) for i in kernelbench_tasks(root, levels)]


# -- TritonBench -------------------------------------------------------------------------------


def _find(root: Path, names: tuple[str, ...], what: str) -> Path:
    for d in (root, root / "data"):
        for n in names:
            if (d / n).is_file():
                return d / n
    raise DataError(f"{what}: {root}: not a TritonBench checkout (expected {' or '.join(names)} in it or in data/)")


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


def _call_of_first_case(test_fn: ast.FunctionDef, fname: str) -> tuple[list[ast.stmt], ast.Call] | None:
    """Statements before the first `results[...] = fname(...)` in the test, and that call."""
    before: list[ast.stmt] = []
    for stmt in test_fn.body:
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) else None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == fname:
            return before, value
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict):
            continue  # results = {}
        before.append(stmt)
    return None


class _DropCuda(ast.NodeTransformer):
    """Tests create inputs with device='cuda'; the verifier places inputs itself."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        node.keywords = [k for k in node.keywords if k.arg != "device"]
        return node


def tritonbench_t_reference(code: str, name: str) -> str | None:
    """Turn a TritonBench-T task file into a KernelBench-style reference, or None if it does not convert."""
    parts = _SEPARATOR.split(code, maxsplit=1)
    if len(parts) != 2:
        return None
    impl, tests = parts
    try:
        impl_tree, test_tree = ast.parse(impl), ast.parse(tests)
    except SyntaxError:
        return None
    funcs = [n.name for n in impl_tree.body if isinstance(n, ast.FunctionDef)]
    short = name.split(".")[-1]
    fname = short if short in funcs else (funcs[-1] if funcs else None)
    tests_fns = [n for n in test_tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    if fname is None or not tests_fns:
        return None
    found = _call_of_first_case(tests_fns[0], fname)
    if found is None:
        return None
    before, call = found
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    body = [_DropCuda().visit(s) for s in before]
    args = [_DropCuda().visit(a) for a in call.args]
    kwargs = {k.arg: ast.unparse(k.value) for k in call.keywords}
    defined = {t.id for s in before for t in ast.walk(s) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)}
    if any(isinstance(n, ast.Name) and n.id in defined for v in call.keywords for n in ast.walk(v.value)):
        return None  # keyword values computed in the test: cannot be baked into the module
    kw_src = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    lines = [impl.rstrip(), "", "import torch.nn as nn", "", "", "class Model(nn.Module):",
             "    def forward(self, *args):", f"        return {fname}(*args{', ' + kw_src if kw_src else ''})", "", "",
             "def get_inputs():"]
    lines += ["    " + ln for s in body for ln in ast.unparse(s).splitlines()]
    lines += [f"    return [{', '.join(ast.unparse(a) for a in args)}]", "", "", "def get_init_inputs():",
              "    return []", ""]
    return "\n".join(lines)


def tritonbench_t(root: str | Path) -> tuple[list[Imported], list[EvalItem], int]:
    """(tasks converted to KernelBench style, eval items of every entry, number not convertible)."""
    base = _dir(root, "tritonbench_t")
    index = _find(base, ("TritonBench_T_v1.jsonl", "TritonBench_T_v1.json"), "tritonbench_t")
    files_dir = index.parent / "TritonBench_T_v1"
    if not files_dir.is_dir():
        raise DataError(f"tritonbench_t: {index.parent}: missing the per-task folder TritonBench_T_v1/")
    tasks: list[Imported] = []
    items: list[EvalItem] = []
    skipped = 0
    for n, e in enumerate(_read_entries(index, "tritonbench_t")):
        if not isinstance(e.get("file"), str) or not isinstance(e.get("name"), str):
            raise DataError(f"tritonbench_t: {index}: entry {n} lacks a 'name'/'file' string")
        path = files_dir / e["file"]
        if not path.is_file():
            raise DataError(f"tritonbench_t: {path}: task file named by entry {n} is missing")
        code = path.read_text(encoding="utf-8", errors="replace")
        tid = f"tritonbench_t-{Path(e['file']).stem}"
        items.append(EvalItem(tid, "tritonbench_t", (code, str(e.get("torch_code", "")))))
        ref = tritonbench_t_reference(code, e["name"])
        if ref is None:
            skipped += 1
            continue
        desc = str(e.get("description") or "").strip()
        instruction = (desc + " " if desc else "") + "Implement this operation with custom Triton kernels in ModelNew."
        try:
            task = Task(task_id=tid, source="tritonbench_t", reference=ref, instruction=instruction,
                        difficulty=str(e.get("difficulty", "unknown")), license=TRITONBENCH_LICENSE,
                        provenance=f"TritonBench/data/TritonBench_T_v1/{e['file']}")
        except TaskError:
            skipped += 1
            continue
        solution = e.get("triton_code") if isinstance(e.get("triton_code"), str) and "ModelNew" in e["triton_code"] else None
        tasks.append(Imported(task, solution=solution, op_kind="tritonbench_t", signature=f"tritonbench_t:{tid}"))
    if not items:
        raise DataError(f"tritonbench_t: {index}: no entries")
    return tasks, items, skipped


def tritonbench_g(root: str | Path) -> list[EvalItem]:
    """Eval items (instructions + reference Triton code) of TritonBench-G."""
    base = _dir(root, "tritonbench_g")
    index = _find(base, ("TritonBench_G_v1.json", "TritonBench_G_v1.jsonl"), "tritonbench_g")
    items: list[EvalItem] = []
    for n, e in enumerate(_read_entries(index, "tritonbench_g")):
        if not isinstance(e.get("file"), str) or not isinstance(e.get("output"), str):
            raise DataError(f"tritonbench_g: {index}: entry {n} lacks a 'file'/'output' string")
        items.append(EvalItem(f"tritonbench_g-{Path(e['file']).stem}", "tritonbench_g", (e["output"],)))
    if not items:
        raise DataError(f"tritonbench_g: {index}: no entries")
    return items


# -- user folders --------------------------------------------------------------------------------


def user_tasks(root: str | Path) -> list[Imported]:
    base = _dir(root, "user_tasks")
    files = sorted(p for p in base.glob("*.py") if not p.stem.endswith("_solution"))
    if not files:
        raise DataError(f"user_tasks: {base}: no .py task files")
    out: list[Imported] = []
    for f in files:
        task = _task_file(f, "user", f"user-{f.stem}", provenance=str(f))
        sol = f.with_name(f"{f.stem}_solution.py")
        out.append(Imported(task, solution=sol.read_text() if sol.is_file() else None, op_kind="user",
                            signature=f"user:{f.stem}"))
    return out
