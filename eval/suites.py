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

from data_pipeline import corpus, importers
from data_pipeline.errors import DataError
from rewards.contract.extract import extract_code
from rewards.contract.prompt import prompt_messages
from rewards.contract.task import Task, TaskError
from stagekit.errors import UserError

PROMPT_FORMATS = ("default", "tritonbench")


class SuiteError(UserError):
    """A suite spec that cannot be loaded (message is one line)."""


@dataclass(frozen=True)
class EvalItem:
    """A Task plus the prompt to send and how to turn a completion into candidate code for `verify`."""

    task: Task
    messages: list[dict[str, str]]
    harness: str | None = None  # appended to candidate code (TritonBench value oracle); None: code as-is
    meta: dict[str, str] = field(default_factory=dict)
    solution: str | None = None  # the benchmark's shipped solution, ready for `verify` (selfcheck)
    self_candidate: str | None = None  # the reference's own code as a candidate (selfcheck, no solution)

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
    """The `heldout` split of a built corpus (DIR, or DIR/indist for the in-distribution one), read by
    `data_pipeline.corpus`, the owner of the corpus layout."""
    try:
        rows = corpus.load_split(path, "heldout")
    except (DataError, FileNotFoundError) as e:
        raise SuiteError(str(e)) from None
    tasks = []
    for row in rows:
        row = dict(row)
        row.setdefault("source", "heldout")
        row["split"] = "heldout"
        tasks.append(Task.from_dict(row))
    if not tasks:
        raise SuiteError(f"{path}: heldout split is empty")
    return tasks


@dataclass(frozen=True)
class Excluded:
    """A benchmark file that is not evaluated, and why (one line). Listed in reports, never silently lost."""

    task_id: str
    reason: str


@dataclass
class SuiteLoad:
    """What a suite spec yielded: the items to evaluate and the files left out (with reasons)."""

    items: list[EvalItem]
    excluded: list[Excluded] = field(default_factory=list)
    benchmark: str = ""

    def summary(self) -> str:
        """`imported / runnable / excluded` line; accuracy denominators are the runnable items."""
        return (f"{self.benchmark}: {len(self.items) + len(self.excluded)} files, {len(self.items)} runnable, "
                f"{len(self.excluded)} excluded")


def load_tritonbench(root: Path, variant: str, prompt_format: str) -> SuiteLoad:
    """TritonBench-T/G items. A file that does not convert is listed in `excluded` with its reason, never
    fatal: one odd file must not sink a suite, and the report states the denominators."""
    entries = importers.tritonbench(root, variant)
    items, excluded = [], []
    for e in entries:
        if e.imported is None or e.harness is None:
            excluded.append(Excluded(f"tritonbench_{variant}-{Path(e.file).stem}", e.error or "did not convert"))
            continue
        task = dataclasses.replace(e.imported.task, split="test")
        meta = {"backward": "yes" if e.backward else "forward only"}
        own = importers.with_harness(e.code, e.harness) if e.code else None
        if prompt_format == "tritonbench":
            user = task.instruction + "\n\nAnswer with one ```python code block holding the kernels and the wrapper functions."
            messages = [{"role": "user", "content": user}]
            items.append(EvalItem(task, messages, e.harness, {"format": "tritonbench", **meta}, e.imported.solution, own))
        else:
            items.append(dataclasses.replace(default_item(task), meta=meta, solution=e.imported.solution,
                                             self_candidate=own))
    return SuiteLoad(items, excluded, f"tritonbench-{variant}")


def load_kernelbench(root: Path, levels: str, device: str | None) -> SuiteLoad:
    """KernelBench items; on CPU (the Triton interpreter) at reduced sizes by `importers.scale_kernelbench`,
    each item's `meta["size"]` saying what was reduced (the reference's first line says it too)."""
    imps = importers.kernelbench_tasks(root, parse_levels(levels), explicit=bool(levels))
    tasks = [i.task for i in imps]
    if (device or _default_device()) == "cpu":
        scaled = importers.scale_kernelbench([t.reference for t in tasks])
        out = []
        for t, sc in zip(tasks, scaled, strict=True):
            item = default_item(dataclasses.replace(t, reference=sc.source))
            out.append(dataclasses.replace(item, meta={"size": sc.describe()}))
        return SuiteLoad(out, [], "kernelbench")
    return SuiteLoad([default_item(t) for t in tasks], [], "kernelbench")


def _default_device() -> str:
    from stagekit.devices import cuda_available

    return "cuda" if cuda_available() else "cpu"


# --------------------------------------------------------------------------- dispatch
def _existing(path_text: str, spec: str) -> Path:
    if not path_text:
        raise SuiteError(f"suite {spec!r}: missing path")
    p = Path(path_text).expanduser()
    if not p.exists():
        raise SuiteError(f"suite {spec!r}: no such path {p}")
    return p


SUITE_KINDS = ("heldout", "kernelbench", "tritonbench-t", "tritonbench-g", "folder")


def load_suite_full(spec: str, prompt_format: str | None = None, limit: int | None = None,
                    device: str | None = None) -> SuiteLoad:
    """Items plus excluded files (those that cannot be evaluated, with their reasons). `device` "cpu"
    (default: cpu when no GPU is visible) runs KernelBench at reduced sizes; `limit` keeps the first N
    runnable items. Any problem with the spec or checkout -> one SuiteError line."""
    if prompt_format is not None and prompt_format not in PROMPT_FORMATS:
        raise SuiteError(f"unknown prompt format {prompt_format!r} (choose from {', '.join(PROMPT_FORMATS)})")
    if device not in (None, "auto", "cpu", "cuda"):
        raise SuiteError(f"unknown device {device!r} (auto, cpu or cuda)")
    device = None if device == "auto" else device
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in SUITE_KINDS:
        if Path(spec).expanduser().exists():  # a bare path is a folder (or single-file) suite
            kind, rest = "folder", spec
        else:
            raise SuiteError(f"unknown suite {spec!r}: use one of {', '.join(k + ':PATH' for k in SUITE_KINDS)}")
    loaders: dict[str, Callable[[], SuiteLoad]] = {
        "heldout": lambda: SuiteLoad([default_item(t) for t in load_heldout(_existing(rest, spec))], [], "heldout"),
        "folder": lambda: SuiteLoad([dataclasses.replace(default_item(i.task), solution=i.solution)
                                     for i in importers.user_tasks(_existing(rest, spec), prefix="")], [], "folder"),
        "tritonbench-t": lambda: load_tritonbench(_existing(rest, spec), "t", prompt_format or "tritonbench"),
        "tritonbench-g": lambda: load_tritonbench(_existing(rest, spec), "g", prompt_format or "tritonbench"),
    }
    if kind == "kernelbench":
        path_text, _, levels = rest.partition(":")
        loaders["kernelbench"] = lambda: load_kernelbench(_existing(path_text, spec), levels, device)
    try:
        loaded = loaders[kind]()
    except (DataError, TaskError) as e:
        raise SuiteError(str(e)) from None
    ids = [it.task_id for it in loaded.items]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"suite {spec!r}: duplicate task ids")
    if limit:
        loaded.items = loaded.items[:limit]
    return loaded
