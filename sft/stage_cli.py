"""Shared command-line plumbing of the TRL-based stages (`tritonforge sft`, `tritonforge grpo`).

argparse only captures the arguments (all of them, unparsed); TRL's parser (the one that reads the YAML
recipe) turns them into the stage's config dataclasses, so every field is an override without being
listed here. Bad configuration -> exit 2 with one line; a missing model/corpus/extra -> exit 1 with what
to do.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TrlStage:
    """One TRL stage: its name, where its config dataclasses and run function live, what errors mean."""

    name: str
    help: str
    example: str
    config_module: str  # module with DATACLASSES
    run: str  # "module:function" taking (script, cfg, model_cfg) and returning the output dir
    user_errors: tuple[str, ...] = ()  # "module:Class" of errors that mean "fix your setup"

    def _load(self, spec: str) -> object:
        mod, _, attr = spec.partition(":")
        return getattr(importlib.import_module(mod), attr)

    def parser(self) -> object:
        from trl import TrlParser

        return TrlParser(importlib.import_module(self.config_module).DATACLASSES, prog=f"tritonforge {self.name}")

    def parse(self, argv: list[str]) -> tuple:
        """(script args, trainer config, ModelConfig) from `--config RECIPE.yaml` plus overrides."""
        return self.parser().parse_args_and_config(args=argv)  # type: ignore[attr-defined]

    def main(self, args: argparse.Namespace) -> int:
        argv = list(args.args)
        if "-h" in argv or "--help" in argv:
            self.parser().print_help()  # type: ignore[attr-defined]
            return 0
        try:
            script, cfg, model_cfg = self.parse(argv)
        except (ValueError, OSError) as e:  # unknown field, bad value, missing recipe: one line, not a traceback
            print(f"{self.name}: bad configuration: {e}", file=sys.stderr)
            return 2
        from data_pipeline.models import ModelError

        errors = (ModelError, FileNotFoundError, *(self._load(s) for s in self.user_errors))
        run: Callable[..., str] = self._load(self.run)  # type: ignore[assignment]
        try:
            out = run(script, cfg, model_cfg)
        except errors as e:  # missing model/corpus/extra: what to do
            print(f"{self.name}: {e}", file=sys.stderr)
            return 1
        print(f"{self.name}: model saved to {out}", file=sys.stderr)
        return 0

    def register(self, subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        p = subparsers.add_parser(
            self.name,
            help=self.help,
            description=f"{self.help} From a YAML recipe plus overrides (any config field). Example: {self.example}",
            # Everything after the stage name goes verbatim to TRL's parser (which knows every field, --config
            # and --help): with no option prefix of its own, argparse cannot reject `--max_steps` as unknown.
            add_help=False,
            prefix_chars="+",
        )
        p.add_argument("args", nargs=argparse.REMAINDER, help="--config RECIPE.yaml, then overrides: --field value ...")
        p.set_defaults(func=self.main)
        return p

    def run_as_script(self) -> int:
        parser = argparse.ArgumentParser(prog="tritonforge")
        self.register(parser.add_subparsers(dest="cmd", required=True))
        ns = parser.parse_args([self.name, *sys.argv[1:]])
        return ns.func(ns)
