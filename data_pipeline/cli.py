"""`tritonforge data ...`: build a corpus, show what is in one.

    tritonforge data build --config tiny --out out/tiny [--synth_train 100 ...]
    tritonforge data stats out/tiny

`--config` takes a packaged recipe name (stagekit/recipes/data/NAME.yaml) or a YAML path, and every
DataConfig field is an option of the same name (stagekit/options.py: the style of every stage). The
top-level CLI calls `register(subparsers)` and then `args.func(args)`; a bad input raises a UserError,
which the caller reports as one `error: ...` line and exit 2.
"""

from __future__ import annotations

import argparse
import sys


def _build(argv: list[str]) -> int:
    from data_pipeline.build import build
    from data_pipeline.config import parse_build_args
    from rewards.executors import using

    cfg, build_args, executor = parse_build_args(argv)
    with using(executor):
        build(cfg, build_args.out)
    return 0


def _build_help(argv: list[str]) -> None:
    from data_pipeline.config import DATACLASSES
    from stagekit.options import print_stage_help

    print_stage_help(DATACLASSES, "tritonforge data build", "data", "Build a verified corpus from a recipe.")


def _stats(args: argparse.Namespace) -> int:
    from data_pipeline.stats import stats

    table, png = stats(args.dir, args.plot)
    print(table)
    print(f"\nplot: {png}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `data` subcommand (with `build` and `stats`) to a parent CLI."""
    from stagekit.options import add_stage_command

    p = subparsers.add_parser("data", help="build / inspect verified Triton corpora")
    sub = p.add_subparsers(dest="data_command", required=True)
    add_stage_command(sub, "build", help="build a corpus from a recipe (resumable: rerun the same command)",
                      run=_build, show_help=_build_help,
                      description="Build a corpus: tritonforge data build --config tiny --out DIR [--field value ...]")
    s = sub.add_parser("stats", help="table and plot of a built corpus")
    s.add_argument("dir", help="a folder written by `data build`")
    s.add_argument("--plot", default=None, help="PNG path (default DIR/stats.png)")
    s.set_defaults(func=_stats)
    return p


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m data_pipeline.cli ...`), with tritonforge's dispatch and error handling."""
    from stagekit.options import run_standalone

    return run_standalone(register, argv)


if __name__ == "__main__":
    sys.exit(main())
