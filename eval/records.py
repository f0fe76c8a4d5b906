"""What eval runs write and read: the journal of verdict rows (JSON lines) and the eval's user error.

Its own module so that `eval.run` (which writes reports) and `eval.report` (which reads runs) both import
from here and never from each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stagekit.errors import UserError
from stagekit.journal import Journal


class EvalError(UserError):
    """A user-facing problem with an eval run (message is one line)."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete records of an eval folder's journal (samples.jsonl, completions.jsonl)."""
    return Journal(path).rows()


def append_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    Journal(path).append(rows)
