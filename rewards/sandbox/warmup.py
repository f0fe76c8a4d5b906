"""What the zygote imports and warms once, before it forks anything: every candidate and reference process
inherits the imported modules and the process-wide guards instead of paying for them itself."""

from __future__ import annotations

import os
import tempfile

from rewards.contract.config import VerifyConfig


def warm_process(cfg: VerifyConfig) -> str:
    """Import and warm torch, Triton and the harness for `cfg.device`; return the Inductor cache dir this
    process made (the caller removes it when the zygote exits)."""
    if cfg.device == "cpu":
        os.environ["TRITON_INTERPRET"] = "1"
    # torch's lazily imported compiler stack makes a cache dir on import: keep it ours, and remove it.
    inductor_dir = tempfile.mkdtemp(prefix="tritonforge-inductor-")
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", inductor_dir)
    import torch  # (warm: children inherit the imported modules)
    import triton  # noqa: F401
    import triton.language  # noqa: F401

    if cfg.device == "cpu":  # autotune / libdevice / string constexpr under the interpreter, for
        from rewards.harness import interp_shims  # the reference process and every candidate alike

        interp_shims.install()
        from rewards.harness import target_compile
        target_compile.warm(cfg.compile_target)
    import rewards.harness.channel  # noqa: F401
    import rewards.harness.child  # noqa: F401
    import rewards.oracle.compare  # noqa: F401
    import rewards.oracle.reference_run  # noqa: F401
    import rewards.sandbox.supervisor  # noqa: F401
    from rewards.harness.guard import OpRecorder

    # Warm what the recorder's modes import lazily (torch._dynamo alone takes ~1.7 s), once, here.
    with OpRecorder().modes():
        torch.empty(4).reshape(2, 2).contiguous().clone()
    # ... and what every candidate process would otherwise import for itself, each time: Triton's code
    # generator (with its ~50 gluon modules: `rewards.harness.audit.admit_guarded_modules`, the compile check) and
    # torch's serialisation helpers (the report channel's payloads).
    import triton.compiler.code_generator  # noqa: F401

    rewards.harness.child.process_recorder()  # the process-wide guards, installed once here for every candidate

    rewards.harness.channel.decode_payload(rewards.harness.channel.encode_payload({"outputs": [torch.zeros(2)]}))
    return inductor_dir
