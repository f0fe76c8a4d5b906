"""`tritonforge data ...`: build a corpus, show what is in one.

    tritonforge data build --config recipes/data/tiny.yaml --out out/tiny [--set key=value ...]
    tritonforge data stats out/tiny

The top-level CLI calls `register(subparsers)` and then `args.func(args)`; handlers return an exit
code. A bad input prints one `error: ...` line to stderr and returns 2.
"""

from __future__ import annotations

import argparse
import sys

from data_pipeline.errors import DataError
from rewards.task import TaskError


def _build(args: argparse.Namespace) -> int:
    from data_pipeline.build import build
    from data_pipeline.config import load_config

    try:
        cfg = load_config(args.config, args.set)
        build(cfg, args.out)
    except (DataError, TaskError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _stats(args: argparse.Namespace) -> int:
    from data_pipeline.stats import stats

    try:
        table, png = stats(args.dir, args.plot)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(table)
    print(f"\nplot: {png}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `data` subcommand (with `build` and `stats`) to a parent CLI."""
    p = subparsers.add_parser("data", help="build / inspect verified Triton corpora")
    sub = p.add_subparsers(dest="data_command", required=True)
    b = sub.add_parser("build", help="build a corpus from a recipe (resumable: rerun the same command)")
    b.add_argument("--config", required=True, help="recipe YAML, e.g. recipes/data/tiny.yaml")
    b.add_argument("--out", required=True, help="output folder (datasets-loadable)")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe field")
    b.set_defaults(func=_build)
    s = sub.add_parser("stats", help="table and plot of a built corpus")
    s.add_argument("dir", help="a folder written by `data build`")
    s.add_argument("--plot", default=None, help="PNG path (default DIR/stats.png)")
    s.set_defaults(func=_stats)
    return p


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m data_pipeline.cli data build ...`)."""
    parser = argparse.ArgumentParser(prog="tritonforge")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
