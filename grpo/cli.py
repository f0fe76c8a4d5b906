"""`tritonforge grpo --config RECIPE.yaml [--field value ...]`.

argparse only captures the arguments (all of them, unparsed); TRL's parser (the one that reads the YAML recipe) turns them into the
config dataclasses, so every GRPOConfig / ModelConfig field is an override without being listed here.
"""

from __future__ import annotations

import argparse
import sys

EXAMPLE = "tritonforge grpo --config recipes/grpo/tiny.yaml --max_steps 10 --output_dir out/runs/grpo-tiny"


def parse(argv: list[str]) -> tuple:
    from trl import TrlParser

    from grpo.config import DATACLASSES

    return TrlParser(DATACLASSES).parse_args_and_config(args=argv)


def _main(args: argparse.Namespace) -> int:
    argv = list(args.args)
    if "-h" in argv or "--help" in argv:
        from trl import TrlParser

        from grpo.config import DATACLASSES

        TrlParser(DATACLASSES, prog="tritonforge grpo").print_help()
        return 0
    try:
        script, cfg, model_cfg = parse(argv)
    except (ValueError, OSError) as e:  # unknown field, bad value, missing recipe: one line, not a traceback
        print(f"grpo: bad configuration: {e}", file=sys.stderr)
        return 2
    from data_pipeline.models import ModelError
    from grpo.train import VLLMMissingError, run_grpo

    try:
        out = run_grpo(script, cfg, model_cfg)
    except (ModelError, FileNotFoundError, VLLMMissingError) as e:  # missing model/corpus/extra: what to do
        print(f"grpo: {e}", file=sys.stderr)
        return 1
    print(f"grpo: model saved to {out}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "grpo",
        help="GRPO with rule + execution rewards (TRL GRPOTrainer).",
        description=f"GRPO from a YAML recipe plus overrides (any GRPOConfig/ModelConfig field). Example: {EXAMPLE}",
        # Everything after `grpo` goes verbatim to TRL's parser (which knows every field, --config and --help):
        # with no option prefix of its own, argparse cannot reject `--max_steps` as unknown.
        add_help=False,
        prefix_chars="+",
    )
    p.add_argument(
        "args", nargs=argparse.REMAINDER, help="--config RECIPE.yaml, then overrides: --field value ..."
    )
    p.set_defaults(func=_main)
    return p


if __name__ == "__main__":  # python -m grpo.cli --config ...
    parser = argparse.ArgumentParser(prog="tritonforge")
    register(parser.add_subparsers(dest="cmd", required=True))
    ns = parser.parse_args(["grpo", *sys.argv[1:]])
    sys.exit(ns.func(ns))
