"""TritonBench-T / -G: a local checkout read into value-oracle tasks and eval items.

Layout read (nothing is downloaded; users pass local paths): ``ROOT[/data]/TritonBench_{T,G}_v1/*.py``
(one file per task: code, a ``#####...`` separator line, then a test harness that calls the code's
functions) and, optional, the index ``TritonBench_{T,G}_v1.json[l]`` next to it (a JSON list upstream,
JSON lines accepted too) whose entries name ``file`` and carry the instruction texts. With an index, its
entries are the task list.

TritonBench is compared by *values*, not by TritonBench's printed text: the harness becomes the body of a
synthesized KernelBench reference whose `__init__`/`get_inputs` run the test once to record every call of
the entry functions (and their tensors), and whose `forward` replays those calls. A candidate gets the
same harness appended as `ModelNew` (`with_harness`), so reference and candidate run through the one
sandboxed `verify` on every test case. A file is taken apart by `data_pipeline.tritonbench_split`; the
harness is `data_pipeline.tritonbench_harness`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_pipeline.decontam import EvalItem
from data_pipeline.errors import DataError
from data_pipeline.import_common import Imported, _path, _py_files
from data_pipeline.tritonbench_harness import _REFERENCE_TAIL, harness_source, with_harness
from data_pipeline.tritonbench_split import split_tritonbench
from rewards.contract.task import Task, TaskError

TRITONBENCH_LICENSE = "see thunlp/TritonBench"


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
