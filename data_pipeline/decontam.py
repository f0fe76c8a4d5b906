"""Decontamination: drop train rows whose code overlaps a held-out or benchmark item.

Test: normalised-token n-grams (13 by default). A row is contaminated when at least `threshold` of its
n-grams occur in one single eval item (an exact copy scores 1.0). n-grams found in more documents
(train rows and eval items) than `max_df` of them (at least `min_df_limit`) are ignored: they are
shared boilerplate (imports, `get_init_inputs`, the masked-load idiom), and counting them would flag
every row that merely looks like Triton.

What this does not catch: a paraphrase (same computation, different code) of an eval item. For the
synthesized held-out split that case is excluded by construction: held-out op combinations
(signatures) never occur in train.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from data_pipeline.dedup import Drop
from data_pipeline.normalize import code_tokens, ngrams


@dataclass(frozen=True)
class EvalItem:
    """A text we must not train on: a held-out task or an imported benchmark item (reference/solution)."""

    item_id: str
    source: str
    texts: tuple[str, ...]


def decontaminate(rows: Sequence[dict[str, Any]], text: Callable[[dict[str, Any]], Sequence[str]],
                  evals: Sequence[EvalItem], *, key: str = "sample_id", n: int = 13, threshold: float = 0.5,
                  max_df: float = 0.005, min_df_limit: int = 3) -> tuple[list[dict[str, Any]], list[Drop]]:
    """Return (kept rows, drops with reason `contamination:<eval source>` and the eval item id)."""
    if not evals or not rows:
        return list(rows), []
    row_grams = [ngrams([t for p in text(r) for t in code_tokens(p)], n) for r in rows]
    eval_grams = [{g for t in item.texts for g in ngrams(code_tokens(t), n)} for item in evals]
    # Document frequency over train rows and eval items together: an n-gram shared by more documents
    # than a leak (the copy + its original) plus a little slack is template, not evidence.
    df: Counter[str] = Counter(g for grams in row_grams + eval_grams for g in grams)
    limit = max(min_df_limit, int(max_df * (len(rows) + len(evals))))
    index: dict[str, list[int]] = defaultdict(list)
    for i, grams in enumerate(eval_grams):
        for g in grams:
            index[g].append(i)
    kept: list[dict[str, Any]] = []
    drops: list[Drop] = []
    for row, grams in zip(rows, row_grams, strict=True):
        informative = [g for g in grams if df[g] <= limit]
        hits: Counter[int] = Counter(i for g in informative for i in index.get(g, ()))
        if informative and hits:
            item, count = hits.most_common(1)[0]
            score = count / len(informative)
            if score >= threshold:
                drops.append(Drop(row[key], f"contamination:{evals[item].source}", evals[item].item_id, round(score, 4)))
                continue
        kept.append(row)
    return kept, drops
