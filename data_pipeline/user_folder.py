"""User folders: ``*.py`` task files (or one file); ``<stem>_solution.py`` next to one is its candidate."""

from __future__ import annotations

from pathlib import Path

from data_pipeline.errors import DataError
from data_pipeline.import_common import Imported, _path, _py_files, _task_file


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
