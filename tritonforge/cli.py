"""The `tritonforge` console command: one subcommand per stage; each stage module owns its parser.

This is the only module that imports every stage. Stage parsers are registered lazily-safe: a stage
whose optional dependencies are missing still lets the others work.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules whose `register(subparsers)` adds a stage's subcommands.
STAGES = ("data_pipeline.cli", "sft.cli", "grpo.cli", "eval.cli", "tritonforge.pipeline")


def build_parser() -> argparse.ArgumentParser:
    from rewards import cli as rewards_cli

    parser = argparse.ArgumentParser(prog="tritonforge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="benchmarks (speed / memory targets)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    rewards_cli.register(sub, bench_sub)
    from data_pipeline import bench_generate

    bench_generate.register(bench_sub)
    for name in STAGES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name and name.startswith(e.name):
                continue  # stage not present in this checkout
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run the chosen stage; any stage's UserError is one `error:` line and exit 2 (stagekit.errors)."""
    from stagekit.errors import exit_code

    args = build_parser().parse_args(argv)
    return exit_code(lambda: args.func(args))

if __name__ == "__main__":
    sys.exit(main())
