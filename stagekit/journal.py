"""Append-only JSONL journal: what makes the data build, eval and the self-check resumable after kill -9.

Records are written in batches, flushed and fsync'ed before the caller moves on, so a kill loses at most
the batch in flight, which is simply redone. A truncated last line (the kill landed mid-write) is ignored
on read and cut before the next append, so new records never glue onto it; keyed reads keep a repeated
key's last record, so a rerun can neither lose nor duplicate a row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class Journal:
    """One JSONL file of records (JSON objects), appended in batches."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def rows(self) -> list[dict[str, Any]]:
        """Every complete record, in write order (a torn last line is skipped: its batch is redone)."""
        rows: list[dict[str, Any]] = []
        if not self.path.exists():
            return rows
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    break
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict):
                    rows.append(rec)
        return rows

    def load(self, key: str = "key") -> dict[Any, dict[str, Any]]:
        """Records by their `key` field (the last one wins; records without it are skipped)."""
        return {rec[key]: rec for rec in self.rows() if key in rec}

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        if not data:
            return
        self._heal()
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def _heal(self) -> None:
        """Cut a torn last line left by a kill, so new records do not glue onto it."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":
                return
            f.seek(0)
            f.truncate(f.read().rfind(b"\n") + 1)
