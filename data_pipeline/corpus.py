"""The one owner of the corpus' on-disk format: its splits, their columns, where each split's files live,
how a corpus is written (atomically) and how a split is read back.

Every stage that touches a corpus goes through this module (the builder's writer, SFT, GRPO, the
`heldout:` eval suites, `data stats`, the tests' fixture corpus), so a change of layout or of a column is
made here once and cannot leave one reader guessing at an older layout.

Layout (``datasets.load_dataset(DIR)`` picks the splits from the card's YAML header):

    DIR/README.md                               dataset card; its YAML `configs` header comes from `yaml_configs`
    DIR/data/{split}-00000-of-00001.parquet     splits sft, rl, heldout, attempts, refine (an empty split has no file)
    DIR/build_report.json                       config, per-stage counts, every drop with its reason
    DIR/indist/                                 in-distribution held-out split (`save_to_disk`, split `heldout`)

The in-distribution split lives in its own `save_to_disk` folder whose one split is called `heldout`, so
the eval suite `heldout:DIR/indist` reads it with the same loader as `heldout:DIR`, while `heldout:DIR`
never mixes the two. `load_split(DIR, "indist")` reads it too.

`datasets` is imported lazily: the column names are plain constants, so importing this module (the CLI,
`data stats`) does not pay for `datasets`' import.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from data_pipeline.errors import DataError
from stagekit.errors import MissingInputError

SPLITS = ("sft", "rl", "heldout", "attempts", "refine")  # the parquet splits, in card order
TASK_SPLITS = ("sft", "rl", "heldout")  # one schema: a `datasets` config needs one schema across its splits
INDIST = "indist"  # split name; also its folder under DIR
INDIST_SPLIT = "heldout"  # the split name inside DIR/indist (so `heldout:DIR/indist` is a held-out suite)
DATA_DIR = "data"
ATTEMPTS_CONFIG = "attempts"  # the `datasets` config holding the attempts split (as its `train` split)
REFINE_CONFIG = "refine"  # the `datasets` config holding the refinement conversations (as its `train` split)

# The per-row verdict of the verifier, carried by every split (names and types; values: `verify_columns`).
VERIFY_COLUMNS: dict[str, str] = {
    "verify_status": "string",
    "verify_max_abs_err": "float64",
    "verify_trials": "int64",
    "verify_kernel_launches": "int64",
    "verify_summary": "string",
}
_MESSAGES = "messages"  # type marker: a list of {"role", "content"} chat turns
_META: dict[str, str] = {
    "task_id": "string", "source": "string", "op_kind": "string", "difficulty": "string", "signature": "string",
    "license": "string", "provenance": "string", "instruction": "string", "reference": "string",
}
# An SFT row also carries its `prompt`; an RL row with a known solution also carries the full `messages`.
TASK_COLUMNS: dict[str, str] = {
    "messages": _MESSAGES, "prompt": _MESSAGES, "sample_id": "string", **_META,
    "solution": "string", "has_solution": "bool", **VERIFY_COLUMNS,
}
ATTEMPT_COLUMNS: dict[str, str] = {
    "attempt_id": "string", "task_id": "string", "source": "string", "prompt": _MESSAGES, "completion": "string",
    "reference": "string", "correct": "bool", "backend": "string", "model": "string", **VERIFY_COLUMNS,
}

# A refinement conversation (data_pipeline.refinement): prompt = task + wrong answer + feedback, completion = fix.
REFINE_COLUMNS: dict[str, str] = {
    "prompt": _MESSAGES, "completion": _MESSAGES, **{k: _META[k] for k in (
        "task_id", "source", "op_kind", "difficulty", "license", "provenance", "reference")},
    "refine_source": "string", "wrong_status": "string",
}


def columns(split: str) -> dict[str, str]:
    """Column name -> type of one split (`indist` rows are task rows)."""
    if split == "attempts":
        return ATTEMPT_COLUMNS
    if split == "refine":
        return REFINE_COLUMNS
    if split in (*TASK_SPLITS, INDIST):
        return TASK_COLUMNS
    raise DataError(f"unknown corpus split {split!r} (splits: {', '.join((*SPLITS, INDIST))})")


@cache
def features(split: str) -> Any:
    """The `datasets.Features` a split is written with (parquet files carry them, so readers get them back)."""
    import datasets

    msg = [{"role": datasets.Value("string"), "content": datasets.Value("string")}]
    return datasets.Features({k: msg if t == _MESSAGES else datasets.Value(t) for k, t in columns(split).items()})


def verify_columns(res: Any) -> dict[str, Any]:
    """A `VerifyResult` as the row's verdict columns (the values behind `VERIFY_COLUMNS`)."""
    return {"verify_status": res.status.value, "verify_max_abs_err": res.max_abs_err, "verify_trials": res.trials,
            "verify_kernel_launches": res.kernel_launches, "verify_summary": res.summary()}


def split_file(root: Path, split: str) -> Path:
    """Where the writer puts a parquet split (one shard: corpora are small)."""
    return root / DATA_DIR / f"{split}-00000-of-00001.parquet"


def split_files(root: Path, split: str) -> list[Path]:
    """A parquet split's files (every shard `datasets` would read for it); [] when the split is empty."""
    return sorted((root / DATA_DIR).glob(f"{split}-*.parquet"))


def yaml_configs(splits: Mapping[str, Sequence[Any]]) -> list[str]:
    """The card header's `configs:` lines that make `datasets.load_dataset(DIR)` find the splits.

    `datasets` cannot load a declared split that has no file, so only non-empty splits are declared.
    """
    lines = ["configs:", "- config_name: default", "  default: true", "  data_files:"]
    for s in TASK_SPLITS:
        if splits.get(s):
            lines += [f"  - split: {s}", f"    path: {DATA_DIR}/{s}-*.parquet"]
    if splits.get("attempts"):
        lines += [f"- config_name: {ATTEMPTS_CONFIG}", "  data_files:", "  - split: train",
                  f"    path: {DATA_DIR}/attempts-*.parquet"]
    if splits.get("refine"):
        lines += [f"- config_name: {REFINE_CONFIG}", "  data_files:", "  - split: train",
                  f"    path: {DATA_DIR}/refine-*.parquet"]
    return lines


def conform(rows: Sequence[Mapping[str, Any]], split: str) -> list[dict[str, Any]]:
    """Rows with exactly the split's columns: missing chat columns are [], other missing values None."""
    cols = columns(split)
    return [{k: r.get(k, [] if t == _MESSAGES else None) for k, t in cols.items()} for r in rows]


def write_corpus(out: Path, splits: Mapping[str, Sequence[Mapping[str, Any]]], readme: str,
                 report: Mapping[str, Any]) -> Path:
    """Write the splits (plus `indist`), README.md and build_report.json into OUT.partial/, then rename it to
    OUT (replacing OUT if present), so a failed or killed write never leaves a half corpus under the final name.

    `readme` is the whole card; its YAML header must hold `yaml_configs(splits)` for `load_dataset(OUT)`.
    """
    import datasets

    datasets.disable_progress_bars()
    if not any(splits.get(s) for s in TASK_SPLITS):
        raise DataError("the build produced no rows at all (every candidate failed or was dropped); nothing written")
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    (partial / DATA_DIR).mkdir(parents=True)
    for split in SPLITS:
        if rows := splits.get(split):
            ds = datasets.Dataset.from_list(conform(rows, split), features=features(split))
            ds.to_parquet(str(split_file(partial, split)))
    if rows := splits.get(INDIST):
        ds = datasets.Dataset.from_list(conform(rows, INDIST), features=features(INDIST))
        datasets.DatasetDict({INDIST_SPLIT: ds}).save_to_disk(str(partial / INDIST))
    (partial / "README.md").write_text(readme)
    (partial / "build_report.json").write_text(json.dumps(report, indent=1, sort_keys=True, default=str))
    _fsync_tree(partial)
    if out.exists():
        old = out.with_name(out.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        partial.rename(out)
        shutil.rmtree(old)
    else:
        partial.rename(out)
    return out


def _fsync_tree(path: Path) -> None:
    """Flush the files so the rename never publishes a folder whose contents are still in page cache only."""
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def _present(root: Path) -> list[str]:
    found = [s for s in SPLITS if split_files(root, s)]
    return found + ([INDIST] if (root / INDIST / "dataset_dict.json").is_file() else [])


def load_split(corpus: str | Path, split: str, max_samples: int | None = None, seed: int = 0) -> Any:
    """One split as a `datasets.Dataset`: from a folder `tritonforge data build` wrote, a `save_to_disk`
    DatasetDict folder (such as DIR/indist), or a hub dataset name.

    A missing corpus raises MissingInputError (a UserError and a FileNotFoundError: "build one first"); a corpus
    without that split raises DataError naming the splits it has. `max_samples` keeps a seeded random subset.
    """
    import datasets

    datasets.disable_progress_bars()
    p = Path(corpus).expanduser()
    if p.is_dir():
        if (p / "dataset_dict.json").is_file():
            dd = datasets.load_from_disk(str(p))
            if split not in dd:
                raise DataError(f"{p}: corpus has no {split!r} split (splits: {', '.join(dd)})")
            ds = dd[split]
        elif split == INDIST and (p / INDIST / "dataset_dict.json").is_file():
            ds = datasets.load_from_disk(str(p / INDIST))[INDIST_SPLIT]
        elif files := split_files(p, split):
            # force_redownload: a corpus rebuilt in the same folder must not be served from `datasets`' cache
            # (seen: a folder of the same name returned an earlier build's rows); re-reading is seconds.
            ds = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train",
                                       download_mode="force_redownload")
        else:
            have = _present(p)
            raise DataError(f"{p}: no {split!r} split (expected {DATA_DIR}/{split}-*.parquet as written by "
                            f"`tritonforge data build`; splits here: {', '.join(have) or 'none'})")
    elif p.exists():
        raise DataError(f"{p}: not a corpus folder (a corpus is a folder written by `tritonforge data build`)")
    elif "/" in str(corpus) and not str(corpus).startswith((".", "/", "~")):
        ds = datasets.load_dataset(str(corpus), split=split)
    else:
        raise MissingInputError(f"corpus {str(corpus)!r} not found: build one with `tritonforge data build`")
    if max_samples is not None and len(ds) > max_samples:
        ds = ds.shuffle(seed=seed).select(range(max_samples))
    return ds


def read_rows(root: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Every parquet split of a built corpus folder as plain rows (pyarrow only: no `datasets` cache involved)."""
    import pyarrow.parquet as pq

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such corpus folder")
    files = {s: split_files(root, s) for s in SPLITS}
    if not any(files.values()):
        raise DataError(f"{root}: not a built corpus (no {DATA_DIR}/*.parquet; build it with `data build`)")
    return {s: [row for f in fs for row in pq.read_table(f).to_pylist()] for s, fs in files.items()}
