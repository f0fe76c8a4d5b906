"""`--executor` and `--ray_address`: where the batch stages run their verifications.

Declared once, here, and added to the option dataclasses of every batch stage (`data build`, `eval`,
`eval selfcheck`, `verify --batch`, `bench verify`), so a
recipe may set `executor: ray` as well. `local` is the default and needs no Ray installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stagekit.errors import ConfigError

EXECUTORS = ("local", "ray")


@dataclass
class ExecutorArguments:
    """Which executor verifies a batch stage's candidates, and on which Ray cluster."""

    executor: str = field(default="local", metadata={
        "help": "local: this machine's warm engine. ray: verifier actors on a Ray cluster, each with its own "
                "warm engine and a device share (pip install tritonforge[cluster])."})
    ray_address: str | None = field(default=None, metadata={
        "help": "With --executor ray: `auto` inside a started cluster (scripts/slurm/), host:port of its head, "
                "or unset for a Ray instance local to this machine."})
    ray_actors: int = field(default=0, metadata={
        "help": "With --executor ray: verifier actors to start (0: one per GPU when verifying on CUDA, else one "
                "per node). Each engine runs --verify_workers candidates at once, within its CPU share."})

    generation_replicas: int = field(default=0, metadata={
        "help": "With --executor ray: model replicas that share a stage's generation (eval samples, teacher "
                "distillation), one GPU each on GPU nodes, each a vLLM (or HF) engine of its own. 0: one per GPU "
                "of the cluster when it has GPUs, else generation stays in this process."})

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ConfigError(f"executor: must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        if self.ray_actors < 0:
            raise ConfigError("ray_actors: must be >= 0 (0 = one per GPU or node)")
        if self.generation_replicas < 0:
            raise ConfigError("generation_replicas: must be >= 0 (0 = one per GPU of the cluster)")
        if self.executor == "local" and (self.ray_address or self.ray_actors or self.generation_replicas):
            raise ConfigError("ray_address/ray_actors/generation_replicas only apply with --executor ray")
