"""Append-only JSONL progress journal: what makes a build resumable after kill -9.

Each record carries a key. Records are written in batches, flushed and fsync'ed before the build
moves on, so a kill loses at most the batch in flight, which is simply redone. On load, a truncated
last line (the kill landed mid-write) is ignored and a repeated key keeps its last record, so a
rerun can neither lose nor duplicate a row.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class Journal:
    """One JSONL file of `{"key": ..., ...}` records."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return records
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # torn write at the end: that batch is redone
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(rec, dict) and "key" in rec:
                    records[rec["key"]] = rec
        return records

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
