"""The GPU targets the CPU compile check knows (`VerifyConfig.compile_target`): a setting the contract
validates, and the limits `rewards.harness.target_compile` compiles against."""

from __future__ import annotations

# name -> (compute capability, max dynamic shared memory per block in bytes: cudaDevAttrMaxSharedMemoryPerBlockOptin)
TARGETS: dict[str, tuple[int, int]] = {
    "sm_80": (80, 166912),
    "sm_86": (86, 101376),
    "sm_89": (89, 101376),
    "sm_90": (90, 232448),
    "sm_100": (100, 232448),
    "sm_120": (120, 101376),
}
OFF = "none"


def validate_target(name: str) -> None:
    """Raise ValueError for a target this checker has no limits for ("none" turns the check off)."""
    if name != OFF and name not in TARGETS:
        raise ValueError(f"compile_target must be one of {', '.join([OFF, *TARGETS])}, not {name!r}")
