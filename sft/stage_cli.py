"""Shared command-line plumbing of the TRL-based stages (`tritonforge sft`, `tritonforge grpo`).

argparse only captures the arguments (all of them, unparsed); stagekit/options.py's parser (TRL's, the
one that reads the YAML recipe) turns them into the stage's config dataclasses, so every field is an
option without being listed here, and `--config tiny` finds the packaged recipe. Bad configuration, a
missing model or corpus, a missing extra: a UserError, which `tritonforge` reports as one line, exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TrlStage:
    """One TRL stage: its name, where its config dataclasses and run function live."""

    name: str
    help: str
    example: str
    config_module: str  # module with DATACLASSES
    run: str  # "module:function" taking (script, cfg, model_cfg) and returning the output dir

    def _load(self, spec: str) -> object:
        mod, _, attr = spec.partition(":")
        return getattr(importlib.import_module(mod), attr)

    @property
    def prog(self) -> str:
        return f"tritonforge {self.name}"

    def _dataclasses(self) -> tuple[type, ...]:
        return tuple(importlib.import_module(self.config_module).DATACLASSES)

    def parse(self, argv: list[str]) -> tuple:
        """(script args, trainer config, ModelConfig) from `--config NAME|PATH` plus `--field value` options."""
        from stagekit.options import parse_config

        return parse_config(self._dataclasses(), argv, prog=self.prog, stage=self.name)

    def show_help(self, argv: list[str]) -> None:
        from stagekit.options import print_stage_help

        print_stage_help(self._dataclasses(), self.prog, self.name, f"{self.help} Example: {self.example}")

    def main(self, argv: list[str]) -> int:
        script, cfg, model_cfg = self.parse(argv)
        run: Callable[..., str] = self._load(self.run)  # type: ignore[assignment]
        out = run(script, cfg, model_cfg)
        print(f"{self.name}: model saved to {out}", file=sys.stderr)
        return 0

    def register(self, subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        from stagekit.options import add_stage_command

        return add_stage_command(
            subparsers, self.name, help=self.help, run=self.main, show_help=self.show_help,
            description=f"{self.help} From a YAML recipe plus overrides (any config field). Example: {self.example}")

    def run_as_script(self) -> int:
        """`python -m sft.cli ...` / `python -m grpo.cli ...` (accelerate launch): tritonforge's error handling."""
        from stagekit.errors import exit_code

        parser = argparse.ArgumentParser(prog="tritonforge")
        self.register(parser.add_subparsers(dest="cmd", required=True))
        ns = parser.parse_args([self.name, *sys.argv[1:]])
        return exit_code(lambda: ns.func(ns))
