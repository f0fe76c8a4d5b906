"""Benchmark suites: a spec string -> a list of `EvalItem` (a Task plus how to prompt and wrap it).

Specs (users pass local paths; nothing is downloaded):
    heldout:DIR                 the `heldout` split of a corpus built by data_pipeline (parquet / save_to_disk)
    kernelbench:PATH[:LEVELS]   a KernelBench checkout; LEVELS like `1`, `1,2` or `1-3` (default 1-3)
    tritonbench-t:PATH          TritonBench-T (`data/TritonBench_T_v1/*.py` + its metadata JSON)
    tritonbench-g:PATH          TritonBench-G (`data/TritonBench_G_v1/*.py` + `TritonBench_G_v1.json`)
    folder:PATH  (or a bare directory / .py file)   KernelBench-style task files

Reading the benchmark formats is `data_pipeline.importers`' job (one importer per format, shared with the
corpus builder, so a task has the same id and reference in the corpus's decontamination report and here).
What stays here is eval's own: the spec grammar, the prompt format, the limit, and the `EvalItem`s. For
TritonBench the importer synthesizes a value-oracle reference (`Model` replays every recorded call of the
benchmark's functions) and a `ModelNew` harness that `EvalItem.candidate` appends to a completion's code.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from data_pipeline import importers
from data_pipeline.errors import DataError
from rewards.extract import extract_code
from rewards.prompt import prompt_messages
from rewards.task import Task, TaskError

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
        return importers.with_harness(code, self.harness)


def default_item(task: Task) -> EvalItem:
    return EvalItem(task=task, messages=prompt_messages(task.reference, task.instruction))


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


def load_tritonbench(root: Path, variant: str, prompt_format: str) -> list[EvalItem]:
    """TritonBench-T/G items. Every file must convert: a benchmark silently missing files would change the
    denominator of its pass rate."""
    entries = importers.tritonbench(root, variant)
    bad = [e.error for e in entries if e.error]
    if bad:
        raise SuiteError(bad[0] + (f" (and {len(bad) - 1} more files that do not convert)" if len(bad) > 1 else ""))
    items = []
    for e in entries:
        if e.imported is None or e.harness is None:  # cannot happen after the check above; keeps types exact
            continue
        task = dataclasses.replace(e.imported.task, split="test")
        if prompt_format == "tritonbench":
            user = task.instruction + "\n\nAnswer with one ```python code block holding the kernels and the wrapper functions."
            messages = [{"role": "user", "content": user}]
            items.append(EvalItem(task, messages, e.harness, {"format": "tritonbench"}))
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
        "folder": lambda: [default_item(i.task) for i in importers.user_tasks(_existing(rest, spec), prefix="")],
        "tritonbench-t": lambda: load_tritonbench(_existing(rest, spec), "t", prompt_format or "tritonbench"),
        "tritonbench-g": lambda: load_tritonbench(_existing(rest, spec), "g", prompt_format or "tritonbench"),
    }
    if kind == "kernelbench":
        path_text, _, levels = rest.partition(":")
        loaders["kernelbench"] = lambda: [
            default_item(i.task)
            for i in importers.kernelbench_tasks(_existing(path_text, spec), parse_levels(levels), explicit=bool(levels))
        ]
    try:
        items = loaders[kind]()
    except (DataError, TaskError) as e:
        raise SuiteError(str(e)) from None
    ids = [it.task_id for it in items]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"suite {spec!r}: duplicate task ids")
    return items[:limit] if limit else items


def load_tasks(spec: str, limit: int | None = None) -> list[Task]:
    """The suite's Tasks only (for callers that build their own prompts)."""
    return [it.task for it in load_suite(spec, limit=limit)]
