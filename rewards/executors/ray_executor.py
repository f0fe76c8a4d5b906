"""Verification on a Ray cluster: verifier actors, each owning a warm engine and a device share.

Why actors: the expensive part of a verification is a warm sandbox (the zygote has imported torch and
Triton once); an actor keeps one alive per device for the whole stage, exactly as the local engine does on
one machine. The driver still groups work by reference (a group never splits, so the reference runs once
per group and every candidate of it sees the same inputs), hands bundles of groups to idle actors, and
streams each verdict back the moment it is known (a Ray streaming generator), so the stage journals it as
it does locally and a killed driver resumes the same way.

Faults: a verdict an actor's engine returns as `infra_error` is retried once, alone. When an actor (or its
node) dies, the verdicts it had not yet streamed are retried, each candidate
alone on a replacement actor, so that a second death names its cause: a candidate in flight at two deaths
of its actor gets `crashed` (its fault), never `infra_error`. Every index is finalised once, so nothing is
lost or counted twice. A failure of the machinery itself (no actor can be started) is `infra_error`, which
the stages do not journal, so a rerun retries it.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from rewards.contract.config import VerifyConfig
from rewards.contract.types import Status, VerifyResult, failure
from rewards.executors.base import OnResult, Progress, R, T
from stagekit.errors import ConfigError

# Deaths of one actor slot in a row, with no verdict streamed in between, before it is given up.
MAX_DEATHS_IN_ROW = 3
# How long Ray may take to place the verifier actors before the stage gives up with one error line.
PLACEMENT_TIMEOUT_S = 120.0
# Bundles per actor a batch is cut into: enough to balance uneven groups, few enough to keep groups together.
BUNDLES_PER_ACTOR = 1


# Settings of the Ray instance the executor starts (scripts/slurm/ray_cluster.sh exports them for `ray start`):
# - workers at nice 0, not Ray's 15: on a machine shared with other jobs the niced actors verified about
#   twice as slowly as the local engine;
# - no cleanup of a dead worker's process group or children: with it, the death of one actor also killed
#   sandbox zygotes of the surviving actors (measured: 1-3 `infra_error` verdicts per killed actor, with
#   only the process-group cleanup off still 1 in a build); a dead actor's zygote exits by itself when its
#   stdin closes, and its candidates die with their supervisor, so nothing is left behind without it.
RAY_ENV = {"RAY_worker_niceness": "0", "RAY_process_group_cleanup_enabled": "0",
           "RAY_kill_child_processes_on_worker_exit": "0",
           "RAY_kill_child_processes_on_worker_exit_with_raylet_subreaper": "0"}


def prepare_ray_env() -> None:
    """Put RAY_ENV into this process's environment (values already set win), before `ray.init`."""
    for k, v in RAY_ENV.items():
        os.environ.setdefault(k, v)


def import_ray() -> Any:
    """Ray, or one clear line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray: pip install 'tritonforge[cluster]'") from None
    return ray


class VerifierActor:
    """Runs inside a Ray worker: one warm engine per verifier config (the zygote stays up between calls)."""

    def __init__(self, env: dict[str, str]) -> None:
        # The driver's thread settings, not Ray's (Ray sets OMP_NUM_THREADS to the actor's CPU share): the
        # candidates must run as they do locally, or float reductions could differ between executors.
        os.environ.update(env)
        if "OMP_NUM_THREADS" not in env:
            os.environ.pop("OMP_NUM_THREADS", None)

    def pid(self) -> int:
        """This actor's process id (tests kill it to check the retry path)."""
        return os.getpid()

    def verify(self, config: VerifyConfig, items: list[tuple[int, str, str]]) -> Iterator[tuple[int, VerifyResult]]:
        """Yield (index, verdict) for every (index, reference, completion) as the engine finishes it."""
        from rewards.engine.client import get_engine

        out: queue.SimpleQueue[Any] = queue.SimpleQueue()
        pairs = [(ref, comp) for _, ref, comp in items]

        def run() -> None:
            try:
                get_engine(config).verify_many(pairs, on_result=lambda j, r: out.put((items[j][0], r)))
            except BaseException as e:  # verify_many never raises for a candidate; this is our own bug
                out.put(e)
            finally:
                out.put(None)

        threading.Thread(target=run, daemon=True, name="verify").start()
        while (got := out.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got


def fault_types(ray: Any) -> tuple[type[BaseException], ...]:
    """The exceptions that mean "the actor or its node went away", not "the actor's code failed"."""
    ex = ray.exceptions
    names = ("RayActorError", "ActorDiedError", "ActorUnavailableError", "WorkerCrashedError", "NodeDiedError",
             "ObjectLostError", "OwnerDiedError", "LocalRayletDiedError")
    return tuple(getattr(ex, n) for n in names if hasattr(ex, n))


def bundles(pairs: Sequence[tuple[str, str]], count: int) -> list[list[int]]:
    """Indices grouped by reference, the groups packed whole into at most `count` bundles of similar size."""
    groups: dict[str, list[int]] = {}
    for i, (ref, _) in enumerate(pairs):
        groups.setdefault(ref, []).append(i)
    packs: list[list[int]] = [[] for _ in range(max(1, min(count, len(groups))))]
    for g in sorted(groups.values(), key=len, reverse=True):
        min(packs, key=len).extend(g)
    return [p for p in packs if p]


class RayExecutor:
    """Verifies through actors on a Ray cluster (`address`: None = a local instance, `auto`, host:port)."""

    name = "ray"

    def __init__(self, address: str | None = None, actors: int = 0, num_cpus: int | None = None,
                 generation_replicas: int = 0) -> None:
        ray = self.ray = import_ray()
        self._owns_ray = False
        if not ray.is_initialized():
            prepare_ray_env()
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
            if address:
                ray.init(address=address, **kw)
            else:
                ray.init(num_cpus=num_cpus, **kw)
            self._owns_ray = True
        self.requested_actors = actors
        self.generation_replicas = generation_replicas  # read by data_pipeline.generation_pool
        # The stop function of generation replicas holding this cluster's CPUs/GPUs: the executor runs one kind
        # of actor at a time (verifiers or replicas), so each kind stops the other before it starts.
        self.generation_release: Any = None
        self.actors: list[Any] = []
        self._shapes: list[dict[str, Any]] = []
        self._workers: list[int] = []
        self.inflight: dict[int, list[int]] = {}
        self.stats: Counter[str] = Counter()
        self.finished = 0  # verdicts streamed back, over all batches (progress, and fault tests)
        self._env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
        self._faults = fault_types(ray)

    # ----------------------------------------------------------------- actors
    def _nodes(self) -> list[dict[str, Any]]:
        return [n for n in self.ray.nodes() if n.get("Alive")]

    def default_workers(self) -> int:
        """Per-engine parallelism when a stage leaves it at 0: the CPUs of the largest node."""
        return max([int(n["Resources"].get("CPU", 1)) for n in self._nodes()] or [1])

    def _plan(self, config: VerifyConfig) -> list[tuple[dict[str, Any], int]]:
        """(Ray options, engine workers) of each actor: one per GPU on CUDA, else one per node (or as asked)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = self._nodes()
        gpus = sum(int(n["Resources"].get("GPU", 0)) for n in nodes)
        use_gpu = config.device == "cuda" or (config.device == "auto" and gpus > 0)
        if use_gpu and gpus == 0:
            raise ConfigError("--executor ray with device cuda: the Ray cluster has no GPUs")
        plan: list[tuple[dict[str, Any], int]] = []
        if use_gpu:
            for n in nodes:
                g, cpus = int(n["Resources"].get("GPU", 0)), int(n["Resources"].get("CPU", 1))
                share = max(1, cpus // g) if g else 0
                plan += [({"num_gpus": 1, "num_cpus": share}, min(config.workers, share))] * g
            if self.requested_actors:
                plan = plan[: self.requested_actors]
        elif self.requested_actors:
            total = sum(int(n["Resources"].get("CPU", 1)) for n in nodes)
            share = max(1, min(config.workers, total // self.requested_actors))
            plan = [({"num_cpus": share}, share)] * self.requested_actors
        else:
            for n in nodes:
                share = max(1, min(config.workers, int(n["Resources"].get("CPU", 1))))
                where = NodeAffinitySchedulingStrategy(node_id=n["NodeID"], soft=True)
                plan.append(({"num_cpus": share, "scheduling_strategy": where}, share))
        if not plan:
            raise ConfigError("--executor ray: the Ray cluster has no alive node with CPUs")
        return plan

    def _start_actor(self, shape: dict[str, Any]) -> Any:
        cls = self.ray.remote(VerifierActor)
        # Two concurrent calls: `pid` answers while a `verify` streams (calls never share the engine).
        return cls.options(max_restarts=0, max_task_retries=0, max_concurrency=2, **shape).remote(self._env)

    def _ensure_actors(self, config: VerifyConfig) -> None:
        """Start the planned actors and wait until Ray has placed them: a cluster without room for them is
        one clear error, not a stage that waits forever for resources."""
        if self.actors:
            return
        self.stop_generation()
        for shape, workers in self._plan(config):
            self._shapes.append(shape)
            self._workers.append(workers)
            self.actors.append(self._start_actor(shape))
        _, pending = self.ray.wait([a.pid.remote() for a in self.actors], num_returns=len(self.actors),
                                   timeout=PLACEMENT_TIMEOUT_S)
        if pending:
            shapes = ", ".join(str({k: v for k, v in s.items() if k != "scheduling_strategy"}) for s in self._shapes)
            planned = len(self._shapes)
            self.release_actors()  # give back what was placed; the cluster stays up for the next stage
            raise ConfigError(f"--executor ray: the Ray cluster placed only {planned - len(pending)} of "
                              f"{planned} verifier actors ({shapes}) within {PLACEMENT_TIMEOUT_S:.0f}s; "
                              "free its CPUs/GPUs or ask for fewer (--ray_actors, --verify_workers)")

    def _replace(self, slot: int) -> None:
        """A fresh actor of the same shape for a dead one (Ray places it where resources are free)."""
        self.stats["actor_deaths"] += 1
        try:
            self.ray.kill(self.actors[slot], no_restart=True)
        except Exception:
            pass
        shape = {k: v for k, v in self._shapes[slot].items() if k != "scheduling_strategy"}
        self.actors[slot] = self._start_actor(shape)

    def actor_pids(self) -> list[int]:
        """Process ids of the live actors (for fault tests and `ps`)."""
        return list(self.ray.get([a.pid.remote() for a in self.actors]))

    # ----------------------------------------------------------------- verification
    def verify_batch(self, pairs: Sequence[tuple[str, str]], config: VerifyConfig,
                     progress: Progress | None = None, on_result: OnResult | None = None) -> list[VerifyResult]:
        """Results in input order; each is passed to `on_result` once, as soon as it is final."""
        n = len(pairs)
        if n == 0:
            return []
        self._ensure_actors(config)
        results: list[VerifyResult | None] = [None] * n
        lock = threading.Lock()
        kills: Counter[int] = Counter()
        infra_retried = [False] * n
        work: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        for b in bundles(pairs, BUNDLES_PER_ACTOR * len(self.actors)):
            work.put(b)
        done = 0

        def finalize(i: int, r: VerifyResult) -> None:
            nonlocal done
            with lock:
                if results[i] is not None:  # never counted twice
                    return
                results[i] = r
                done += 1
                self.finished += 1
                if on_result:
                    on_result(i, r)
                if progress:
                    progress(done, n)

        def drive(slot: int) -> None:
            deaths_in_row = 0
            while done < n:
                try:
                    bundle = work.get(timeout=0.05)
                except queue.Empty:
                    continue
                remaining = set(bundle)
                self.inflight[slot] = bundle
                cfg = replace(config, workers=self._workers[slot])
                try:
                    items = [(i, pairs[i][0], pairs[i][1]) for i in bundle]
                    stream = self.actors[slot].verify.options(num_returns="streaming").remote(cfg, items)
                    for ref in stream:
                        i, r = self.ray.get(ref)
                        remaining.discard(i)
                        if r.is_infra_error and not infra_retried[i]:
                            # The actor's machinery failed (seen: a zygote dying beside an actor's death):
                            # once more, alone, before the verdict stands (the stages journal no infra_error).
                            infra_retried[i] = True
                            self.stats["infra_retried"] += 1
                            work.put([i])
                        else:
                            finalize(i, r)
                        deaths_in_row = 0
                except self._faults as e:
                    deaths_in_row += 1
                    self._replace(slot)
                    for i in sorted(remaining):
                        kills[i] += 1
                        if kills[i] >= 2:
                            self.stats["crashed"] += 1
                            finalize(i, failure(Status.CRASHED, "the candidate was being verified at two deaths of "
                                                                f"its verifier actor ({type(e).__name__})"))
                        else:  # alone, so that a second death is attributable to this candidate
                            self.stats["retried"] += 1
                            work.put([i])
                    if deaths_in_row >= MAX_DEATHS_IN_ROW:
                        return
                except Exception as e:  # the actor's own code failed: machinery, not the candidate
                    for i in remaining:
                        finalize(i, failure(Status.INFRA_ERROR, f"verifier actor failed: {type(e).__name__}: {e}"[:2000]))
                finally:
                    self.inflight.pop(slot, None)

        threads = [threading.Thread(target=drive, args=(s,), daemon=True, name=f"ray-actor-{s}")
                   for s in range(len(self.actors))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(n):  # every slot gave up: what is left was never judged
            if results[i] is None:
                finalize(i, failure(Status.INFRA_ERROR, "no verifier actor could be kept alive on the Ray cluster"))
        return [r for r in results if r is not None]

    def map_tasks(self, fn: Callable[[T], R], items: Sequence[T], use_gpu: bool = False) -> list[R]:
        """One Ray task per item (a GPU each when `use_gpu`), results in order. The verifier actors and any
        generation replicas give their share of the cluster back first; Ray retries a task whose worker died."""
        if not items:
            return []
        self.release_actors()
        self.stop_generation()
        if use_gpu and self.cluster_gpus() == 0:
            raise ConfigError("--executor ray: this work needs GPUs and the Ray cluster has none")
        task = self.ray.remote(fn).options(num_gpus=1 if use_gpu else 0, num_cpus=1, max_retries=2)
        return list(self.ray.get([task.remote(x) for x in items]))

    def cluster_gpus(self) -> int:
        """GPUs of the alive nodes."""
        return sum(int(n["Resources"].get("GPU", 0)) for n in self._nodes())

    def cluster_cpus(self) -> int:
        """CPUs of the alive nodes."""
        return sum(int(n["Resources"].get("CPU", 1)) for n in self._nodes())

    def stop_generation(self) -> None:
        """Stop the generation replicas holding the cluster, if any (the other kind of actor wants it now)."""
        release, self.generation_release = self.generation_release, None
        if release is not None:
            release()

    def release_actors(self) -> None:
        """Stop the verifier actors and give their CPUs/GPUs back to Ray (the next verify_batch starts new
        ones): generation replicas need the devices the verifiers hold between a stage's verify phases."""
        for a in self.actors:
            try:
                self.ray.kill(a, no_restart=True)
            except Exception:
                pass
        self.actors.clear()
        self._shapes.clear()
        self._workers.clear()

    def close(self) -> None:
        """Stop the actors (their zygotes exit with them); stop Ray if this executor started it."""
        self.release_actors()
        if self._owns_ray:
            self.ray.shutdown()
            self._owns_ray = False
