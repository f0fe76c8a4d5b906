"""KernelBench: the importer, and (re-exported from `rewards.oracle.task_sizes`) the size rule that runs its references
on CPU (the Triton interpreter).

Layout read (nothing is downloaded; users pass local paths): ``ROOT/level{1,2,3,4}/*.py`` or
``ROOT/KernelBench/levelN/*.py`` — each file is a task.
"""

from __future__ import annotations

from pathlib import Path

from data_pipeline.errors import DataError
from data_pipeline.import_common import Imported, _path, _py_files, _task_file

# The size rule for the CPU interpreter lives in `rewards.oracle.task_sizes` (verify uses it too); re-exported here.
from rewards.oracle.task_sizes import (
    CPU_BUDGET_ELEMS,
    SIZE_FLOOR,
    SIZE_MIN,
    Scaled,
    probe_sizes,
    rewrite_constants,
    scale_kernelbench,
    size_constants,
)

KERNELBENCH_LICENSE = "MIT"
__all__ = ["CPU_BUDGET_ELEMS", "KERNELBENCH_LICENSE", "SIZE_FLOOR", "SIZE_MIN", "Scaled", "kernelbench_tasks",
           "probe_sizes", "rewrite_constants", "scale_kernelbench", "size_constants"]


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

