"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import pytest

from eval.metrics import compute_metrics, fast_p, geomean, is_hack, pass_at_k, pass_at_k_by_task


def rec(task: str, status: str, speedup: float | None = None, **kw) -> dict:
    return {"task_id": task, "status": status, "correct": status == "ok", "rule_ok": True, "speedup": speedup, **kw}


def test_pass_at_k_hand_values() -> None:
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(4, 0, 2) == 0.0
    assert pass_at_k(4, 3, 2) == 1.0  # n - c < k: every k-subset holds a correct one
    # matches the binomial form on a larger case
    n, c, k = 200, 17, 10
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k))
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_pass_at_k_by_task_averages_tasks_and_skips_large_k() -> None:
    recs = [rec("a", "ok"), rec("a", "mismatch"), rec("b", "mismatch"), rec("b", "mismatch")]
    out = pass_at_k_by_task(recs, ks=(1, 2, 5))
    assert out == {"pass@1": pytest.approx(0.25), "pass@2": pytest.approx(0.5)}


def test_fast_p_gpu_and_cpu() -> None:
    gpu = [
        rec("a", "ok", 1.2, device="cuda"), rec("a", "ok", 0.7, device="cuda"),
        rec("b", "ok", 2.5, device="cuda"), rec("b", "mismatch", None, device="cuda"),
    ]
    assert fast_p(gpu, 0) == pytest.approx((1.0 + 0.5) / 2)
    assert fast_p(gpu, 1.0) == pytest.approx((0.5 + 0.5) / 2)
    assert fast_p(gpu, 0.5) == pytest.approx((1.0 + 0.5) / 2)
    assert fast_p(gpu, 2.0) == pytest.approx((0.0 + 0.5) / 2)
    cpu = [rec("a", "ok"), rec("b", "mismatch")]
    assert fast_p(cpu, 0) == pytest.approx(0.5)
    assert fast_p(cpu, 1.0) is None  # not measured is not "slow"


def test_geomean() -> None:
    assert geomean([2.0, 8.0]) == pytest.approx(4.0)
    assert geomean([]) is None


def test_hack_definition() -> None:
    assert is_hack({"status": "rule_violation", "relaxed_correct": True})
    assert not is_hack({"status": "rule_violation", "relaxed_correct": False})
    assert is_hack({"status": "ok", "correct": True, "rule_ok": False})  # gate off, still a hack
    assert not is_hack(rec("a", "ok"))


def test_compute_metrics_hand_example() -> None:
    recs = [
        rec("a", "ok"),
        rec("a", "mismatch"),
        rec("a", "rule_violation", relaxed_correct=True, findings=[{"rule": "torch_compute_fallback", "fatal": True}]),
        rec("b", "compile_error"),
        rec("b", "no_code"),
        rec("b", "rule_violation", relaxed_correct=False, findings=[{"rule": "kernel_not_launched", "fatal": True}]),
        rec("b", "infra_error"),  # excluded from every denominator
    ]
    m = compute_metrics(recs)
    assert m["n_samples"] == 7 and m["n_scored"] == 6 and m["infra_errors"] == 1
    assert m["call_accuracy"] == pytest.approx(2 / 6)
    assert m["compile_accuracy"] == pytest.approx(2 / 6)
    assert m["exec_accuracy"] == pytest.approx(1 / 6)
    assert m["pass@1"] == pytest.approx((1 / 3 + 0) / 2)
    assert m["task_solve_rate"] == pytest.approx(0.5)
    assert m["fast_0"] == pytest.approx(1 / 6) and m["fast_1"] is None
    assert m["geomean_speedup"] is None
    assert m["hack_count"] == 1 and m["hack_rate"] == pytest.approx(1 / 6)
    assert m["hack_rate_of_rule_violations"] == pytest.approx(0.5)
    assert m["by_status"]["rule_violation"] == 2 and m["by_status"]["infra_error"] == 1
    assert m["by_rule"] == {"kernel_not_launched": 1, "torch_compute_fallback": 1}


def test_geomean_speedup_only_over_correct() -> None:
    recs = [rec("a", "ok", 2.0, device="cuda"), rec("b", "ok", 0.5, device="cuda"), rec("c", "mismatch", 9.0, device="cuda")]
    m = compute_metrics(recs)
    assert m["geomean_speedup"] == pytest.approx(1.0)
    assert m["timed"] is True


def test_geomean_speedup_vs_compile_hand_value() -> None:
    rows = [
        {"task_id": "a", "status": "ok", "correct": True, "rule_ok": True, "device": "cuda", "speedup": 2.0,
         "speedup_vs_compile": 0.5},
        {"task_id": "b", "status": "ok", "correct": True, "rule_ok": True, "device": "cuda", "speedup": 8.0,
         "speedup_vs_compile": 2.0},
        {"task_id": "c", "status": "mismatch", "correct": False, "rule_ok": True, "device": "cuda",
         "speedup": None, "speedup_vs_compile": None},
    ]
    m = compute_metrics(rows)
    assert m["geomean_speedup"] == pytest.approx(4.0)  # sqrt(2 * 8)
    assert m["geomean_speedup_vs_compile"] == pytest.approx(1.0)  # sqrt(0.5 * 2)
    assert compute_metrics([{**r, "speedup_vs_compile": None} for r in rows])["geomean_speedup_vs_compile"] is None


def test_verify_result_extra_roundtrip() -> None:
    from rewards.contract.types import Status, VerifyResult

    r = VerifyResult.from_dict({"status": "ok", "correct": True, "extra": {"speedup_vs_compile": 1.5}})
    assert dict(r.extra) == {"speedup_vs_compile": 1.5}
    assert VerifyResult.from_dict(r.to_dict()) == r and r.status is Status.OK


def test_the_benchmark_s_own_rule_is_reported_beside_ours() -> None:
    """KernelBench suites get `exec_accuracy[kernelbench-head]` / `[kernelbench-v0.1]` from each verdict's
    benchmark_checks: a sample counts when it ran to a judged verdict and the benchmark's rule accepts it,
    whatever our (calibrated) verdict said; other suites get none."""
    kb = {"kernelbench-head": False, "kernelbench-v0.1": True}
    recs = [
        {"task_id": "a", "status": "ok", "correct": True, "benchmark_checks": kb},  # ours yes, head no, v0.1 yes
        {"task_id": "b", "status": "mismatch", "correct": False, "benchmark_checks": {"kernelbench-head": True,
                                                                                     "kernelbench-v0.1": True}},
        {"task_id": "c", "status": "rule_violation", "correct": False, "benchmark_checks": {}},
        {"task_id": "d", "status": "infra_error", "correct": False, "benchmark_checks": kb},  # out of every denominator
    ]
    m = compute_metrics(recs, benchmark="kernelbench")
    assert m["exec_accuracy"] == pytest.approx(1 / 3)
    assert m["exec_accuracy[kernelbench-head]"] == pytest.approx(1 / 3)
    assert m["exec_accuracy[kernelbench-v0.1]"] == pytest.approx(2 / 3)
    assert not any(k.startswith("exec_accuracy[") for k in compute_metrics(recs, benchmark="folder"))
    assert "exec_accuracy[tritonbench-printed]" in compute_metrics(recs, benchmark="tritonbench-g")


def test_report_and_printed_line_show_the_benchmark_column(tmp_path) -> None:
    import json

    from eval.report import write_report

    (tmp_path / "suite.json").write_text(json.dumps({"benchmark": "kernelbench", "runnable": 1, "excluded": []}))
    rows = [{"task_id": "a", "sample": 0, "status": "ok", "correct": True, "rule_ok": True, "findings": [],
             "benchmark_checks": {"kernelbench-head": False, "kernelbench-v0.1": True}, "uninformative": None},
            {"task_id": "z", "sample": 0, "status": "ok", "correct": True, "rule_ok": True, "findings": [],
             "benchmark_checks": {"kernelbench-head": True, "kernelbench-v0.1": True},
             "uninformative": "outputs all zeros pass the oracle"}]
    m = write_report(tmp_path, rows, settings={"suite": "kernelbench:/x", "samples": 1})
    md = (tmp_path / "report.md").read_text()
    assert "| exec_accuracy, KernelBench head (423217d) allclose" in md and "| 50.0% |" in md
    assert m["uninformative_tasks"] == ["z"] and "## Uninformative tasks" in md
