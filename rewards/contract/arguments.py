"""The verifier's options on every command line: declared once, validated once, converted once.

`data build`, `grpo`, `eval`, `eval selfcheck` and `verify` all take these fields (their option classes derive
from `VerifyArguments`), with the same names, defaults and help. Validation is `VerifyConfig`'s own, reported
with the option's name; `verify_config()` is the one conversion to the engine's settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from rewards.contract.config import VerifyConfig
from stagekit.devices import workers_per_rank
from stagekit.errors import ConfigError

_HELP = {f.name: f.metadata["help"] for f in fields(VerifyConfig)}


@dataclass
class VerifyArguments:
    """Where and how candidates are verified (the fields of `VerifyConfig` a user sets, prefixed `verify_`)."""

    verify_device: str = field(default="auto", metadata={"help": _HELP["device"]})
    verify_trials: int = field(default=3, metadata={"help": _HELP["trials"]})
    verify_timeout_s: float = field(default=60.0, metadata={"help": _HELP["timeout_s"]})
    verify_reference_timeout_s: float | None = field(default=None, metadata={"help": _HELP["reference_timeout_s"]})
    verify_workers: int = field(default=0, metadata={
        "help": "Candidates verified in parallel; 0: one per CPU core of this process (the node's cores divided "
                "among its ranks under accelerate/torchrun)."})

    def __post_init__(self) -> None:
        if self.verify_workers < 0:
            raise ConfigError(f"--verify_workers must be >= 0 (0: one per core), got {self.verify_workers}")
        self.verify_config()  # the one validation: VerifyConfig's, named by option

    def verify_config(self, **extra: Any) -> VerifyConfig:
        """The engine's settings from these options; `extra` sets the engine's other fields (seed, rules, ...)."""
        kw: dict[str, Any] = {
            "device": self.verify_device, "trials": self.verify_trials, "timeout_s": self.verify_timeout_s,
            "reference_timeout_s": self.verify_reference_timeout_s,
            "workers": self.verify_workers or workers_per_rank(), **extra}
        try:
            return VerifyConfig(**kw)
        except ValueError as e:  # VerifyConfig names the field first: say which option it came from
            name = str(e).split(" ", 1)[0]
            option = f"--verify_{name}" if f"verify_{name}" in {f.name for f in fields(VerifyArguments)} else name
            raise ConfigError(f"{option}{str(e)[len(name):]}") from None


def with_default(name: str, default: Any) -> Any:
    """A stage's own default for one verifier option (help and validation stay VerifyArguments')."""
    base = {f.name: f for f in fields(VerifyArguments)}[name]
    return field(default=default, metadata=dict(base.metadata))
