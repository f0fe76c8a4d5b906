"""Settings of one verification engine (validated once, here)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace

from rewards.contract.targets import validate_target
from stagekit.devices import cuda_available, workers_per_rank
from stagekit.errors import UserError


class DeviceUnavailable(UserError):
    """`device="cuda"` was asked for on a machine without a visible CUDA device."""


@dataclass
class VerifyConfig:
    """How candidates are run and judged. Every field documents itself through `help`."""

    device: str = field(default="auto", metadata={"help": "auto (cuda when present), cpu (Triton interpreter) or cuda."})
    trials: int = field(default=3, metadata={"help": "Independent random input sets (fresh seed each) a candidate must pass."})
    timeout_s: float = field(default=60.0, metadata={"help": "Wall-clock limit per candidate, counted from the candidate's own start (after its task's reference is ready); whole process group killed past it."})
    reference_timeout_s: float | None = field(default=None, metadata={"help": "Wall-clock limit of a task's reference process until it is ready (inputs drawn, reference and its float64 shadow run): its own, never taken from a candidate's. None: twice timeout_s."})
    workers: int = field(default_factory=workers_per_rank, metadata={"help": "Candidates run in parallel (default: one per core of this rank)."})
    seed: int | None = field(default=None, metadata={"help": "Base seed of the input draws; None draws a fresh one per call."})
    atol: float | None = field(default=None, metadata={"help": "Absolute tolerance; None picks by dtype (fp32 1e-4, bf16/fp16 1e-2)."})
    rtol: float | None = field(default=None, metadata={"help": "Relative tolerance; None picks by dtype."})
    memory_mb: int = field(default=8192, metadata={"help": "Address-space growth allowed to one candidate process (MiB)."})
    cpu_time_s: int | None = field(default=None, metadata={"help": "CPU-seconds limit per child; None derives it from timeout_s."})
    task_memory_mb: int | None = field(default=None, metadata={"help": "Ceiling of the task-sized caps (MiB): the reference process's memory, and a candidate's when its task's inputs and outputs need more than memory_mb. None: a quarter of physical memory, at least memory_mb."})
    max_file_mb: int = field(default=256, metadata={"help": "Largest file a candidate may write (MiB)."})
    scratch_mb: int = field(default=128, metadata={"help": "What a candidate may write in all (MiB): its private temporary directories (one tmpfs of this size, 32 inodes per MiB) plus its logs. Triton's cache needs ~0.6 MB and ~9 inodes per compiled kernel; a run that writes more is a sandbox_violation."})
    max_procs: int = field(default=512, metadata={"help": "Process/thread limit of the sandbox user, shared by all running candidates (fork storms stop here; CUDA and Triton need a few threads each)."})
    time_gpu: bool = field(default=True, metadata={"help": "On CUDA, time reference and candidate and report speedup."})
    timing_warmup: int = field(default=3, metadata={"help": "GPU warm-up runs before timing."})
    timing_reps: int = field(default=20, metadata={"help": "GPU timed runs (median reported)."})
    compile_baseline: bool = field(default=False, metadata={"help": "On CUDA, also time torch.compile(Model) and report the speedup over it (extra)."})
    implausible_speedup: float = field(default=50.0, metadata={"help": "Speedups above this are flagged for audit."})
    strict_rules: bool = field(default=True, metadata={"help": "Fatal static findings stop the candidate before it runs."})
    isolate_network: bool = field(default=True, metadata={"help": "Put each candidate in its own network namespace where permitted."})
    drop_privileges: bool = field(default=True, metadata={"help": "When started as root, run candidates as user nobody."})
    seccomp: bool = field(default=True, metadata={"help": "Install the seccomp filter in candidate processes (x86_64)."})
    compile_target: str = field(default="sm_90", metadata={"help": "On CPU, also compile every kernel specialization a candidate launches for this NVIDIA target (sm_80, sm_86, sm_89, sm_90, sm_100, sm_120) in its sandbox: a kernel the GPU compiler rejects, or one needing more shared memory than the target has, is compile_error. none: off. Unused on CUDA (the real compiler runs there)."})
    enforce_runtime: bool = field(default=True, metadata={"help": "Record the ATen ops each forward executes (the authority on torch fallbacks). Off only to measure the recorder's cost (`bench verify`)."})

    def __post_init__(self) -> None:
        if self.device not in {"auto", "cpu", "cuda"}:
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.trials < 1:
            raise ValueError("trials must be >= 1")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        if self.reference_timeout_s is not None and self.reference_timeout_s <= 0:
            raise ValueError("reference_timeout_s must be > 0")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.memory_mb < 256:
            raise ValueError("memory_mb must be >= 256")
        if self.scratch_mb < 1:
            raise ValueError("scratch_mb must be >= 1")
        if self.task_memory_mb is not None and self.task_memory_mb < self.memory_mb:
            raise ValueError("task_memory_mb must be >= memory_mb")
        validate_target(self.compile_target)

    def resolved_reference_timeout_s(self) -> float:
        """The reference process's limit: given, else twice the candidate's. A floor (a KernelBench-sized
        reference on CPU with its float64 shadow takes minutes) would let every hung reference of a benchmark
        self-check hold a worker that long: give a real-size run its limit instead."""
        if self.reference_timeout_s is not None:
            return self.reference_timeout_s
        return 2 * self.timeout_s

    def resolved_cpu_time_s(self) -> int:
        """CPU seconds one sandboxed child may use: given, else the wall-clock limit plus 5 s."""
        return int(self.cpu_time_s or (self.timeout_s + 5))

    def for_sandbox(self, device: str) -> VerifyConfig:
        """The config the sandbox runs with: device resolved ('cpu'/'cuda'), and every derived limit filled in
        (CPU seconds, the reference's timeout), so the zygote restates no default."""
        return replace(self, device=device, cpu_time_s=self.resolved_cpu_time_s(),
                       reference_timeout_s=self.resolved_reference_timeout_s())

    def to_wire(self) -> str:
        """JSON for the zygote's command line (`from_wire` rebuilds and re-validates it there)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_wire(cls, text: str) -> VerifyConfig:
        """The typed config from `to_wire`'s JSON; an unknown or missing field is an error, not a default."""
        data = json.loads(text)
        names = {f.name for f in fields(cls)}
        if set(data) != names:
            raise ValueError(f"wire config fields differ: unknown {sorted(set(data) - names)}, "
                             f"missing {sorted(names - set(data))}")
        return cls(**data)

    def resolved_device(self) -> str:
        """'cuda' or 'cpu'. Probes CUDA without initialising it in this process."""
        if self.device == "cuda" and not cuda_available():
            raise DeviceUnavailable("device cuda was asked for, but no CUDA device is visible (use cpu or auto)")
        if self.device != "auto":
            return self.device
        return "cuda" if cuda_available() else "cpu"

