"""Eval reports: metrics.json, report.md and PNG plots for one run; side-by-side comparison of several.

Everything here is derived from the per-sample journal, so a report can be rebuilt at any time
(`write_report(dir, read_jsonl(dir/'samples.jsonl'))`) and a comparison only needs the folders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.metrics import FAST_P_THRESHOLDS, compute_metrics, fast_name, per_task_table
from rewards.oracle.benchmark_checks import DESCRIPTIONS

HEADLINE = ("exec_accuracy", "call_accuracy", "compile_accuracy", "pass@1", "pass@5", "pass@10",
            "fast_1", "geomean_speedup", "hack_rate")


def fmt(v: Any) -> str:
    """Numbers for humans: fractions as percentages, speedups with an x, missing as an em dash."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def benchmark_keys(metrics: dict[str, Any]) -> list[str]:
    """The `exec_accuracy[<rule>]` keys of a run: the benchmark's own pass rules reported beside ours."""
    return sorted(k for k in metrics if k.startswith("exec_accuracy["))


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_status(metrics: dict[str, Any], path: Path, title: str) -> Path:
    plt = _plt()
    counts = metrics["by_status"] or {"(none)": 0}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(list(counts), list(counts.values()), color=["#2a9d8f" if k == "ok" else "#e76f51" for k in counts])
    ax.set_ylabel("samples")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_speedups(records: Sequence[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Histogram of log2 speedups of correct samples; only when timing was taken (GPU)."""
    import math

    sps = [r["speedup"] for r in records if r.get("correct") and r.get("speedup")]
    if not sps:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([math.log2(s) for s in sps], bins=20, color="#264653")
    ax.axvline(0, color="k", lw=1)
    ax.set_xlabel("log2(speedup vs eager)")
    ax.set_ylabel("correct samples")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def suite_lines(suite: dict[str, Any] | None, n_tasks: int) -> list[str]:
    """The denominators: files in the benchmark, runnable ones, excluded ones (listed at the end)."""
    if not suite:
        return []
    excluded = suite.get("excluded") or []
    if suite.get("limit"):  # the runnable count is then the first N, not the benchmark's
        counts = f"{suite['runnable']} runnable tasks (the first {suite['limit']} by --limit), {len(excluded)} files excluded"
    else:
        counts = f"{suite['runnable'] + len(excluded)} files, {suite['runnable']} runnable, {len(excluded)} excluded"
    return [f"Benchmark `{suite['benchmark']}`: {counts}{' (listed below)' if excluded else ''}. Accuracies are "
            f"over the {n_tasks} evaluated tasks; infra errors are left out of every denominator.", ""]


def markdown_report(metrics: dict[str, Any], records: Sequence[dict[str, Any]], settings: dict[str, Any],
                    suite: dict[str, Any] | None = None) -> str:
    label = settings.get("label") or Path(str(settings.get("model") or "default")).name
    lines = [
        f"# Eval: {label} on `{settings.get('suite')}`",
        "",
        f"{metrics['n_tasks']} tasks, {metrics['n_samples']} samples "
        f"({settings.get('samples')} per task, temperature {settings.get('temperature')}, seed {settings.get('seed')}); "
        f"timing {'on (GPU)' if metrics['timed'] else 'off (CPU: speedups not measured)'}.",
        "",
        *suite_lines(suite, metrics["n_tasks"]),
        "| metric | value |",
        "|---|---|",
    ]
    for key in ("compile_accuracy", "call_accuracy", "exec_accuracy", "task_solve_rate"):
        lines.append(f"| {key} | {_pct(metrics.get(key))} |")
    for key in benchmark_keys(metrics):  # the benchmark's own pass rule, comparable with published numbers
        rule = key[len("exec_accuracy["):-1]
        lines.append(f"| exec_accuracy, {DESCRIPTIONS.get(rule, rule)} | {_pct(metrics[key])} |")
    for key in sorted(k for k in metrics if k.startswith("pass@")):
        lines.append(f"| {key} | {_pct(metrics[key])} |")
    for p in FAST_P_THRESHOLDS:
        lines.append(f"| {fast_name(p)} | {_pct(metrics.get(fast_name(p)))} |")
    gm = metrics.get("geomean_speedup")
    lines += [
        f"| geomean speedup (correct) | {'—' if gm is None else f'{gm:.2f}x'} |",
        *([f"| geomean speedup vs torch.compile | {metrics['geomean_speedup_vs_compile']:.2f}x |"]
          if metrics.get("geomean_speedup_vs_compile") is not None else []),
        f"| hack rate | {_pct(metrics.get('hack_rate'))} ({metrics['hack_count']} samples) |",
        f"| infra errors (excluded) | {metrics['infra_errors']} |",
        "",
        "## Status breakdown",
        "",
        "| status | samples |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in metrics["by_status"].items()],
    ]
    if metrics.get("uninformative_tasks"):
        lines += ["", "## Uninformative tasks", "",
                  "Their oracle accepts a trivial answer (all zeros, a constant, an input passed through) on every "
                  "trial, so a correct verdict there says little:", "",
                  *[f"- {t}" for t in metrics["uninformative_tasks"]]]
    if metrics["by_rule"]:
        lines += ["", "## Fatal rule findings", "", "| rule | samples |", "|---|---|",
                  *[f"| {k} | {v} |" for k, v in metrics["by_rule"].items()]]
    lines += ["", "## Per task", "", "| task | samples | solved | hacks | best speedup | statuses |", "|---|---|---|---|---|---|"]
    for row in per_task_table(records):
        sp = "—" if row["best_speedup"] is None else f"{row['best_speedup']:.2f}x"
        lines.append(f"| {row['task_id']} | {row['samples']} | {row['solved']} | {row['hacks']} | {sp} | {row['statuses']} |")
    if suite and suite.get("excluded"):
        lines += ["", "## Excluded files", "", "| file | reason |", "|---|---|",
                  *[f"| {e['task_id']} | {str(e['reason']).replace('|', '/')} |" for e in suite["excluded"]]]
    lines += ["", "![status](plots/status.png)"]
    if (metrics.get("n_timed_correct") or 0) > 0:
        lines.append("![speedups](plots/speedup.png)")
    return "\n".join(lines) + "\n"


def write_report(out: Path, records: Sequence[dict[str, Any]], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compute metrics from the journal rows and write metrics.json, report.md and plots/; return metrics."""
    out = Path(out)
    if settings is None:
        run = out / "run.json"
        settings = json.loads(run.read_text()).get("settings", {}) if run.is_file() else {}
    suite_file = out / "suite.json"
    suite = json.loads(suite_file.read_text()) if suite_file.is_file() else None
    metrics = compute_metrics(records, benchmark=(suite or {}).get("benchmark"))
    label = settings.get("label") or Path(str(settings.get("model") or "default")).name
    payload = {"label": label, "settings": settings, "metrics": metrics, **({"suite": suite} if suite else {})}
    (out / "metrics.json").write_text(json.dumps(payload, indent=2, sort_keys=True))
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    plot_status(metrics, plots / "status.png", f"{label}: status breakdown")
    plot_speedups(records, plots / "speedup.png", f"{label}: speedups of correct samples")
    (out / "report.md").write_text(markdown_report(metrics, records, settings, suite))
    return metrics


def load_run(d: str | Path) -> dict[str, Any]:
    """metrics.json of an eval folder (rebuilt from the journal when missing)."""
    d = Path(d)
    path = d / "metrics.json"
    if not path.is_file():
        from eval.records import EvalError, read_jsonl

        rows = read_jsonl(d / "samples.jsonl")
        if not rows:
            raise EvalError(f"{d}: not an eval folder (no metrics.json or samples.jsonl)")
        write_report(d, rows)
    return json.loads(path.read_text())


def eval_table(runs: Sequence[dict[str, Any]], keys: Sequence[str] = HEADLINE) -> str:
    """A Markdown table with one row per run (used by compare and by the release model card).

    Runs evaluated with refinement turns (`eval --turns N`) add exec accuracy and pass@1 at turn N beside
    the headline (turn 1) numbers."""
    runs = [_with_last_turn(r) for r in runs]
    n_turns = max([r["metrics"]["turns"]["turns"] for r in runs if r["metrics"].get("turns")] or [1])
    if n_turns > 1:
        keys = [*keys, f"exec_accuracy turn {n_turns}", f"pass@1 turn {n_turns}"]
    present = [k for k in keys if any(r["metrics"].get(k) is not None for r in runs)]
    head = "| model | suite | tasks x samples | " + " | ".join(present) + " |"
    sep = "|---" * (len(present) + 3) + "|"
    rows = [head, sep]
    for r in runs:
        m, s = r["metrics"], r.get("settings", {})
        cells = []
        for k in present:
            v = m.get(k)
            if k == "geomean_speedup":
                cells.append("—" if v is None else f"{v:.2f}x")
            else:
                cells.append(_pct(v) if isinstance(v, (int, float)) else "—")
        rows.append(f"| {r['label']} | `{s.get('suite', '?')}` | {m['n_tasks']} x {s.get('samples', '?')} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _with_last_turn(run: dict[str, Any]) -> dict[str, Any]:
    """A run whose metrics also hold `exec_accuracy turn N` / `pass@1 turn N` (N: its last turn), if it had turns."""
    tm = run["metrics"].get("turns")
    if not tm or not tm.get("per_turn"):
        return run
    last = tm["per_turn"][-1]
    extra = {f"exec_accuracy turn {last['turn']}": last["exec_accuracy"], f"pass@1 turn {last['turn']}": last["pass@1"]}
    return {**run, "metrics": {**run["metrics"], **extra}}


def plot_compare(runs: Sequence[dict[str, Any]], path: Path) -> Path:
    """Grouped bars: one group per metric, one bar per model."""
    plt = _plt()
    keys = [k for k in ("compile_accuracy", "call_accuracy", "exec_accuracy", "pass@1", "fast_1", "hack_rate")
            if any(r["metrics"].get(k) is not None for r in runs)]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(keys)), 3.8))
    width = 0.8 / max(1, len(runs))
    for i, r in enumerate(runs):
        vals = [100 * (r["metrics"].get(k) or 0.0) for k in keys]
        ax.bar([j + i * width for j in range(len(keys))], vals, width=width, label=r["label"])
    ax.set_xticks([j + width * (len(runs) - 1) / 2 for j in range(len(keys))], keys, rotation=20)
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title("model comparison")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def compare(dirs: Sequence[str | Path], out: str | Path | None = None) -> str:
    """Markdown comparison of several eval folders; with `out`, also writes it and a PNG beside it."""
    from eval.records import EvalError

    if not dirs:
        raise EvalError("compare needs at least one eval folder")
    runs = [load_run(d) for d in dirs]
    labels = [r["label"] for r in runs]
    for i, r in enumerate(runs):  # disambiguate identical labels by folder name
        if labels.count(r["label"]) > 1:
            r["label"] = f"{r['label']} ({Path(dirs[i]).name})"
    md = "# Model comparison\n\n" + eval_table(runs)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        png = plot_compare(runs, out.with_suffix(".png"))
        md += f"\n![comparison]({png.name})\n"
        out.write_text(md)
    return md
