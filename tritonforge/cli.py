"""The `tritonforge` console command: one subcommand per stage; each stage module owns its parser.

The top of the import graph: the only module that imports every stage, and nothing imports it. Each
stage's `register` imports its heavy dependencies (torch, TRL) only when its command runs.
"""

from __future__ import annotations

import argparse
import sys

from data_pipeline import bench_generate
from data_pipeline import cli as data_cli
from eval import cli as eval_cli
from grpo import cli as grpo_cli
from rewards import cli as rewards_cli
from sft import cli as sft_cli
from tritonforge import pipeline

# Modules whose `register(subparsers)` adds a stage's subcommands, in help order.
STAGES = (data_cli, sft_cli, grpo_cli, eval_cli, pipeline)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tritonforge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="benchmarks (speed / memory targets)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    rewards_cli.register(sub, bench_sub)
    bench_generate.register(bench_sub)
    for stage in STAGES:
        stage.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run the chosen stage; any stage's UserError is one `error:` line and exit 2 (stagekit.errors)."""
    from stagekit.errors import exit_code

    args = build_parser().parse_args(argv)
    return exit_code(lambda: args.func(args))

if __name__ == "__main__":
    sys.exit(main())
