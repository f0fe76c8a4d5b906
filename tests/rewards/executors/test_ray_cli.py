"""`tritonforge verify --batch --executor ray`: the local verdicts, through the test run's Ray instance.

(A module of its own: the module-scoped executor of test_ray_executor.py holds both CPUs of the instance.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewards.bench import make_cases
from stagekit.errors import ConfigError


def test_verify_batch_cli_on_ray_writes_the_local_verdicts(ray_local, tmp_path: Path) -> None:
    from tritonforge.cli import main

    cases = make_cases(5, tmp_path)
    batch = tmp_path / "pairs.jsonl"
    batch.write_text("".join(json.dumps({"task": str(t), "candidate": str(c)}) + "\n" for t, c, _ in cases))
    outs = {}
    for executor in ("local", "ray"):
        out = tmp_path / f"{executor}.jsonl"
        assert main(["verify", "--batch", str(batch), "--out", str(out), "--verify_device", "cpu", "--verify_trials", "1",
                     "--verify_workers", "1", "--executor", executor]) == 0
        outs[executor] = [json.loads(line)["status"] for line in out.read_text().splitlines()]
    assert outs["ray"] == outs["local"] and len(outs["ray"]) == 5
    assert ray_local.is_initialized()  # the stage reused the test run's instance and left it running



def test_no_room_for_the_actors_is_one_error(ray_local, monkeypatch) -> None:
    from rewards.contract.config import VerifyConfig
    from rewards.executors import ray_executor
    from rewards.executors.ray_executor import RayExecutor

    monkeypatch.setattr(ray_executor, "PLACEMENT_TIMEOUT_S", 3.0)
    ex = RayExecutor(actors=3)  # 3 actors of 1 CPU on a 2-CPU instance
    with pytest.raises(ConfigError, match="placed only 2 of 3 verifier actors"):
        ex.verify_batch([("class Model: pass", "no code")], VerifyConfig(device="cpu", workers=1))
    assert ex.actors == []  # released, so the next stage has the CPUs
