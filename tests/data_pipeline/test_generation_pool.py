"""Generation replicas on a local Ray instance: the local backend's answers, in order; a dead replica's
prompts generated again; verifiers and replicas taking turns on the cluster."""

from __future__ import annotations

import os
import signal
import time

import pytest

from data_pipeline.generation_pool import ReplicatedBackend, generate_chunk, make_generation_backend, shards


def test_shards_are_contiguous_aligned_and_cover_everything() -> None:
    assert shards(0, 3, 8) == []
    assert shards(5, 3, 8) == [(0, 5)]  # fewer prompts than one aligned block: one replica
    assert shards(20, 2, 8) == [(0, 16), (16, 20)]
    assert shards(64, 4, 8) == [(0, 16), (16, 32), (32, 48), (48, 64)]
    for count in range(1, 40):
        for replicas in (1, 2, 3, 5):
            parts = shards(count, replicas, 4)
            assert parts[0][0] == 0 and parts[-1][1] == count and len(parts) <= replicas
            assert all(a % 4 == 0 and a < b for a, b in parts)
            assert all(p[1] == q[0] for p, q in zip(parts, parts[1:], strict=False))


PROMPTS = [[{"role": "user", "content": f"Write a Triton kernel that adds {i} to a tensor."}] for i in range(11)]


@pytest.fixture(scope="module")
def executor(ray_local):
    from rewards.executors.ray_executor import RayExecutor

    ex = RayExecutor(generation_replicas=2)
    yield ex
    ex.close()


def _local(tiny_model_dir):
    from data_pipeline.backends import make_backend

    return make_backend("hf", str(tiny_model_dir), device="cpu", threads=1)


def test_replicas_answer_as_the_local_backend(executor, tiny_model_dir) -> None:
    from rewards.executors import using

    local = _local(tiny_model_dir)
    with using(executor):
        pool = make_generation_backend("hf", str(tiny_model_dir), device="cpu")
    assert isinstance(pool, ReplicatedBackend) and pool.replicas == 2 and generate_chunk(pool, 8) == 16
    try:
        for n, temperature in ((1, 0.0), (2, 0.9)):  # greedy, and sampled (shards on the HF chunk boundaries)
            want = local.generate(PROMPTS, n=n, temperature=temperature, max_new_tokens=8, seed=3)
            got = pool.generate(PROMPTS, n=n, temperature=temperature, max_new_tokens=8, seed=3)
            assert got == want and len(got) == len(PROMPTS)
        assert len(pool.actors) == 2 and "x2" in pool.name
    finally:
        pool.close()


def test_a_dead_replica_is_replaced_and_its_prompts_generated_again(executor, tiny_model_dir) -> None:
    pool = ReplicatedBackend(executor, "hf", str(tiny_model_dir), 2, use_gpus=False,
                             backend_kw={"device": "cpu", "threads": 1})
    try:
        first = pool.generate(PROMPTS, n=1, temperature=0.0, max_new_tokens=8, seed=0)
        os.kill(pool.pids()[1], signal.SIGKILL)
        time.sleep(1.0)
        assert pool.generate(PROMPTS, n=1, temperature=0.0, max_new_tokens=8, seed=0) == first
        assert pool.starts == 3  # two, then one replacement
    finally:
        pool.close()


def test_verifiers_and_replicas_take_turns(executor, tiny_model_dir) -> None:
    """Both kinds want the whole (2-CPU) cluster: each stops the other, so neither waits for room forever."""
    from rewards.contract.config import VerifyConfig

    ref = "import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return x + 1\n" \
          "def get_inputs():\n    return [torch.randn(8)]\ndef get_init_inputs():\n    return []\n"
    cfg = VerifyConfig(device="cpu", workers=2, trials=1, timeout_s=60)
    pool = ReplicatedBackend(executor, "hf", str(tiny_model_dir), 1, use_gpus=False, cpus_per_replica=2,
                             backend_kw={"device": "cpu", "threads": 1})
    try:
        pool.generate(PROMPTS[:2], n=1, temperature=0.0, max_new_tokens=4, seed=0)
        assert pool.actors and executor.generation_release is not None
        assert executor.verify_batch([(ref, "no code here")], cfg)[0].status.value == "no_code"
        assert not pool.actors and executor.actors  # the verifiers stopped the replicas
        pool.generate(PROMPTS[:2], n=1, temperature=0.0, max_new_tokens=4, seed=0)
        assert pool.actors and not executor.actors  # and the replicas stopped the verifiers
    finally:
        pool.close()


def test_local_executor_keeps_generation_local(tiny_model_dir) -> None:
    from data_pipeline.backends import HFBackend

    assert isinstance(make_generation_backend("hf", str(tiny_model_dir), device="cpu", threads=1), HFBackend)


def test_distillation_alternates_replicas_and_verifiers(executor, tiny_model_dir, tmp_path) -> None:
    """A teacher on Ray replicas, batch after batch, each verified by the executor's actors in between (both
    want the 2-CPU cluster): every attempt judged, and the same attempts as the local teacher (greedy)."""
    from data_pipeline.config import load_config
    from data_pipeline.distill import distill
    from data_pipeline.synth import synthesize
    from rewards import VerifyConfig
    from rewards.executors import using
    from stagekit.journal import Journal

    samples = synthesize(4, 0, seed=5)
    tasks = [{"task_id": s.sample_id, "reference": s.reference, "instruction": s.instruction, "source": "synth"}
             for s in samples]
    cfg = load_config(None, ["--distill_backend", "hf", "--distill_model", str(tiny_model_dir), "--distill_n", "1",
                             "--distill_batch", "2", "--distill_temperature", "0", "--distill_max_new_tokens", "8"])
    vcfg = VerifyConfig(device="cpu", trials=1, workers=2)
    local = distill(tasks, cfg, vcfg, Journal(tmp_path / "local.jsonl"), log=lambda m: None)
    with using(executor):
        remote = distill(tasks, cfg, vcfg, Journal(tmp_path / "ray.jsonl"), log=lambda m: None)
        assert executor.generation_release is None and executor.actors  # the verifiers had the cluster last
    assert len(remote) == len(local) == 4
    key = lambda rows: sorted((r["attempt_id"], r["completion"], r["verify_status"]) for r in rows)  # noqa: E731
    assert key(remote) == key(local)
    assert all(r["verify_status"] != "infra_error" for r in remote)


def test_replicas_without_room_are_one_error(executor, tiny_model_dir, monkeypatch) -> None:
    from rewards.executors import ray_executor
    from stagekit.errors import ConfigError

    monkeypatch.setattr(ray_executor, "PLACEMENT_TIMEOUT_S", 3.0)
    pool = ReplicatedBackend(executor, "hf", str(tiny_model_dir), 3, use_gpus=False, cpus_per_replica=1,
                             backend_kw={"device": "cpu", "threads": 1})  # 3 CPUs asked of a 2-CPU instance
    with pytest.raises(ConfigError, match="no room for 3 generation replicas"):
        pool.generate(PROMPTS[:2], n=1, temperature=0.0, max_new_tokens=4, seed=0)
    assert pool.actors == [] and executor.generation_release is None
