"""Options of `tritonforge eval` (run, selfcheck, compare), `generate` and `release`, as dataclasses.

The same style as every stage (stagekit/options.py): a YAML file given with `--config PATH` sets fields,
`--field value` options override it, and one option has one spelling everywhere: the verifier's knobs are
`--verify_trials`, `--verify_timeout_s`, `--verify_workers` here as in `data build` and GRPO recipes, and
generation length is `--max_new_tokens`. Values are checked in `__post_init__` (recipe values reach the
fields untyped), each problem one EvalError line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eval.records import EvalError
from rewards.contract.arguments import VerifyArguments, with_default
from rewards.contract.config import VerifyConfig

BACKENDS = ("auto", "hf", "vllm", "openai")
DEVICES = ("auto", "cpu", "cuda")
PROMPT_FORMATS = ("default", "tritonbench")

def _one_of(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise EvalError(f"--{name} must be one of {', '.join(choices)}, got {value!r}")


def _at_least(name: str, value: float | None, low: float) -> None:
    if value is not None and value < low:
        raise EvalError(f"--{name} must be >= {low:g}, got {value}")


@dataclass
class VerifyOptions(VerifyArguments):
    """Where the model answers (`device`) plus the verifier's options; kernels run where the model does
    unless `--verify_device` says otherwise."""

    device: str = field(default="auto", metadata={"help": "Where generation runs, and kernels unless --verify_device is given: auto, cpu or cuda."})

    def __post_init__(self) -> None:
        _one_of("device", self.device, DEVICES)
        super().__post_init__()

    def verify_config(self, **extra: Any) -> VerifyConfig:
        """VerifyArguments' conversion, with kernels on `--device` while `--verify_device` is auto."""
        follow = {"device": self.device} if self.verify_device == "auto" else {}
        return super().verify_config(**{**follow, **extra})


@dataclass
class GenerationOptions(VerifyOptions):
    """Which model answers and how it samples (eval and generate share these; their defaults differ)."""

    model: str | None = field(default=None, metadata={"help": "HF folder / hub id / served name (default: embedded SmolLM2)."})
    backend: str = field(default="auto", metadata={
        "help": "Generation backend: auto (vLLM when installed, CPU or GPU build, else HF generate), hf, vllm, openai."})
    samples: int = field(default=1, metadata={"help": "Samples per task / per turn."})
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature (0 = greedy)."})
    max_new_tokens: int = field(default=1024, metadata={"help": "Generation limit per completion."})
    seed: int = field(default=0, metadata={"help": "Seed of sampling and of the verifier's input draws."})

    def __post_init__(self) -> None:
        super().__post_init__()
        _one_of("backend", self.backend, BACKENDS)
        _at_least("samples", self.samples, 1)
        _at_least("temperature", self.temperature, 0)
        _at_least("max_new_tokens", self.max_new_tokens, 1)


@dataclass
class EvalArguments(GenerationOptions):
    """`tritonforge eval`: benchmark a model on a suite into an eval folder (resumable)."""

    suite: str | None = field(default=None, metadata={
        "help": "heldout:DIR | kernelbench:PATH[:1-3] | tritonbench-t:PATH | tritonbench-g:PATH | folder:PATH"})
    out: str | None = field(default=None, metadata={"help": "Eval folder (rerun the same command to resume)."})
    prompt_format: str | None = field(default=None, metadata={
        "help": "default or tritonbench; TritonBench suites default to their own instruction texts."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N tasks of the suite."})
    label: str | None = field(default=None, metadata={"help": "Name of this model in reports and comparisons."})
    compile_baseline: bool = field(default=False, metadata={
        "help": "GPU: also time torch.compile(Model) and report the geomean speedup over it."})
    hack_rerun: bool = field(default=True, metadata={"help": "Re-verify rule-gated samples without the gate."})
    turns: int = field(default=1, metadata={
        "help": "Refinement turns: a failed sample is answered again after the judge's feedback, up to N answers; "
        "the report gives accuracy after each turn and what each later turn fixed."})

    def __post_init__(self) -> None:
        super().__post_init__()
        _at_least("turns", self.turns, 1)
        if self.prompt_format is not None:
            _one_of("prompt_format", self.prompt_format, PROMPT_FORMATS)
        _at_least("limit", self.limit, 1)
        if not self.suite or not self.out:
            raise EvalError("eval needs --suite SUITE and --out DIR (or: eval compare DIR1 DIR2 ...)")


@dataclass
class SelfcheckArguments(VerifyOptions):
    """`tritonforge eval selfcheck`: a benchmark's known-good answers through importer + verifier."""

    suite: str | None = field(default=None, metadata={"help": "The benchmark, e.g. tritonbench-g:PATH."})
    out: str | None = field(default=None, metadata={"help": "Folder for selfcheck.{jsonl,md,json}."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N tasks of the suite."})
    strict_rules: bool = field(default=True, metadata={
        "help": "Fatal static findings stop a shipped solution (false: run it anyway, findings still listed)."})
    # a shipped answer is checked once, and a real-size reference needs longer than a sampled candidate
    verify_trials: int = with_default("verify_trials", 1)
    verify_timeout_s: float = with_default("verify_timeout_s", 120.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        _at_least("limit", self.limit, 1)
        if not self.suite or not self.out:
            raise EvalError("eval selfcheck needs --suite SUITE and --out DIR")


@dataclass
class CompareArguments:
    """`tritonforge eval compare DIR1 DIR2 ...`: one table (and plot) over several eval folders."""

    dirs: list[str] = field(default_factory=list, metadata={"help": "Eval folders (also accepted positionally)."})
    out: str | None = field(default=None, metadata={"help": "Markdown file to write (a PNG is written beside it)."})

    def __post_init__(self) -> None:
        if not self.dirs:
            raise EvalError("eval compare needs one or more eval folders: tritonforge eval compare DIR1 DIR2 ...")


@dataclass
class GenerateArguments(GenerationOptions):
    """`tritonforge generate REFERENCE.py`: generate -> verify -> feedback until a kernel verifies."""

    reference: str | None = field(default=None, metadata={
        "help": "Python file with class Model, get_inputs() and get_init_inputs() (also accepted positionally)."})
    attempts: int = field(default=3, metadata={"help": "Turns of generate -> verify -> feedback."})
    out: str | None = field(default=None, metadata={"help": "Where to write the kernel (default: REFERENCE_triton.py)."})
    report: str | None = field(default=None, metadata={"help": "Also write a JSON report of every attempt here."})
    instruction: str | None = field(default=None, metadata={"help": "Instruction sentence for the prompt."})
    samples: int = field(default=4, metadata={"help": "Samples per turn."})
    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature (0 = greedy)."})
    max_new_tokens: int = field(default=2048, metadata={"help": "Generation limit per completion."})

    def __post_init__(self) -> None:
        super().__post_init__()
        _at_least("attempts", self.attempts, 1)
        if not self.reference:
            raise EvalError("generate needs a reference file: tritonforge generate REFERENCE.py")


@dataclass
class ReleaseArguments:
    """`tritonforge release`: a Hugging Face model folder with a model card (optionally pushed)."""

    model: str | None = field(default=None, metadata={"help": "Checkpoint folder (full model or PEFT adapter)."})
    out: str | None = field(default=None, metadata={"help": "Release folder to write (replaced atomically)."})
    report: list[str] = field(default_factory=list, metadata={
        "help": "Eval folder(s) whose table goes in the card (`--report A B` or `--report A --report B`).",
        "action": "extend"})
    push: str | None = field(default=None, metadata={"help": "Hub repo id to upload to (only when given)."})
    name: str | None = field(default=None, metadata={"help": "Model name in the card (default: the folder name)."})

    def __post_init__(self) -> None:
        if not self.model or not self.out:
            raise EvalError("release needs --model CHECKPOINT and --out DIR")
