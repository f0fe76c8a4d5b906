"""What every importer shares: the `Imported` record and reading task files from local paths.

A wrong-shaped folder, a missing path or a malformed file raises one `DataError` line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_pipeline.errors import DataError
from rewards.contract.task import Task, TaskError


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
