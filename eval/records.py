"""What eval runs write and read: the journal of verdict rows (JSON lines) and the eval's user error.

Its own module so that `eval.run` (which writes reports) and `eval.report` (which reads runs) both import
from here and never from each other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stagekit.errors import UserError


class EvalError(UserError):
    """A user-facing problem with an eval run (message is one line)."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete JSON lines of a journal; a torn last line (crash mid-write) is skipped."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("a") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
