"""The same eval metrics on every executor: a heldout eval verified on local Ray actors equals the local one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from data_pipeline.build import build
from data_pipeline.config import load_config
from data_pipeline.corpus import load_split
from eval.run import run_eval
from rewards import VerifyConfig
from rewards.executors import ExecutorArguments, using

CFG = VerifyConfig(device="cpu", workers=1, seed=0, trials=1)
# Wall-clock fields: the only ones allowed to differ between two runs of the same eval.
TIMING = ("wall", "seconds", "_s", "time")


@pytest.fixture(scope="module")
def heldout_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "tiny"
    build(load_config("tiny", ["--synth_train", "2", "--synth_heldout", "4", "--synth_indist", "0",
                               "--verify_trials", "1", "--verify_workers", "1"]), out, log=lambda m: None)
    return out


@pytest.fixture
def answering_backend(scripted_backend, heldout_corpus: Path):
    """Sample 0: the row's own solution; sample 1: the same with its output doubled on the host (wrong, and
    a rule violation: deterministic verdicts; an out-of-bounds kernel could crash at random in the
    interpreter); sample 2: no code."""
    rows = list(load_split(heldout_corpus, "heldout"))
    doubled = "\n_forward = ModelNew.forward\nModelNew.forward = lambda self, *a: _forward(self, *a) * 2\n"

    def respond(messages: list[dict], i: int) -> str:
        row = next(r for r in rows if r["reference"].strip() in messages[-1]["content"])
        return [f"```python\n{row['solution']}```\n", f"```python\n{row['solution']}{doubled}```\n", "no code"][i]

    return scripted_backend(respond)


def metrics_without_timing(m: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in m.items() if not any(t in k for t in TIMING)}


def test_heldout_eval_metrics_equal_on_ray(heldout_corpus: Path, answering_backend, ray_local, tmp_path: Path) -> None:
    suite = f"heldout:{heldout_corpus}"
    local = run_eval("m", suite, tmp_path / "local", samples=3, verify_config=CFG, backend_obj=answering_backend)
    with using(ExecutorArguments(executor="ray", ray_actors=2)) as executor:
        remote = run_eval("m", suite, tmp_path / "ray", samples=3, verify_config=CFG, backend_obj=answering_backend)
        assert executor.finished >= 4
    assert metrics_without_timing(remote) == metrics_without_timing(local)
    assert 0 < local["exec_accuracy"] < 1  # both right and wrong answers were judged
    rows = [json.loads(x) for x in (tmp_path / "ray" / "samples.jsonl").read_text().splitlines()]
    assert sorted((r["task_id"], r["sample"], r["status"]) for r in rows) == sorted(
        (r["task_id"], r["sample"], r["status"])
        for r in map(json.loads, (tmp_path / "local" / "samples.jsonl").read_text().splitlines()))
