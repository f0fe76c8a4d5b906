"""`tritonforge verify` contract: one JSON object, exit 0 whatever the verdict, exit 2 for bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
T, C = HERE / "tasks", HERE / "candidates"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tritonforge.cli", "verify", *args, "--verify_device", "cpu", "--verify_trials", "1"],
                          capture_output=True, text=True, timeout=300)


def test_verify_prints_one_json_object(tmp_path):
    p = run(str(T / "relu.py"), str(C / "relu_ok.py"))
    assert p.returncode == 0, p.stderr
    obj = json.loads(p.stdout)
    assert obj["status"] == "ok" and obj["correct"] is True and obj["speedup"] is None
    comp = tmp_path / "completion.txt"
    comp.write_text("Here you go:\n```python\n" + (C / "softmax_wrong.py").read_text() + "```\n")
    p = run(str(T / "softmax.py"), str(comp))
    assert p.returncode == 0 and json.loads(p.stdout)["status"] == "mismatch"


def test_bad_arguments_exit_2_with_one_line(tmp_path):
    p = run(str(tmp_path / "missing.py"), str(C / "relu_ok.py"))
    assert p.returncode == 2 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1
    bad = tmp_path / "task.py"
    bad.write_text("import torch\nx = 1\n")
    p = run(str(bad), str(C / "relu_ok.py"))
    assert p.returncode == 2 and "Model" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_batch_keeps_order(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    rows = [(T / "relu.py", C / "relu_ok.py"), (T / "softmax.py", C / "softmax_wrong.py"), (T / "add.py", C / "add_ok.py")]
    pairs.write_text("".join(json.dumps({"task": str(t), "candidate": str(c)}) + "\n" for t, c in rows))
    out = tmp_path / "res.jsonl"
    p = subprocess.run([sys.executable, "-m", "tritonforge.cli", "verify", "--batch", str(pairs), "--out", str(out),
                        "--verify_workers", "2", "--verify_device", "cpu", "--verify_trials", "1"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    statuses = [json.loads(line)["status"] for line in out.read_text().splitlines()]
    assert statuses == ["ok", "mismatch", "ok"]


def test_cuda_without_a_gpu_is_one_error_line():
    import torch

    if torch.cuda.is_available():
        return
    p = subprocess.run([sys.executable, "-m", "tritonforge.cli", "verify", str(T / "relu.py"), str(C / "relu_ok.py"),
                        "--verify_device", "cuda"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "no CUDA device is visible" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_kernelbench_cpu_size_reduces_a_task_as_eval_does(tmp_path):
    """`--kernelbench_cpu_size` applies eval's CPU size rule (`scale_kernelbench`): here 8M elements of input
    and as many of output, far past the 4M budget, come down to fit it; the verdict is that of the small task."""
    task = tmp_path / "19_ReLU.py"
    task.write_text((T / "relu.py").read_text().replace("return [torch.randn(16, 64)]", "return [torch.randn(batch_size, dim)]")
                    + "\n\nbatch_size = 2048\ndim = 4096\n")
    from rewards.oracle.task_sizes import scale_kernelbench

    (expected,) = scale_kernelbench([task.read_text()])
    assert expected.changes, "the task must be over the CPU budget for this test to mean anything"
    p = run(str(task), str(C / "relu_ok.py"), "--kernelbench_cpu_size")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"] == "ok"
    assert expected.describe() in p.stderr
