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
from dataclasses import dataclass, field
from pathlib import Path

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


@dataclass(frozen=True)
class Preset:
    """Which recipes a preset uses and how big its eval is."""

    data: str
    sft: str
    grpo: str
    eval_limit: int
    eval_samples: int = 1
    eval_max_new_tokens: int = 512
    device: str = "auto"
    extra: dict[str, list[str]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    # CPU, embedded SmolLM2-135M-Instruct, minutes per stage on 2 cores.
    "tiny": Preset(data="data/tiny.yaml", sft="sft/tiny.yaml", grpo="grpo/tiny.yaml", eval_limit=8,
                   eval_max_new_tokens=768, device="cpu"),
    # One GPU: the same flow with the 1gpu training recipes and a larger held-out eval.
    "1gpu": Preset(data="data/tiny.yaml", sft="sft/1gpu.yaml", grpo="grpo/1gpu.yaml", eval_limit=60,
                   eval_samples=4, eval_max_new_tokens=1024, device="cuda"),
}


def stages(p: Preset, out: Path) -> list[tuple[str, list[str]]]:
    """(name, tritonforge argv) for each stage, in order."""
    data, ev = out / "data", out / "eval"
    ev_common = ["--suite", f"heldout:{data}", "--limit", str(p.eval_limit), "--samples", str(p.eval_samples),
                 "--max-new-tokens", str(p.eval_max_new_tokens), "--device", p.device]
    models = {"base": "default", "sft": str(out / "sft"), "grpo": str(out / "grpo")}
    plan = [
        ("data", ["data", "build", "--config", str(RECIPES / p.data), "--out", str(data)]),
        ("sft", ["sft", "--config", str(RECIPES / p.sft), "--corpus", str(data), "--output_dir", str(out / "sft")]),
        ("grpo", ["grpo", "--config", str(RECIPES / p.grpo), "--corpus", str(data), "--model_name_or_path",
                  str(out / "sft"), "--output_dir", str(out / "grpo")]),
    ]
    for name, model in models.items():
        plan.append((f"eval-{name}", ["eval", "--model", model, *ev_common, "--label", name, "--out", str(ev / name)]))
    plan.append(("compare", ["eval", "compare", *(str(ev / n) for n in models), "--out", str(ev / "compare.md")]))
    plan.append(("release", ["release", "--model", str(out / "grpo"), "--report", *(str(ev / n) for n in models),
                             "--out", str(out / "release")]))
    return plan


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
    cmp = out / "eval" / "compare.md"
    if cmp.is_file():
        print(cmp.read_text())
    if (state / "release.done").exists():
        print(f"release folder: {out / 'release'}")
    return 0


def cmd_pipeline(args: argparse.Namespace) -> int:
    if args.preset not in PRESETS:
        print(f"error: unknown preset {args.preset!r}; valid: {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    if not RECIPES.is_dir():
        print(f"error: recipes folder {RECIPES} not found (run from a source checkout)", file=sys.stderr)
        return 2
    return run_pipeline(args.preset, Path(args.out), args.only)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pipeline", help="data -> SFT -> GRPO -> eval (base/SFT/GRPO) -> release, resumable")
    p.add_argument("--preset", default="tiny", help=f"one of: {', '.join(PRESETS)}")
    p.add_argument("--out", required=True, help="run folder (rerun the same command to resume)")
    p.add_argument("--only", nargs="+", default=None, help="run only these stages (names as printed)")
    p.set_defaults(func=cmd_pipeline)
