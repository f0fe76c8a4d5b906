"""Benchmark suites: a spec string -> a list of `EvalItem` (a Task plus how to prompt and wrap it).

Specs (users pass local paths; nothing is downloaded):
    heldout:DIR                 the `heldout` split of a corpus built by data_pipeline (parquet / save_to_disk)
    kernelbench:PATH[:LEVELS]   a KernelBench checkout; LEVELS like `1`, `1,2` or `1-3` (default 1-3)
    tritonbench-t:PATH          TritonBench-T (`data/TritonBench_T_v1/*.py` + its metadata JSON)
    tritonbench-g:PATH          TritonBench-G (`data/TritonBench_G_v1/*.py` + `TritonBench_G_v1.json`)
    folder:PATH  (or a bare directory / .py file)   KernelBench-style task files

TritonBench files are `<code>\\n#####...#####\\n<test harness>`; the harness calls the entry function(s)
and prints a dict of results, and TritonBench itself compares the printed text. We compare *values*
instead: the harness becomes the forward of a synthesized KernelBench reference (`Model.forward` runs the
test function and returns its result tensors), and a candidate's code gets the same harness appended as
`ModelNew`, so both run through the one sandboxed `verify` and are compared tensor by tensor.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rewards.extract import extract_code
from rewards.prompt import prompt_messages
from rewards.task import Task, TaskError

SEPARATOR = re.compile(r"^#{20,}\s*$", re.M)
PROMPT_FORMATS = ("default", "tritonbench")


class SuiteError(ValueError):
    """A suite spec that cannot be loaded (message is one line)."""


@dataclass(frozen=True)
class EvalItem:
    """A Task plus the prompt to send and how to turn a completion into candidate code for `verify`."""

    task: Task
    messages: list[dict[str, str]]
    harness: str | None = None  # appended to candidate code (TritonBench value oracle); None: code as-is
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def candidate(self, completion: str) -> str:
        """What `verify` receives: the completion itself, or its code with the harness appended."""
        if self.harness is None:
            return completion
        code = extract_code(completion)
        if code is None:
            return completion  # verify reports no_code
        return code.rstrip("\n") + "\n\n" + self.harness


def default_item(task: Task) -> EvalItem:
    return EvalItem(task=task, messages=prompt_messages(task.reference, task.instruction))


# --------------------------------------------------------------------------- folder / KernelBench
def load_folder(path: Path, source: str = "user", prefix: str = "", **kw: str) -> list[Task]:
    """Every `*.py` in a folder (sorted, non-recursive), or one file; files that are not tasks fail loudly."""
    files = [path] if path.is_file() else sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise SuiteError(f"{path}: no *.py task files")
    return [Task.from_file(f, source=source, task_id=f"{prefix}{f.stem}", **kw) for f in files]


def parse_levels(text: str | None) -> list[int]:
    if not text:
        return [1, 2, 3]
    levels: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if m:
            levels.update(range(int(m.group(1)), int(m.group(2)) + 1))
        elif part.isdigit():
            levels.add(int(part))
        else:
            raise SuiteError(f"bad KernelBench levels {text!r}: use e.g. 1 or 1,2 or 1-3")
    return sorted(levels)


def load_kernelbench(root: Path, levels: list[int], explicit: bool = True) -> list[Task]:
    """KernelBench keeps tasks in `KernelBench/level<N>/*.py` (or `level<N>/` when given that folder).

    Levels asked for explicitly must exist; with the default (1-3) missing levels are skipped.
    """
    base = root / "KernelBench" if (root / "KernelBench").is_dir() else root
    tasks: list[Task] = []
    for level in levels:
        d = base / f"level{level}"
        if not d.is_dir():
            if explicit:
                raise SuiteError(f"{root}: no KernelBench level{level}/ folder")
            continue
        tasks += load_folder(d, source="kernelbench", prefix=f"kb_l{level}_", difficulty=f"level{level}")
    if not tasks:
        raise SuiteError(f"{root}: no KernelBench level folders (expected KernelBench/level1/*.py ...)")
    return tasks


# --------------------------------------------------------------------------- held-out corpus split
def load_heldout(path: Path) -> list[Task]:
    """The `heldout` split of a built corpus: a `save_to_disk` DatasetDict or parquet files."""
    import datasets

    datasets.disable_progress_bars()
    if (path / "dataset_dict.json").is_file():
        dd = datasets.load_from_disk(str(path))
        if "heldout" not in dd:
            raise SuiteError(f"{path}: corpus has no 'heldout' split (splits: {', '.join(dd)})")
        rows = dd["heldout"]
    else:
        files = sorted(str(p) for p in path.rglob("*.parquet") if "heldout" in p.relative_to(path).as_posix())
        if not files:
            raise SuiteError(f"{path}: no heldout split (expected dataset_dict.json or *heldout*.parquet)")
        rows = datasets.load_dataset("parquet", data_files=files, split="train")
    tasks = []
    for row in rows:
        row = dict(row)
        row.setdefault("source", "heldout")
        row["split"] = "heldout"
        tasks.append(Task.from_dict(row))
    if not tasks:
        raise SuiteError(f"{path}: heldout split is empty")
    return tasks


# --------------------------------------------------------------------------- TritonBench
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
        raise SuiteError(f"{where}: code does not parse: {e.msg} (line {e.lineno})") from None
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
        raise SuiteError(f"{where}: the test harness calls none of the code's functions")
    return found


def split_tritonbench(text: str, where: str) -> tuple[str, str, str, list[str]]:
    """(code, rewritten test body, test function name, entry points) of one TritonBench file."""
    parts = SEPARATOR.split(text, maxsplit=1)
    if len(parts) != 2:
        raise SuiteError(f"{where}: no '#####' line separating code from its test harness")
    code, test = parts
    try:
        tree = ast.parse(test)
    except SyntaxError as e:
        raise SuiteError(f"{where}: test harness does not parse: {e.msg} (line {e.lineno})") from None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    if not funcs:
        raise SuiteError(f"{where}: test harness defines no test_* function")
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


_TB_REFERENCE_TAIL = '''

def get_inputs():
    return _tb_record()[1]


def get_init_inputs():
    return []
'''


def _tb_metadata(root: Path, variant: str) -> dict[str, dict]:
    """TritonBench's JSON metadata by file name (for its instruction texts); {} when absent."""
    names = {"t": ["TritonBench_T_v1.jsonl", "TritonBench_T_v1.json"], "g": ["TritonBench_G_v1.json"]}[variant]
    for name in names:
        for p in (root / "data" / name, root / name):
            if p.is_file():
                try:
                    rows = json.loads(p.read_text())
                except json.JSONDecodeError:
                    rows = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
                return {str(r.get("file")): r for r in rows if isinstance(r, dict) and r.get("file")}
    return {}


def tritonbench_instruction(variant: str, meta: dict, code: str) -> str:
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
    return (
        "Write Triton kernels and Python wrapper functions with exactly these entry points:\n"
        + "\n".join(sigs)
    )


def load_tritonbench(root: Path, variant: str, prompt_format: str) -> list[EvalItem]:
    folder_name = {"t": "TritonBench_T_v1", "g": "TritonBench_G_v1"}[variant]
    folder = next((p for p in (root / "data" / folder_name, root / folder_name, root) if p.is_dir()), root)
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise SuiteError(f"{root}: no TritonBench-{variant.upper()} *.py files under {folder}")
    meta = _tb_metadata(root, variant)
    items = []
    for f in files:
        code, body, test_name, entries = split_tritonbench(f.read_text(), str(f))
        reference = code.rstrip("\n") + "\n" + harness_source(body, test_name, entries, "Model") + _TB_REFERENCE_TAIL
        m = meta.get(f.name, {})
        instruction = tritonbench_instruction(variant, m, code)
        try:
            task = Task(
                task_id=f"tb{variant}_{f.stem}", source=f"tritonbench_{variant}", reference=reference,
                instruction=instruction, split="test", difficulty=str(m.get("difficulty", "unknown")),
                provenance=str(f),
            )
        except TaskError as e:
            raise SuiteError(str(e)) from None
        if prompt_format == "tritonbench":
            user = instruction + "\n\nAnswer with one ```python code block holding the kernels and the wrapper functions."
            messages = [{"role": "user", "content": user}]
            items.append(EvalItem(task, messages, harness_source(body, test_name, entries, "ModelNew"), {"format": "tritonbench"}))
        else:
            items.append(default_item(task))
    return items


# --------------------------------------------------------------------------- dispatch
def _existing(path_text: str, spec: str) -> Path:
    if not path_text:
        raise SuiteError(f"suite {spec!r}: missing path")
    p = Path(path_text).expanduser()
    if not p.exists():
        raise SuiteError(f"suite {spec!r}: no such path {p}")
    return p


SUITE_KINDS = ("heldout", "kernelbench", "tritonbench-t", "tritonbench-g", "folder")


def load_suite(spec: str, prompt_format: str | None = None, limit: int | None = None) -> list[EvalItem]:
    """Parse a suite spec and load its items. Any problem -> one SuiteError line."""
    if prompt_format is not None and prompt_format not in PROMPT_FORMATS:
        raise SuiteError(f"unknown prompt format {prompt_format!r} (choose from {', '.join(PROMPT_FORMATS)})")
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in SUITE_KINDS:
        if Path(spec).expanduser().exists():  # a bare path is a folder (or single-file) suite
            kind, rest = "folder", spec
        else:
            raise SuiteError(f"unknown suite {spec!r}: use one of {', '.join(k + ':PATH' for k in SUITE_KINDS)}")
    loaders: dict[str, Callable[[], list[EvalItem]]] = {
        "heldout": lambda: [default_item(t) for t in load_heldout(_existing(rest, spec))],
        "folder": lambda: [default_item(t) for t in load_folder(_existing(rest, spec))],
        "tritonbench-t": lambda: load_tritonbench(_existing(rest, spec), "t", prompt_format or "tritonbench"),
        "tritonbench-g": lambda: load_tritonbench(_existing(rest, spec), "g", prompt_format or "tritonbench"),
    }
    if kind == "kernelbench":
        path_text, _, levels = rest.partition(":")
        loaders["kernelbench"] = lambda: [
            default_item(t) for t in load_kernelbench(_existing(path_text, spec), parse_levels(levels), explicit=bool(levels))
        ]
    try:
        items = loaders[kind]()
    except TaskError as e:
        raise SuiteError(str(e)) from None
    ids = [it.task_id for it in items]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"suite {spec!r}: duplicate task ids")
    return items[:limit] if limit else items


def load_tasks(spec: str, limit: int | None = None) -> list[Task]:
    """The suite's Tasks only (for callers that build their own prompts)."""
    return [it.task for it in load_suite(spec, limit=limit)]
