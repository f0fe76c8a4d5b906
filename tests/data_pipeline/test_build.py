"""End-to-end builds on tiny configs: loadable dataset, every SFT row verifies again, bad input leaves
nothing behind, and a build killed with kill -9 finishes on rerun with no lost or duplicated rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets
import pytest

from data_pipeline.build import build
from data_pipeline.cli import main as cli_main
from data_pipeline.config import load_config
from data_pipeline.sources import gather

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]

SMALL = ["--synth_train", "24", "--synth_heldout", "4", "--synth_indist", "4", "--verify_trials", "1",
         "--verify_workers", "2", "--batch_size", "8", "--verify_device", "cpu"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus") / "tiny"
    user = tmp_path_factory.mktemp("user")
    for f in (FIXTURES / "user_tasks").glob("*.py"):
        (user / f.name).write_text(f.read_text())
    # Planted leak: a KernelBench (eval-role) task submitted as a user task.
    (user / "leak.py").write_text((FIXTURES / "kernelbench/level2/12_Gemm_Multiply_LeakyReLU.py").read_text())
    cfg = load_config(None, [*SMALL, "--user_tasks_path", str(user), "--kernelbench_path", str(FIXTURES / "kernelbench"),
                             "--tritonbench_g_path", str(FIXTURES / "tritonbench")])
    report = build(cfg, out, log=lambda m: None)
    return out, report


def test_dataset_loads_with_all_splits(built) -> None:
    out, report = built
    ds = datasets.load_dataset(str(out))
    assert set(ds) == {"sft", "rl", "heldout"}
    assert "config_name: attempts" not in (out / "README.md").read_text()  # no teacher, no attempts
    assert len(ds["sft"]) == report["counts"]["sft"] >= 20
    row = ds["sft"][0]
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
    assert row["verify_status"] == "ok" and row["verify_trials"] == 1
    assert ds["rl"][0]["prompt"][-1]["role"] == "user" and ds["rl"][0]["reference"]
    assert len(ds["heldout"]) >= 1
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "by op kind" in card
    assert not (out.parent / "tiny.work").exists() and not (out.parent / "tiny.partial").exists()


def test_indist_split_is_an_eval_suite_apart_from_heldout(built) -> None:
    """indist lives in OUT/indist (suite heldout:OUT/indist); heldout:OUT never picks it up."""
    from eval.suites import load_suite_full

    out, report = built
    indist = load_suite_full(f"heldout:{out / 'indist'}").items
    heldout = load_suite_full(f"heldout:{out}").items
    assert len(indist) == report["counts"]["indist"] >= 1 and len(heldout) == report["counts"]["heldout"]
    assert not {i.task_id for i in indist} & {h.task_id for h in heldout}
    sft = datasets.load_dataset(str(out), split="sft")
    assert not {i.task.reference for i in indist} & set(sft["reference"])
    assert "| indist |" in (out / "README.md").read_text()


def test_user_solution_and_leak(built) -> None:
    out, report = built
    ds = datasets.load_dataset(str(out))
    assert "user-vec_scale" in set(ds["sft"]["task_id"])
    rl_ids = set(ds["rl"]["task_id"])
    assert "user-row_tanh" in rl_ids and "user-leak" not in rl_ids
    assert any(d["row_id"] == "user-leak" and d["reason"] == "contamination:kernelbench" for d in report["drops"])


def test_every_sft_row_verifies_again(built, tmp_path) -> None:
    """Each emitted SFT row, written out as files, passes `tritonforge verify --batch` with fresh seeds."""
    out, _ = built
    sft = datasets.load_dataset(str(out), split="sft")
    lines = []
    for i, r in enumerate(sft):
        task, cand = tmp_path / f"task_{i}.py", tmp_path / f"completion_{i}.md"
        task.write_text(r["reference"])
        cand.write_text(r["messages"][-1]["content"])  # the assistant turn as trained on: prose + fenced code
        lines.append(json.dumps({"task": str(task), "candidate": str(cand)}))
    pairs, results = tmp_path / "pairs.jsonl", tmp_path / "results.jsonl"
    pairs.write_text("\n".join(lines) + "\n")
    p = subprocess.run([sys.executable, "-m", "tritonforge.cli", "verify", "--batch", str(pairs), "--out", str(results),
                        "--verify_device", "cpu", "--verify_trials", "2", "--verify_workers", "2"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    res = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(res) == len(sft) > 0
    assert all(r["correct"] for r in res), [r["status"] for r in res if not r["correct"]]


def test_bad_input_leaves_no_output(tmp_path, capsys) -> None:
    out = tmp_path / "corpus"
    code = cli_main(["data", "build", "--config", "tiny", "--out", str(out),
                     "--kernelbench_path", str(FIXTURES / "user_tasks")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: kernelbench")
    assert list(tmp_path.iterdir()) == []
    code = cli_main(["data", "build", "--config", "tiny", "--out", str(out), "--no_such_key", "1"])
    assert code == 2 and "unknown option" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_stats_cli(built, tmp_path, capsys) -> None:
    out, _ = built
    png = tmp_path / "p.png"
    assert cli_main(["data", "stats", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "sft by op_kind" in text and png.stat().st_size > 1000
    assert cli_main(["data", "stats", str(tmp_path / "nothing")]) == 2


def test_resume_after_kill(tmp_path) -> None:
    out = tmp_path / "resumed"
    overrides = ["--synth_train", "40", "--synth_heldout", "4", "--verify_trials", "1", "--verify_workers", "2",
                 "--batch_size", "4", "--verify_device", "cpu", "--keep_work", "true"]
    cmd = [sys.executable, "-m", "data_pipeline.cli", "data", "build", "--config", "tiny", "--out", str(out), *overrides]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    journal = tmp_path / "resumed.work" / "verified.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not journal.exists() or journal.read_text().count("\n") < 8):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = journal.read_text().count("\n")
    assert 0 < done_before < 44 and not out.exists()
    with open(journal, "a") as f:
        f.write('{"key": "torn')  # a write cut short by the kill
    assert subprocess.run(cmd, cwd=REPO, env=env, capture_output=True).returncode == 0
    # force_redownload: `datasets` caches a local folder's parquet under a key that an earlier run's folder of
    # the same name can match, and would then return that run's rows instead of the files now on disk.
    ds = datasets.load_dataset(str(out), download_mode="force_redownload", verification_mode="no_checks")
    ids = ds["sft"]["sample_id"]
    assert len(ids) == len(set(ids))
    cfg = load_config("tiny", overrides)
    expected = {c["sample_id"] for c in gather(cfg).candidates if c["split"] == "train"}
    import json

    dropped = {d["row_id"] for d in json.loads((out / "build_report.json").read_text())["drops"]}
    assert set(ids) | (dropped & expected) == expected
    assert len(ds["heldout"]) == sum(1 for c in gather(cfg).candidates if c["split"] == "heldout")
