"""Write a built corpus as a `datasets`-loadable folder, atomically.

Layout (``datasets.load_dataset(DIR)`` picks the splits from the card's YAML header):

    DIR/README.md                      dataset card: configs/data_files, counts, licences, how it was built
    DIR/data/{split}-00000-of-00001.parquet   splits sft, rl, heldout, attempts
    DIR/build_report.json              config, per-stage counts, every drop with its reason
    DIR/indist/                        in-distribution held-out split (`save_to_disk`, split `heldout`)

The in-distribution split lives in its own `save_to_disk` folder whose one split is called `heldout`, so
the eval suite `heldout:DIR/indist` reads it with the same loader as `heldout:DIR`, while `heldout:DIR`
(which collects the `*heldout*.parquet` files under DIR) never mixes the two: the folder holds arrow files.

Everything is written into ``DIR.partial/`` and renamed to ``DIR`` at the end, so a failed or killed
write never leaves a half corpus under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets

from data_pipeline.errors import DataError

datasets.disable_progress_bars()

SPLITS = ("sft", "rl", "heldout", "attempts")

_MESSAGES = [{"role": datasets.Value("string"), "content": datasets.Value("string")}]
_VERIFY = {
    "verify_status": datasets.Value("string"),
    "verify_max_abs_err": datasets.Value("float64"),
    "verify_trials": datasets.Value("int64"),
    "verify_kernel_launches": datasets.Value("int64"),
    "verify_summary": datasets.Value("string"),
}
_META = {
    "task_id": datasets.Value("string"),
    "source": datasets.Value("string"),
    "op_kind": datasets.Value("string"),
    "difficulty": datasets.Value("string"),
    "signature": datasets.Value("string"),
    "license": datasets.Value("string"),
    "provenance": datasets.Value("string"),
    "instruction": datasets.Value("string"),
    "reference": datasets.Value("string"),
}
# sft, rl and heldout share one schema (a `datasets` config needs one schema across its splits): an SFT
# row also carries its `prompt`, an RL row with a known solution also carries the full `messages`.
TASK_FEATURES = datasets.Features({
    "messages": _MESSAGES, "prompt": _MESSAGES, "sample_id": datasets.Value("string"), **_META,
    "solution": datasets.Value("string"), "has_solution": datasets.Value("bool"), **_VERIFY,
})
ATTEMPT_FEATURES = datasets.Features({
    "attempt_id": datasets.Value("string"), "task_id": datasets.Value("string"), "source": datasets.Value("string"),
    "prompt": _MESSAGES, "completion": datasets.Value("string"), "reference": datasets.Value("string"),
    "correct": datasets.Value("bool"), "backend": datasets.Value("string"), "model": datasets.Value("string"),
    **_VERIFY,
})
FEATURES = {"sft": TASK_FEATURES, "rl": TASK_FEATURES, "heldout": TASK_FEATURES, "attempts": ATTEMPT_FEATURES}
INDIST_DIR = "indist"


def _table(counter: Counter[str], title: str) -> list[str]:
    lines = [f"| {title} | rows |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
    return lines


def dataset_card(name: str, splits: dict[str, Sequence[dict[str, Any]]], report: dict[str, Any]) -> str:
    """README.md with the YAML header `datasets` reads, then human-readable counts."""
    header = ["---", "configs:", "- config_name: default", "  default: true", "  data_files:"]
    # `datasets` cannot load a declared split with no rows: only non-empty splits are declared and written.
    for s in SPLITS[:3]:
        if splits[s]:
            header += [f"  - split: {s}", f"    path: data/{s}-*.parquet"]
    if splits["attempts"]:
        header += ["- config_name: attempts", "  data_files:", "  - split: train", "    path: data/attempts-*.parquet"]
    licenses = sorted({r.get("license", "unknown") for rows in splits.values() for r in rows})
    header += ["license: other", "tags:", "- triton", "- gpu-kernels", "- code", "- synthetic", "---", ""]
    body = [f"# {name}", "",
            "PyTorch modules (KernelBench convention: `Model`, `get_inputs`, `get_init_inputs`) paired with Triton",
            "implementations (`ModelNew`). Every SFT row's code was executed and checked against its reference by",
            "the tritonforge verifier (`rewards.verify_batch`: sandboxed, several random input sets, dtype tolerances).",
            "", "## Splits", "", "| split | rows | use |", "|---|---:|---|",
            f"| sft | {len(splits['sft'])} | `messages` (system, user, assistant) for SFT |",
            f"| rl | {len(splits['rl'])} | `prompt` + `reference` for GRPO's execution reward |",
            f"| heldout | {len(splits['heldout'])} | op combinations never seen in train (evaluation) |",
            f"| indist | {len(splits.get('indist') or [])} | unseen instances of train op combinations (evaluation; "
            f"folder `{INDIST_DIR}/`, suite `heldout:DIR/{INDIST_DIR}`) |",
            f"| attempts | {len(splits['attempts'])} | every raw teacher attempt with its verdict (config `attempts`) |", "",
            "```python", "import datasets", "sft = datasets.load_dataset(PATH, split=\"sft\")",
            "attempts = datasets.load_dataset(PATH, \"attempts\", split=\"train\")", "```", ""]
    sft = splits["sft"]
    if sft:
        body += ["## SFT rows by source", ""] + _table(Counter(r["source"] for r in sft), "source") + [""]
        body += ["## SFT rows by op kind", ""] + _table(Counter(r["op_kind"] for r in sft), "op kind") + [""]
        body += ["## SFT rows by difficulty", ""] + _table(Counter(str(r["difficulty"]) for r in sft), "difficulty")
        body += [""]
    body += ["## Licences", ""] + [f"- {lic}" for lic in licenses] + [""]
    body += ["Synthesized rows (source `synth`) are generated by tritonforge and released under Apache-2.0.",
             "Imported rows keep the licence of their benchmark (see `license` and `provenance` per row).", ""]
    body += ["## How it was built", ""]
    for line in report.get("stages", []):
        body.append(f"- {line}")
    drops = Counter(d["reason"] for d in report.get("drops", []))
    if drops:
        body += ["", "Dropped rows:", ""] + _table(drops, "reason")
    body += ["", "Build settings are in `build_report.json`. Rebuild with "
             "`tritonforge data build --config RECIPE.yaml --out DIR`.", ""]
    return "\n".join(header + body)


def write_dataset(out: Path, name: str, splits: dict[str, Sequence[dict[str, Any]]], report: dict[str, Any]) -> Path:
    """Write all splits + card + report into OUT.partial/, then rename it to OUT (replacing OUT if present)."""
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    (partial / "data").mkdir(parents=True)
    if not any(splits.get(s) for s in SPLITS[:3]):
        raise DataError("the build produced no rows at all (every candidate failed or was dropped); nothing written")
    for split in SPLITS:
        feats = FEATURES[split]
        rows = [{k: r.get(k, [] if k in ("messages", "prompt") else None) for k in feats}
                for r in splits.get(split, [])]
        if not rows:
            continue
        ds = datasets.Dataset.from_list(rows, features=feats)
        ds.to_parquet(str(partial / "data" / f"{split}-00000-of-00001.parquet"))
    indist = splits.get("indist") or []
    if indist:
        rows = [{k: r.get(k, [] if k in ("messages", "prompt") else None) for k in TASK_FEATURES} for r in indist]
        datasets.DatasetDict({"heldout": datasets.Dataset.from_list(rows, features=TASK_FEATURES)}).save_to_disk(
            str(partial / INDIST_DIR))
    card_splits = {s: splits.get(s, []) for s in SPLITS}
    card_splits["indist"] = indist
    (partial / "README.md").write_text(dataset_card(name, card_splits, report))
    (partial / "build_report.json").write_text(json.dumps(report, indent=1, sort_keys=True, default=str))
    _fsync_dir(partial)
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


def _fsync_dir(path: Path) -> None:
    """Flush the files so the rename never publishes a folder whose contents are still in page cache only."""
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
