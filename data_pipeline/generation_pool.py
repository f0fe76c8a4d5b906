"""Generation split over model replicas on a Ray cluster: eval samples and teacher distillation at scale.

vLLM's own answer to offline data parallelism across GPUs and nodes is one engine per GPU (its
`LLM(data_parallel_size=N)` refuses single-process use and points to a multi-process launcher; its docs
send multi-node batch inference to Ray). So with `--executor ray` a stage's generation backend becomes
`ReplicatedBackend`: N Ray actors, each holding its own backend (`make_backend`: vLLM where installed, else
HF) and one GPU on GPU nodes, a CPU share otherwise. A `generate` call is cut into contiguous shards, one
per replica, and the answers come back in prompt order, so callers (eval's journal, distillation's journal)
see the same `GenerationBackend` as locally and resume the same way.

Same answers as local generation: greedy decoding gives the same text per prompt (each replica runs the
same weights and decoding); sampled decoding gets `seed + shard offset` per shard, which is exactly the
local HF backend's per-chunk seeding when shards start on its chunk boundaries (shards are cut at
multiples of `align`), and otherwise repeatable for a given replica count. A replica that dies is replaced
once and its shard generated again; a second death is one clear error.

Replicas and the executor's verifier actors take turns on the cluster (each stops the other before it
starts: on GPU nodes both want every GPU, on CPU nodes every core); a stage pays an engine start per switch.
Teacher distillation with a large teacher is better served by a vLLM server deployment
(`distill_backend: openai` against `vllm serve --data-parallel-size N`), which stays up between batches.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from data_pipeline.backends import GenerationBackend, Messages, make_backend
from stagekit.errors import ConfigError

logger = logging.getLogger(__name__)


class GenerationReplica:
    """Runs inside a Ray worker: one generation backend, loaded once."""

    def __init__(self, kind: str, model: str | None, backend_kw: dict[str, Any], env: dict[str, str]) -> None:
        os.environ.update(env)
        self.backend = make_backend(kind, model, **backend_kw)

    def name(self) -> str:
        return str(getattr(self.backend, "name", type(self.backend).__name__))

    def pid(self) -> int:
        return os.getpid()

    def generate(self, prompts: list[Messages], n: int, temperature: float, max_new_tokens: int,
                 seed: int) -> list[list[str]]:
        return self.backend.generate(prompts, n=n, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed)


def shards(count: int, replicas: int, align: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) ranges over `count` prompts, at most `replicas` of them, cut at multiples of
    `align` (the last may be shorter), as even as that allows."""
    if count <= 0:
        return []
    blocks = -(-count // align)
    per = -(-blocks // max(1, min(replicas, blocks)))
    out = []
    for b in range(0, blocks, per):
        out.append((b * align, min(count, (b + per) * align)))
    return out


class ReplicatedBackend:
    """A `GenerationBackend` whose calls are split over `replicas` Ray actors (see the module docstring).

    The replicas start at the first `generate` and run until the executor's verifiers need the cluster
    (the executor calls `close`); the next `generate` starts them again. A stage that alternates the two
    (distillation per batch, eval turns) pays an engine start per phase, not a deadlock over devices.
    """

    def __init__(self, executor: Any, kind: str, model: str | None, replicas: int, use_gpus: bool,
                 backend_kw: dict[str, Any] | None = None, cpus_per_replica: int = 1, align: int = 8) -> None:
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1, got {replicas}")
        self.executor, self.ray = executor, executor.ray
        self.kind, self.model, self.backend_kw = kind, model, dict(backend_kw or {})
        self.replicas = replicas
        self.align = align
        self._shape: dict[str, Any] = {"num_cpus": cpus_per_replica, **({"num_gpus": 1} if use_gpus else {})}
        self._env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "VLLM_CPU_KVCACHE_SPACE", "HF_HUB_OFFLINE",
                                                "TRANSFORMERS_OFFLINE") if k in os.environ}
        self.actors: list[Any] = []
        self._group: Any = None  # the placement group holding the replicas' CPUs/GPUs while they run
        self.starts = 0  # replicas started over this backend's life (tests, and the phase cost)
        self.name = f"{kind} x{replicas} (Ray replicas)"

    def _start(self, slot: int) -> Any:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        cls = self.ray.remote(GenerationReplica)
        self.starts += 1
        where = PlacementGroupSchedulingStrategy(self._group, placement_group_bundle_index=slot)
        return cls.options(max_restarts=0, max_task_retries=0, scheduling_strategy=where, **self._shape).remote(
            self.kind, self.model, self.backend_kw, self._env)

    def _ensure(self) -> None:
        """Reserve the replicas' devices as one placement group (a cluster without room for all of them is
        one clear error, not a stage waiting forever), then start one replica per bundle."""
        if self.actors:
            return
        from ray.util.placement_group import placement_group, remove_placement_group

        from rewards.executors import ray_executor

        self.executor.release_actors()  # the verifiers' share of the cluster, until the stage verifies again
        self.executor.generation_release = self.close
        bundle = {"CPU": self._shape["num_cpus"], **({"GPU": self._shape["num_gpus"]} if "num_gpus" in self._shape else {})}
        self._group = placement_group([bundle] * self.replicas, strategy="SPREAD")
        ready, _ = self.ray.wait([self._group.ready()], timeout=ray_executor.PLACEMENT_TIMEOUT_S)
        if not ready:
            remove_placement_group(self._group)
            self._group = None
            self.executor.generation_release = None
            raise ConfigError(f"--executor ray: the Ray cluster has no room for {self.replicas} generation replicas of "
                              f"{bundle} (waited {ray_executor.PLACEMENT_TIMEOUT_S:.0f}s); ask for fewer "
                              "(--generation_replicas) or free its CPUs/GPUs")
        self.actors = [self._start(i) for i in range(self.replicas)]
        self.name = f"{self.ray.get(self.actors[0].name.remote())} x{self.replicas} (Ray replicas)"

    def pids(self) -> list[int]:
        """Process ids of the running replicas (the fault test kills one)."""
        return [self.ray.get(a.pid.remote()) for a in self.actors]

    def generate(self, prompts: list[Messages], n: int, temperature: float, max_new_tokens: int,
                 seed: int) -> list[list[str]]:
        from rewards.executors.ray_executor import fault_types

        self._ensure()
        faults = fault_types(self.ray)
        parts = shards(len(prompts), len(self.actors), self.align)
        refs = [self.actors[i].generate.remote(prompts[a:b], n, temperature, max_new_tokens, seed + a)
                for i, (a, b) in enumerate(parts)]
        out: list[list[str]] = []
        for i, ((a, b), ref) in enumerate(zip(parts, refs, strict=True)):
            try:
                got = self.ray.get(ref)
            except faults:
                logger.warning("generation replica %d died; replacing it and generating its %d prompt(s) again", i, b - a)
                self.actors[i] = self._start(i)
                try:
                    got = self.ray.get(self.actors[i].generate.remote(prompts[a:b], n, temperature, max_new_tokens, seed + a))
                except faults as e:
                    raise RuntimeError(f"generation replica {i} died twice on the same prompts: {type(e).__name__}") from None
            out.extend(got)
        return out

    def close(self) -> None:
        """Stop the replicas (their devices go back to the cluster); a later `generate` starts them again."""
        for a in self.actors:
            try:
                self.ray.kill(a, no_restart=True)
            except Exception:
                pass
        self.actors = []
        if self._group is not None:
            from ray.util.placement_group import remove_placement_group

            remove_placement_group(self._group)
            self._group = None
        if getattr(self.executor, "generation_release", None) == self.close:
            self.executor.generation_release = None


def make_generation_backend(kind: str, model: str | None, **backend_kw: Any) -> GenerationBackend:
    """The stage's generation backend: replicas on the active Ray executor when it has some to give, else
    a local backend (`make_backend`). Replicas: `generation_replicas`, or one per GPU of the cluster."""
    from rewards.executors import current

    ex = current()
    if getattr(ex, "name", "") != "ray" or kind == "openai":  # an endpoint is already a server
        return make_backend(kind, model, **backend_kw)
    gpus = ex.cluster_gpus()
    replicas = ex.generation_replicas or gpus
    if replicas < 1:
        return make_backend(kind, model, **backend_kw)
    if gpus and replicas > gpus:
        raise ConfigError(f"--generation_replicas {replicas}: the Ray cluster has {gpus} GPU(s), one per replica")
    cpus = max(1, ex.cluster_cpus() // replicas) if gpus == 0 else 1
    if gpus == 0:
        backend_kw.setdefault("device", "cpu")
        if kind in ("hf", "auto"):
            backend_kw.setdefault("threads", cpus)  # each replica its share, not every core each
    logger.info("generation: %d replica(s) on the Ray cluster (%s)", replicas, "1 GPU each" if gpus else f"{cpus} CPU(s) each")
    return ReplicatedBackend(ex, kind, model, replicas, use_gpus=gpus > 0, backend_kw=backend_kw,
                             cpus_per_replica=cpus)


def generate_chunk(backend: GenerationBackend, default: int) -> int:
    """Prompts per `generate` call: a replicated backend gets `default` per replica, so every replica works."""
    return default * int(getattr(backend, "replicas", 1))


__all__ = ["GenerationReplica", "ReplicatedBackend", "generate_chunk", "make_generation_backend", "shards"]
