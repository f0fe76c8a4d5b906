"""The candidate supervisor's report: always whole JSON under the pipe's size, never evidence dropped; and the
foreign-kernel check it feeds on CUDA."""

from __future__ import annotations

import json

from rewards.harness.child import MAX_KERNEL_NAMES, _kernel_counts
from rewards.harness.runtime_findings import runtime_findings
from rewards.sandbox.supervisor import REPORT_LIMIT, _cap


def test_autotune_sized_kernel_lists_stay_a_whole_report() -> None:
    # autotuning benchmarks each config ~100 times on the first call: thousands of profiler events
    names = [f"kernel_{i % 3}" for i in range(20000)] + [f"helper_{i}" for i in range(3000)]
    trial = {"launches": 300, "kernel_launches": {"kernel_0": 6667, "kernel_1": 6667, "kernel_2": 6666},
             "device_kernels": _kernel_counts(names), "ops": {"forbidden": {}}, "threads": 1, "denied": {}}
    assert len(trial["device_kernels"]) == MAX_KERNEL_NAMES + 1
    assert list(trial["device_kernels"])[-1].startswith("<") and sum(trial["device_kernels"].values()) == len(names)
    data = _cap({"status": "ran", "trials": [trial], "log": "x" * 100_000})
    assert len(data) <= REPORT_LIMIT
    report = json.loads(data)
    kept = report["trials"][0]["device_kernels"]
    assert list(kept)[-1].startswith("<") and len(kept) == 65
    # the cut list is not read as "nothing foreign ran": the sentinel is no kernel of the candidate's
    findings = runtime_findings(report["trials"], device="cuda")
    assert any("not written by the candidate" in f["message"] for f in findings)


def _trial(mine: dict[str, int], device: dict[str, int]) -> dict:
    return {"launches": 1, "kernel_launches": mine, "device_kernels": device, "ops": {}, "threads": 1}


def test_device_kernels_are_counted_per_name() -> None:
    assert _kernel_counts(["k", "k", "FillFunctor", "k"]) == {"k": 3, "FillFunctor": 1}
    assert _kernel_counts(None) is None
    # an autotuned kernel: every benchmark launch is the candidate's own, launch for launch
    assert runtime_findings([_trial({"k": 200}, _kernel_counts(["k"] * 200 + ["FillFunctor_x"] * 9))], device="cuda") == []


def _foreign(mine: dict[str, int], device: dict[str, int]) -> bool:
    return any("not written by the candidate" in f["message"] for f in runtime_findings([_trial(mine, device)], device="cuda"))


def test_a_kernel_named_like_a_vendor_kernel_does_not_vouch_for_it() -> None:
    """Attack: Triton accepts any identifier as a kernel's name (`repr=` or `__name__`), and cuBLAS
    kernels have identifier names; a name match alone would let a Triton kernel vouch for the GEMM torch ran."""
    gemm = "ampere_sgemm_32x32_sliced1x4_nn"
    assert _foreign({gemm: 1}, {gemm: 2})
    assert not _foreign({gemm: 2}, {gemm: 2})
    # renamed after compiling: the device knows it by its old name, which nothing accounts for
    torch_kernel = "void at::native::vectorized_elementwise_kernel<4, at::native::AddFunctor<float>>"
    assert _foreign({torch_kernel: 1}, {"move_data": 1, torch_kernel: 1})
    # a table that is not name -> count vouches for nothing
    assert _foreign(["move_data"], {"move_data": 1})  # type: ignore[arg-type]
    assert _foreign({"move_data": "9"}, {"move_data": 1})  # type: ignore[dict-item]


def test_a_report_too_large_to_trim_fails_closed() -> None:
    ops = {"forbidden": {}, "other": {f"op{i}": i for i in range(20000)}}
    data = _cap({"status": "ran", "trials": [{"launches": 1, "ops": ops}], "log": ""})
    report = json.loads(data)
    assert report["status"] == "crashed" and "too large" in report["log"]


def test_cut_markers_never_vouch_for_a_foreign_kernel() -> None:
    """Red team: both name lists cut to the same length end in the same marker text; a candidate that pads
    its own kernel names to the device list's length must not have the marker count as its own kernel
    (a torch kernel past the cut would vanish from the foreign-kernel check)."""
    mine = {f"candidate_kernel_{i:03d}_" + "x" * 40: 1 for i in range(200)}
    device = {**mine, "void at::native::vectorized_elementwise_kernel<add>": 1}
    trial = {"launches": 201, "kernel_launches": {**mine, "zz_warm": 1}, "device_kernels": device,
             "ops": {"forbidden": {}}, "threads": 1, "denied": {}}
    report = json.loads(_cap({"status": "ran", "trials": [json.loads(json.dumps(trial)) for _ in range(5)], "log": ""}))
    cut = report["trials"][0]
    assert len(cut["kernel_launches"]) == len(cut["device_kernels"]) == 65
    assert list(cut["kernel_launches"])[-1] == list(cut["device_kernels"])[-1]  # the collision the check must survive
    assert cut["kernel_launches"][list(cut["kernel_launches"])[-1]] >= cut["device_kernels"][list(cut["device_kernels"])[-1]]
    findings = runtime_findings(report["trials"], device="cuda")
    assert any("not written by the candidate" in f["message"] for f in findings)
    # nor a kernel the candidate names like a marker
    assert _foreign({"<cut: 1 more>": 5}, {"<cut: 1 more>": 1})


def test_a_missing_device_record_fails_closed() -> None:
    """Attack: a trial whose profiler did not start (or was stopped) reports device_kernels None, which must not
    read as "nothing foreign ran" to the foreign-kernel check."""
    trial = _trial({"k": 1}, None)  # type: ignore[arg-type]
    assert any("no device-kernel record" in f["message"] for f in runtime_findings([trial], device="cuda"))
    assert runtime_findings([trial], device="cpu") == []  # nothing is profiled off CUDA


def test_a_report_the_zygote_cannot_read_is_the_candidates_crash() -> None:
    """A report's ops/launches/threads are what the candidate's process sent (a forged frame can make them any
    JSON). A malformed one is the candidate's `crashed`: were it to raise in the zygote's loop, the zygote would
    die and every verdict in flight would come back infra_error (left out of every reward)."""
    from rewards.sandbox.candidate_results import candidate_outcome

    def outcome(report: dict) -> dict:
        out = candidate_outcome(report, 0, "", group_failed=None, timed_out=False, timeout_s=10.0, device="cpu",
                                strict_rules=True)
        assert out.result is not None
        return out.result

    assert outcome({"status": "runtime_error", "ops": "not a dict"})["status"] == "crashed"
    assert outcome({"status": "runtime_error", "ops": {"forbidden": [1]}})["status"] == "crashed"
    ran = {"status": "ran", "outputs": "out-x.pt", "trials": [{"launches": "many"}]}
    out = candidate_outcome(ran, 0, "", group_failed=None, timed_out=False, timeout_s=10.0, device="cpu",
                            strict_rules=True)
    assert out.result is not None and out.result["status"] == "crashed" and out.discard == "out-x.pt"
    # a well-formed report reads as before
    assert outcome({"status": "runtime_error", "ops": {"forbidden": {}}})["status"] == "runtime_error"
