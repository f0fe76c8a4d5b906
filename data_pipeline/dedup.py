"""Deduplication: exact (normalised-code hash) then near-duplicate (MinHash LSH, datasketch).

Rows are kept first-come: the caller orders rows by preference (e.g. verified synth before distilled),
so the survivor of a duplicate group is the preferred one. Every drop is reported with the id it
duplicated, so the dataset card can say what was removed and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from datasketch import MinHash, MinHashLSH

from data_pipeline.normalize import code_tokens, ngrams, normalized_hash


@dataclass(frozen=True)
class Drop:
    """One removed row: which, why (exact_duplicate, near_duplicate, contamination), and of what."""

    row_id: str
    reason: str
    other: str
    score: float = 1.0


def _minhash(tokens: list[str], shingle: int, num_perm: int) -> MinHash:
    m = MinHash(num_perm=num_perm, seed=1)
    for g in ngrams(tokens, shingle):
        m.update(g.encode())
    return m


def dedup(rows: Sequence[dict[str, Any]], text: Callable[[dict[str, Any]], Sequence[str]], *,
          key: str = "sample_id", threshold: float = 0.95, num_perm: int = 128, shingle: int = 5,
          normalize_identifiers: bool = False, near: bool = True) -> tuple[list[dict[str, Any]], list[Drop]]:
    """Return (kept rows, drops). `text(row)` gives the sources that define a row's identity."""
    kept: list[dict[str, Any]] = []
    drops: list[Drop] = []
    seen: dict[str, str] = {}
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm) if near and threshold < 1.0 else None
    hashes: dict[str, MinHash] = {}
    for row in rows:
        parts = text(row)
        h = normalized_hash(*parts, normalize_identifiers=normalize_identifiers)
        if h in seen:
            drops.append(Drop(row[key], "exact_duplicate", seen[h]))
            continue
        if lsh is not None:
            tokens = [t for p in parts for t in code_tokens(p, normalize_identifiers)]
            m = _minhash(tokens, shingle, num_perm)
            candidates = lsh.query(m)
            best = max(candidates, key=lambda c: m.jaccard(hashes[c]), default=None)
            if best is not None:
                drops.append(Drop(row[key], "near_duplicate", best, round(m.jaccard(hashes[best]), 4)))
                continue
            lsh.insert(row[key], m)
            hashes[row[key]] = m
        seen[h] = row[key]
        kept.append(row)
    return kept, drops
