"""Shared command-line plumbing of the TRL-based stages (`tritonforge sft`, `tritonforge grpo`).

argparse only captures the arguments (all of them, unparsed); stagekit/options.py's parser (TRL's, the
one that reads the YAML recipe) turns them into the stage's config dataclasses, so every field is an
option without being listed here, and `--config tiny` finds the packaged recipe. Bad configuration, a
missing model or corpus, a missing extra: a UserError, which `tritonforge` reports as one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TrlStage:
    """One TRL stage: its name, and a function that imports its config dataclasses and run function.

    Imported on call, so `tritonforge --help` does not import torch or TRL."""

    name: str
    help: str
    example: str
    # () -> (config dataclasses in parser order, run(script, cfg, model_cfg) -> the output dir)
    load: Callable[[], tuple[tuple[type, ...], Callable[..., str]]]

    def dataclasses(self) -> tuple[type, ...]:
        return tuple(self.load()[0])

    @property
    def prog(self) -> str:
        return f"tritonforge {self.name}"

    def parse(self, argv: list[str]) -> tuple:
        """(script args, trainer config, ModelConfig) from `--config NAME|PATH` plus `--field value` options."""
        from stagekit.options import parse_config

        return parse_config(self.dataclasses(), argv, prog=self.prog, stage=self.name)

    def show_help(self, argv: list[str]) -> None:
        from stagekit.options import print_stage_help

        print_stage_help(self.dataclasses(), self.prog, self.name, f"{self.help} Example: {self.example}")

    def main(self, argv: list[str]) -> int:
        script, cfg, model_cfg = self.parse(argv)
        out = self.load()[1](script, cfg, model_cfg)
        print(f"{self.name}: model saved to {out}", file=sys.stderr)
        return 0

    def register(self, subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        from stagekit.options import add_stage_command

        return add_stage_command(
            subparsers, self.name, help=self.help, run=self.main, show_help=self.show_help,
            description=f"{self.help} From a YAML recipe plus overrides (any config field). Example: {self.example}")

    def run_as_script(self) -> int:
        """`python -m sft.cli ...` / `python -m grpo.cli ...` (accelerate launch): tritonforge's error handling."""
        from stagekit.options import run_standalone

        return run_standalone(self.register, [self.name, *sys.argv[1:]])
