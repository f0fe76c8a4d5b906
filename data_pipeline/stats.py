"""What is in a built corpus: a table on stdout and a PNG plot of SFT rows by op kind and by source."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from data_pipeline.corpus import SPLITS, read_rows
from data_pipeline.errors import DataError


def load_splits(path: str | Path) -> dict[str, list[dict]]:
    """Read the parquet splits of a built corpus folder (the layout is `data_pipeline.corpus`')."""
    try:
        return read_rows(path)
    except DataError as e:
        raise DataError(f"stats: {e}") from None


def stats_table(splits: dict[str, list[dict]]) -> str:
    lines = ["split      rows"] + [f"{s:<10} {len(splits.get(s, [])):>5}" for s in SPLITS]
    sft = splits.get("sft", [])
    for col in ("op_kind", "source", "difficulty", "license", "verify_status"):
        c = Counter(str(r.get(col)) for r in sft)
        if c:
            lines += ["", f"sft by {col:<12} rows"] + [f"  {k:<20} {v:>5}" for k, v in c.most_common()]
    return "\n".join(lines)


def plot(splits: dict[str, list[dict]], png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sft = splits.get("sft", [])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, col in zip(axes, ("op_kind", "source"), strict=True):
        c = Counter(str(r.get(col)) for r in sft).most_common()
        ax.barh([k for k, _ in c][::-1], [v for _, v in c][::-1], color="#4c72b0")
        ax.set_title(f"SFT rows by {col}")
        ax.set_xlabel("rows")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return png


def stats(path: str | Path, png: str | Path | None = None) -> tuple[str, Path]:
    """(table text, plot path). The plot goes to DIR/stats.png unless `png` is given."""
    splits = load_splits(path)
    return stats_table(splits), plot(splits, Path(png) if png else Path(path) / "stats.png")
