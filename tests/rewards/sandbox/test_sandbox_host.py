"""One mixed batch of hostile and honest adversarial candidates, with the host checked before and after.

The batch runs through `rewards.verify_batch` with strict rules off, so every hostile candidate really
executes: sandbox gaps (host-writable dirs, SysV/POSIX IPC, unix sockets, a channel between two
candidates, user namespaces, daemons, memory spread over processes), robustness attacks (deep trees,
uncomparable outputs, closed stdio, kills) and secret/report forgeries, next to honest controls. Asserts:
(a) every honest candidate is `ok`, (b) no hostile one is `correct` (they are built to be correct exactly
when their attack works; the few that cannot tell a private tmpfs or IPC namespace from the host may be
`ok` and are judged by the host checks), nothing is an `infra_error`, and (c) nothing new is left on the host: SysV shm/
msg/sem, entries in /run/lock, /var/lock, /var/tmp, /dev/shm, /dev/mqueue and /tmp owned by the sandbox
user or tagged tf_, POSIX queues, listening unix sockets, processes carrying a case marker, and sandbox
dirs the engine failed to remove (its TMPDIR is a fresh directory the test inspects). Needs root
(the engine only applies namespaces and user nobody when started as root).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
sys.path.insert(0, str(HERE))
import host_effects  # noqa: E402

ADV = HERE / "adversarial"
TASKS = HERE / "tasks"
HOSTILE_CLASSES = {"sandbox_escape", "robustness", "secrets", "forged_report", "hidden_compute", "audit", "attr_modules", "dodge"}

# The batch, in this order: hostile candidates built to be correct exactly when their attack works (so a
# correct one shows the attack worked, whatever the host checks see), next to the honest controls that use the
# same machinery. The test-side filter below still drops the audit-mode cases.
_MIXED_BATCH = """
    hidden_descriptor_softmax hidden_property_rowsum hidden_getattr_ops hidden_partial_softmax
    hidden_decorated_forward hidden_loopvar_relu hidden_autotune_prehook hidden_coroutine_softmax
    hidden_numpy_roundtrip attr_typing_sys_write_result attr_genframe_counter attr_excinfo_sync
    attr_torch_os_system attr_pickle_gadget secret_initial_seed secret_inputs_file secret_frame_data
    secret_weights_file runtime_secret_initial_seed runtime_secret_inputs_file forge_report_exit
    forge_noop_save forge_fd_spray forge_verdict_fields runtime_forge_report_exit runtime_forge_noop_save
    runtime_attr_typing_sys_write_result runtime_attr_excinfo_sync sbx_lock_dirs sbx_sysv_ipc sbx_posix_mq
    sbx_unix_host sbx_channel_writer sbx_channel_reader sbx_userns sbx_daemon sbx_mem_spread
    robust_deep_tree robust_many_files robust_sparse_output robust_nested_output robust_deep_expression
    robust_close_stdio robust_killpg robust_recursion_import robust_malformed_outputs
    robust_report_wrong_types robust_huge_output robust_hostile_scalar control_helper_object
    control_base_method control_triton_op control_autotune control_two_kernels control_autograd_function
    control_masked_matmul control_views control_heuristics hidden_aten_impl_clone hidden_aten_impl_tocopy
    hidden_marshal_storage hidden_marshal_tuple_iter hidden_kernel_numpy_handle
    hidden_constexpr_numpy_softmax hidden_str_parse hidden_array_interface hidden_allowed_ops_layout
    hidden_prerun_hook hidden_heuristics_lambda hidden_autotune_prune hidden_python_scalars
    hidden_dlpack_numpy dodge_typing_eval_suspend attr_update_wrapper_detach attr_update_wrapper_save
    audit_update_wrapper_frame forge_record_frame audit_disarm_policy sbx_raw_memory dos_wide_output
    control_logging_warnings control_cat_item control_jit_helpers control_triton_op_custom
    control_heuristics_named control_autotune_config_fn runtime_update_wrapper_detach
    runtime_update_wrapper_save control_stdlib_types control_grad_torch_backward dodge_grad_deferred
    dodge_grad_in_forward runtime_grad_in_forward dodge_dict_key_repr runtime_dict_key_repr
    runtime_mode_linger runtime_thread_join runtime_disable_modes runtime_python_dispatcher
    runtime_redispatch runtime_tls_exclude_init control_python_tensor_methods runtime_handoff_numpy
    control_relu_inplace runtime_instance_detach runtime_input_class_swap runtime_signal_timer
    runtime_mode_del runtime_marshal_direct dodge_grid_iter_lie dodge_warmup_flip robust_error_frame_ops
    dodge_scalar_norm_bound dodge_nested_inplace_noop dodge_nested_inplace_first_call control_nested_inplace
    dodge_dict_key_rename control_dict_output control_ordered_dict control_size_input
"""
MIXED_BATCH = tuple(_MIXED_BATCH.split())

pytestmark = pytest.mark.slow


def _batch_cases() -> list[dict[str, Any]]:
    by_name = {c["name"]: c for m in ADV.glob("*.yaml") for c in yaml.safe_load(m.read_text())}
    cases = [by_name[n] for n in MIXED_BATCH]
    picked = [c for c in cases if c["class"] == "honest_control"
              or ((c["class"] in HOSTILE_CLASSES or c["category"] == "escape") and not c.get("audit"))]
    # Hostile and honest interleaved (one group per task, so siblings share a reference process), with the
    # channel writer kept right before its reader.
    hostile = [c for c in picked if c["class"] != "honest_control"]
    honest = [c for c in picked if c["class"] == "honest_control"]
    out: list[dict[str, Any]] = []
    while hostile or honest:
        if hostile:
            out.append(hostile.pop(0))
            if out[-1]["name"] == "sbx_channel_writer" and hostile and hostile[0]["name"] == "sbx_channel_reader":
                out.append(hostile.pop(0))
        if honest:
            out.append(honest.pop(0))
    return out


def _all_keys(cases: list[dict[str, Any]]) -> tuple[list[int], list[str], list[str]]:
    keys = [k for c in cases for k in c.get("sysv_keys", [])]
    mqs = [q for c in cases for q in c.get("posix_mq", [])]
    files = [p for c in cases for p in c.get("no_files", [])]
    return keys, mqs, files


def _cleanup(cases: list[dict[str, Any]]) -> None:
    keys, mqs, files = _all_keys(cases)
    for p in files:
        host_effects.remove_path(p)
    host_effects.sysv_remove(keys)
    host_effects.mq_remove(mqs)


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's host protections need the engine to run as root")
def test_mixed_batch_leaves_host_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    from rewards import Engine, VerifyConfig

    # The engine's sandbox dirs go under a TMPDIR of our own, so what its cleanup leaves behind is visible.
    workdir = tempfile.mkdtemp(prefix="tf_v2_hostcheck_")
    os.chmod(workdir, 0o755)
    monkeypatch.setenv("TMPDIR", workdir)
    monkeypatch.setenv("TRITONFORGE_SANDBOX_DIR", workdir)

    cases = _batch_cases()
    names = [c["name"] for c in cases]
    assert len(names) >= 20 and any(c["class"] == "honest_control" for c in cases)
    _cleanup(cases)
    listeners = [host_effects.UnixListener(c["unix_listen"].get("path"), c["unix_listen"].get("abstract"))
                 for c in cases if "unix_listen" in c]
    before = host_effects.snapshot()
    cfg = VerifyConfig(device="cpu", trials=2, timeout_s=10.0, strict_rules=False, workers=2, memory_mb=4096)
    pairs = [((TASKS / c["task"]).read_text(), (ADV / c["candidate"]).read_text()) for c in cases]
    try:
        with Engine(cfg) as eng:  # its own engine: closed (zygote and sandbox dirs gone) before the snapshot
            results = eng.verify_many(pairs)
        time.sleep(1.0)  # let killed process trees be reaped
        after = host_effects.snapshot()
        hits = sum(ln.hits for ln in listeners)
        leftover = sorted(os.listdir(workdir))
    finally:
        for ln in listeners:
            ln.close()
        _cleanup(cases)
        host_effects.remove_path(workdir)
    problems = []
    for c, r in zip(cases, results, strict=True):
        got = f"{c['name']}: {r.summary()} | {r.log[-300:]!r}"
        if r.status.value == "infra_error":
            problems.append("infra_error (one candidate hurt the machinery) - " + got)
        elif c["class"] == "honest_control":
            if not (r.status.value == "ok" and r.correct and r.rule_ok):
                problems.append("honest candidate not ok (or a fatal rule finding) - " + got)
        elif r.correct and r.rule_ok and "ok" not in c["expected"]:
            # static rules are off in this batch (audit mode): a hostile candidate may still run and match,
            # but then the runtime record must fail its rule gate
            problems.append("hostile candidate passed the gate (its attack worked) - " + got)
    effects = host_effects.new_effects(before, after)
    assert not problems, "\n".join(problems)
    assert hits == 0, f"candidates reached the host's unix listeners {hits} times"
    assert not effects, f"left on the host by the batch: {effects}"
    assert not leftover, f"the engine left its sandbox dirs behind after close(): {leftover}"
