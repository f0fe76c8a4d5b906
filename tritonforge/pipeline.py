"""`tritonforge pipeline --preset tiny --out DIR`: data build -> SFT -> GRPO -> eval x3 -> release.

Every stage runs as its own `tritonforge` subprocess (training memory is returned between stages, and
each stage's own resume logic applies), and a finished stage leaves a marker in DIR/.state, so rerunning
the same command after a kill continues where it stopped. Wall time per stage goes to DIR/pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from stagekit.errors import ConfigError


@dataclass(frozen=True)
class EvalPlan:
    """How the held-out splits are evaluated: tasks per split, samples per task, sampling, token limit.

    `samples` > 1 (with `temperature` > 0) gives pass@1 as an unbiased mean and pass@`samples`; the base
    model gets `base_samples` (greedy by default): its scores are ~0 and sampling it costs most of the eval.
    """

    limit: int
    samples: int = 1
    temperature: float = 0.0
    max_new_tokens: int = 512
    base_samples: int = 1
    splits: tuple[str, ...] = ("indist", "heldout")
    turns: int = 1  # > 1: failed samples are answered again after the judge's feedback (`eval --turns`)


@dataclass(frozen=True)
class Preset:
    """Which packaged recipes (names under stagekit/recipes/{data,sft,grpo}/) a preset uses, and its eval."""

    data: str
    sft: str
    grpo: str
    eval: EvalPlan
    device: str = "auto"
    budget: str = ""  # what it was sized for, printed at the start
    # > 0: the corpus also gets N refinement conversations (wrong answer, the judge's feedback, the fix) and SFT
    # trains on them, so the SFT model has seen the feedback turn before multi-turn RL or eval asks for it.
    refinement: int = 0
    # A second GRPO recipe trained from the same SFT model (model name "grpo-<recipe>"), evaluated beside the first.
    grpo_compare: str | None = None
    # > 0: every GRPO run of the preset stops after this many model-written tokens (equal generation budgets).
    grpo_token_budget: int = 0
    models: tuple[str, ...] = ("base", "sft", "grpo")  # which models are evaluated (rows of the table)

    def model_dirs(self, out: Path) -> dict[str, str]:
        """Model name -> weights: the embedded base, the SFT run, each GRPO run of the preset."""
        dirs = {"base": "default", "sft": str(out / "sft"), "grpo": str(out / "grpo")}
        if self.grpo_compare:
            dirs[f"grpo-{self.grpo_compare}"] = str(out / f"grpo-{self.grpo_compare}")
        return dirs


PRESETS: dict[str, Preset] = {
    # CPU, embedded SmolLM2-135M-Instruct: the README's main job, <= 20 min on 2 cores (see stagekit/recipes/*/tiny.yaml).
    "tiny": Preset(data="tiny", sft="tiny", grpo="tiny",
                   eval=EvalPlan(limit=8, max_new_tokens=448), device="cpu",
                   budget="<= 20 min on 2 CPU cores"),
    # CPU, all op kinds, an SFT that sees the corpus several times: <= 2 h on 2 cores (stagekit/recipes/*/small.yaml).
    "small": Preset(data="small", sft="small", grpo="small",
                    eval=EvalPlan(limit=16, samples=4, temperature=0.7, max_new_tokens=640), device="cpu",
                    budget="<= 2 h on 2 CPU cores"),
    # Single- vs multi-turn GRPO from one SFT model (trained on refinement conversations too), with the same
    # budget of model-written tokens; SFT and both GRPO models evaluated with 2 turns: turn 1 and 2 side by side.
    "small_multiturn": Preset(data="small", sft="small", grpo="small", grpo_compare="small_multiturn",
                              eval=EvalPlan(limit=16, samples=4, temperature=0.7, max_new_tokens=640, turns=2),
                              device="cpu", budget="~3 h on 2 idle CPU cores (SFT on refinement data, two GRPO runs)",
                              refinement=200, grpo_token_budget=32000,
                              models=("sft", "grpo", "grpo-small_multiturn")),
    # One GPU: the same flow with the 1gpu training recipes and a larger held-out eval.
    "1gpu": Preset(data="small", sft="1gpu", grpo="1gpu",
                   eval=EvalPlan(limit=60, samples=4, temperature=0.7, max_new_tokens=1024, base_samples=4),
                   device="cuda", budget="about an hour on one GPU"),
}


def suite_for(split: str, data: Path) -> str:
    """Eval suite of one held-out split of the corpus (see data_pipeline/writer.py for the layout)."""
    return f"heldout:{data / 'indist'}" if split == "indist" else f"heldout:{data}"


def eval_dir(out: Path, model: str, split: str) -> Path:
    return out / "eval" / f"{model}-{split}"


def stages(p: Preset, out: Path) -> list[tuple[str, list[str]]]:
    """(name, tritonforge argv) for each stage, in order: recipes by packaged name, options in their one spelling."""
    data, e = out / "data", p.eval
    dirs = p.model_dirs(out)
    refine = ["--refinement", str(p.refinement)] if p.refinement else []
    budget = ["--max_generated_tokens", str(p.grpo_token_budget)] if p.grpo_token_budget else []
    plan = [
        ("data", ["data", "build", "--config", p.data, "--out", str(data), *refine]),
        ("sft", ["sft", "--config", p.sft, "--corpus", str(data), "--output_dir", dirs["sft"],
                 *(["--refine_split", "refine"] if p.refinement else [])]),
    ]
    grpo_runs = {"grpo": p.grpo} | ({f"grpo-{p.grpo_compare}": p.grpo_compare} if p.grpo_compare else {})
    for name, recipe in grpo_runs.items():
        plan.append((name, ["grpo", "--config", recipe, "--corpus", str(data), "--model_name_or_path",
                            dirs["sft"], "--output_dir", dirs[name], *budget]))
    evals = []
    for name in p.models:
        model = dirs[name]
        samples = e.base_samples if name == "base" else e.samples
        temperature = e.temperature if samples > 1 else 0.0
        for split in e.splits:
            d = eval_dir(out, name, split)
            evals.append(d)
            plan.append((f"eval-{name}-{split}", [
                "eval", "--model", model, "--suite", suite_for(split, data), "--limit", str(e.limit),
                "--samples", str(samples), "--temperature", str(temperature), "--max_new_tokens",
                str(e.max_new_tokens), "--device", p.device, "--label", f"{name} ({split})", "--out", str(d),
                *(["--turns", str(e.turns)] if e.turns > 1 else [])]))
    plan.append(("compare", ["eval", "compare", *map(str, evals), "--out", str(out / "eval" / "compare.md")]))
    plan.append(("release", ["release", "--model", str(out / "grpo"), "--report", *map(str, evals),
                             "--out", str(out / "release")]))
    return plan


def results_table(p: Preset, out: Path, timings: dict[str, float]) -> str:
    """The base / SFT / GRPO table over both held-out splits, from the eval journals, plus wall time.

    Every number is eval's own (`eval.metrics.compute_metrics` over the eval folder's journal): pass@1 is
    `fast_0`, the mean over tasks of the share of a task's samples that are solved (with one greedy sample:
    the execution accuracy); pass@k the unbiased estimator; call acc. the share of samples whose code ran.
    """
    from eval.metrics import compute_metrics
    from eval.records import read_jsonl

    k, n_turns = p.eval.samples, p.eval.turns
    head = ["model"]
    for split in p.eval.splits:
        head += ([f"{split} pass@1 turn 1", f"{split} pass@1 turn {n_turns}"] if n_turns > 1 else [f"{split} pass@1"])
        head += ([f"{split} pass@{k}"] if k > 1 else []) + [f"{split} call acc."]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for model in p.models:
        cells = [model]
        for split in p.eval.splits:
            rows = read_jsonl(eval_dir(out, model, split) / "samples.jsonl")
            m = compute_metrics(rows, ks=(1, k))
            if not m["n_scored"]:
                cells += ["—"] * (2 + (k > 1) + (n_turns > 1))
                continue
            cells.append(f"{100 * m['fast_0']:.1f}% ({m['n_tasks']} tasks)")
            if n_turns > 1:
                from eval.turns import TURNS_FILE, turn_metrics

                later = read_jsonl(eval_dir(out, model, split) / TURNS_FILE)
                last = turn_metrics(rows, later, n_turns)["per_turn"][-1]["pass@1"]
                cells.append("—" if last is None else f"{100 * last:.1f}%")
            if k > 1:
                cells.append(f"{100 * m[f'pass@{k}']:.1f}%" if f"pass@{k}" in m else "— (1 sample)")
            cells.append(f"{100 * m['call_accuracy']:.1f}%")
        lines.append("| " + " | ".join(cells) + " |")
    total = sum(v for v in timings.values() if isinstance(v, (int, float)))
    per = ", ".join(f"{n} {v:.0f}s" for n, v in timings.items() if isinstance(v, (int, float)))
    notes = [
        "",
        f"`indist`: unseen instances of op combinations seen in training; `heldout`: op combinations never "
        f"seen in training. {p.eval.limit} tasks per split; SFT/GRPO: {p.eval.samples} sample(s) per task"
        + (f" at temperature {p.eval.temperature}" if p.eval.samples > 1 else " (greedy)")
        + f"; base: {p.eval.base_samples} sample(s)" + (" (greedy)" if p.eval.base_samples == 1 else "")
        + f"; {p.eval.max_new_tokens} new tokens. call acc. = the code ran (correct or mismatch).",
        f"Wall time: {total / 60:.1f} min of stage time ({per}).",
    ]
    return "\n".join(lines + notes) + "\n"


def write_results(p: Preset, out: Path, timings: dict[str, float]) -> str:
    """results.md (table + GRPO reward curves) next to the eval reports, and the same in the release card."""
    import shutil

    ev = out / "eval"
    ev.mkdir(parents=True, exist_ok=True)
    md = "# Results\n\n" + results_table(p, out, timings)
    plots = []
    for name in (m for m in p.model_dirs(out) if m.startswith("grpo")):
        curves = out / name / "reward_curves.png"
        if curves.is_file():
            plot = curves.name if name == "grpo" else f"{name}-{curves.name}"
            shutil.copy2(curves, ev / plot)
            plots.append(ev / plot)
            md += f"\n![{name} reward curves]({plot})\n"
        signal = out / name / "signal.jsonl"
        if signal.is_file():
            from grpo.signal import read_signal, summarize

            md += f"\n{name}: {summarize(read_signal(signal))}\n"
    (ev / "results.md").write_text(md)
    card = out / "release" / "README.md"
    if card.is_file() and "## Results of this pipeline run" not in card.read_text():
        for plot in plots:
            shutil.copy2(plot, out / "release" / plot.name)
        with card.open("a") as fh:
            fh.write("\n## Results of this pipeline run\n\n" + md.removeprefix("# Results\n\n"))
    return md


def run_pipeline(preset: str, out: Path, only: list[str] | None = None) -> int:
    p = PRESETS[preset]
    out = out.resolve()
    state = out / ".state"
    state.mkdir(parents=True, exist_ok=True)
    timings_path = out / "pipeline.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    plan = stages(p, out)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    t_all = time.monotonic()
    print(f"[pipeline] preset {preset} ({p.budget}): {len(plan)} stages into {out}", file=sys.stderr, flush=True)
    for i, (name, argv) in enumerate(plan, 1):
        if only and name not in only:
            continue
        marker = state / f"{name}.done"
        if marker.exists():
            print(f"[pipeline] {i}/{len(plan)} {name}: done already, skipping", file=sys.stderr, flush=True)
            continue
        print(f"[pipeline] {i}/{len(plan)} {name}: tritonforge {' '.join(argv)}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        rc = subprocess.call([sys.executable, "-m", "tritonforge.cli", *argv], env=env)
        dt = time.monotonic() - t0
        if rc != 0:
            print(f"error: pipeline stage {name} failed (exit {rc}); fix it and rerun the same command to resume",
                  file=sys.stderr)
            return 1
        timings[name] = round(dt, 1)
        timings_path.write_text(json.dumps(timings, indent=2))
        marker.write_text(f"{dt:.1f}\n")
        print(f"[pipeline] {name} finished in {dt:.0f}s", file=sys.stderr, flush=True)
    total = sum(v for v in timings.values() if isinstance(v, (int, float)) and v >= 0)
    print(f"[pipeline] all stages done ({time.monotonic() - t_all:.0f}s this run, {total:.0f}s of stage time in all)",
          file=sys.stderr)
    if only is None or any(n.startswith("eval") for n in only):
        print(write_results(p, out, timings))
    if (state / "release.done").exists():
        print(f"release folder: {out / 'release'}")
    return 0


def cmd_pipeline(args: argparse.Namespace) -> int:
    if args.preset not in PRESETS:
        raise ConfigError(f"unknown preset {args.preset!r}; valid: {', '.join(PRESETS)}")
    return run_pipeline(args.preset, Path(args.out), args.only)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pipeline", help="data -> SFT -> GRPO -> eval (base/SFT/GRPO) -> release, resumable")
    p.add_argument("--preset", default="tiny", help=f"one of: {', '.join(PRESETS)}")
    p.add_argument("--out", required=True, help="run folder (rerun the same command to resume)")
    p.add_argument("--only", nargs="+", default=None, help="run only these stages (names as printed)")
    p.set_defaults(func=cmd_pipeline)
