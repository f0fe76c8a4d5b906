"""The candidate supervisor's report: always whole JSON under the pipe's size, never evidence dropped."""

from __future__ import annotations

import json

from rewards.child import MAX_KERNEL_NAMES, _kernel_set
from rewards.runtime_findings import runtime_findings
from rewards.supervisor import REPORT_LIMIT, _cap


def test_autotune_sized_kernel_lists_stay_a_whole_report() -> None:
    # autotuning benchmarks each config ~100 times on the first call: thousands of profiler events
    names = [f"kernel_{i % 3}" for i in range(20000)] + [f"helper_{i}" for i in range(3000)]
    trial = {"launches": 300, "kernel_names": ["kernel_0", "kernel_1", "kernel_2"], "device_kernels": _kernel_set(names),
             "ops": {"forbidden": {}}, "threads": 1, "denied": {}}
    assert len(trial["device_kernels"]) == MAX_KERNEL_NAMES + 1 and trial["device_kernels"][-1].startswith("<")
    data = _cap({"status": "ran", "trials": [trial], "log": "x" * 100_000})
    assert len(data) <= REPORT_LIMIT
    report = json.loads(data)
    kept = report["trials"][0]["device_kernels"]
    assert kept[-1].startswith("<") and len(kept) == 65
    # the cut list is not read as "nothing foreign ran": the sentinel is no kernel of the candidate's
    findings = runtime_findings(report["trials"], device="cuda")
    assert any("not written by the candidate" in f["message"] for f in findings)


def test_distinct_kernels_are_reported_once() -> None:
    assert _kernel_set(["k", "k", "FillFunctor", "k"]) == ["FillFunctor", "k"]
    assert _kernel_set(None) is None
    findings = runtime_findings([{"launches": 200, "kernel_names": ["k"], "device_kernels": _kernel_set(["k"] * 200),
                                  "ops": {}, "threads": 1}], device="cuda")
    assert findings == []


def test_a_report_too_large_to_trim_fails_closed() -> None:
    ops = {"forbidden": {}, "other": {f"op{i}": i for i in range(20000)}}
    data = _cap({"status": "ran", "trials": [{"launches": 1, "ops": ops}], "log": ""})
    report = json.loads(data)
    assert report["status"] == "crashed" and "too large" in report["log"]


def test_cut_markers_never_vouch_for_a_foreign_kernel() -> None:
    """Red team: both name lists cut to the same length end in the same marker text; a candidate that pads
    its own kernel names to the device list's length must not have the marker count as its own kernel
    (a torch kernel past the cut would vanish from the foreign-kernel check)."""
    mine = [f"candidate_kernel_{i:03d}_" + "x" * 40 for i in range(200)]
    device = sorted(mine + ["void at::native::vectorized_elementwise_kernel<add>"])
    trial = {"launches": 200, "kernel_names": mine + ["zz_warm"], "device_kernels": device,
             "ops": {"forbidden": {}}, "threads": 1, "denied": {}}
    report = json.loads(_cap({"status": "ran", "trials": [dict(trial) for _ in range(5)], "log": ""}))
    cut = report["trials"][0]
    assert len(cut["kernel_names"]) == len(cut["device_kernels"]) == 65
    assert cut["kernel_names"][-1] == cut["device_kernels"][-1]  # the collision the check must survive
    findings = runtime_findings(report["trials"], device="cuda")
    assert any("not written by the candidate" in f["message"] for f in findings)
    # nor a kernel the candidate names like a marker
    named = {"launches": 1, "kernel_names": ["<cut: 1 more>"], "device_kernels": ["<cut: 1 more>"], "ops": {}, "threads": 1}
    assert runtime_findings([named], device="cuda")
