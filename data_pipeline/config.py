"""Settings of one corpus build: a dataclass validated once, set by a YAML recipe plus `--field value` options.

    cfg = load_config("tiny", ["--synth_train", "100", "--verify_trials", "1"])

The same style as every stage (stagekit/options.py): `--config` takes a packaged recipe name
(stagekit/recipes/data/NAME.yaml) or a path, and each field is an option of the same name. Every
field documents itself through `metadata["help"]` (the recipe files and `--help` read it); an unknown
key, a wrong type or an out-of-range value is one UserError line naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_pipeline.errors import DataError
from data_pipeline.synth.graphs import OP_KINDS
from rewards.contract.arguments import VerifyArguments
from rewards.executors.options import ExecutorArguments
from stagekit.options import parse_config

ROLES = ("eval", "train")


@dataclass
class DataConfig(VerifyArguments):
    """What goes into a corpus and how it is checked."""

    name: str = field(default="tritonforge-triton-corpus", metadata={"help": "Dataset name (card title)."})
    seed: int = field(default=0, metadata={"help": "Seed of every random choice (synthesis, held-out split)."})
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing output folder."})
    keep_work: bool = field(default=False, metadata={"help": "Keep OUT.work/ (journal) after a successful build."})

    # -- synthesizer ----------------------------------------------------------------------------
    synth: bool = field(default=True, metadata={"help": "Generate operator-graph tasks with known-good Triton."})
    synth_train: int = field(default=600, metadata={"help": "Synthesized train samples to draw (before verify/dedup)."})
    synth_heldout: int = field(default=60, metadata={"help": "Synthesized held-out samples (unseen op combinations)."})
    synth_kinds: list[str] = field(default_factory=lambda: list(OP_KINDS),
                                   metadata={"help": f"Op kinds to synthesize: {', '.join(OP_KINDS)}."})
    synth_half: bool = field(default=True, metadata={"help": "Also draw some fp16/bf16 samples where numerics allow."})
    heldout_fraction: float = field(default=0.1, metadata={"help": "Share of multi-op combinations held out."})
    synth_indist: int = field(default=0, metadata={
        "help": "In-distribution held-out samples: unseen instances of op combinations that train has (split "
                "`indist`, eval suite heldout:OUT/indist). 0: none."})
    indist_fraction: float = field(default=0.1, metadata={"help": "Share of train-eligible draws routed to indist."})
    synth_reasoning: bool = field(default=True, metadata={"help": "Put the one-paragraph plan before the code."})
    synth_compact: bool = field(default=False, metadata={
        "help": "Strip comments and docstrings from solutions (shorter answers for small models)."})
    max_per_signature: int = field(default=12, metadata={"help": "Cap on samples of one op combination."})
    max_per_variant: int = field(default=2, metadata={"help": "Cap on samples differing only in shapes."})

    # -- importers -------------------------------------------------------------------------------
    kernelbench_path: str | None = field(default=None, metadata={"help": "KernelBench checkout (levelN/*.py)."})
    kernelbench_role: str = field(default="eval", metadata={"help": "eval: decontaminate against it; train: RL tasks."})
    kernelbench_levels: list[int] = field(default_factory=lambda: [1, 2, 3], metadata={"help": "Levels to read."})
    tritonbench_t_path: str | None = field(default=None, metadata={"help": "TritonBench checkout or its data/ folder (T)."})
    tritonbench_t_role: str = field(default="eval", metadata={"help": "eval or train (see kernelbench_role)."})
    tritonbench_g_path: str | None = field(default=None, metadata={"help": "TritonBench checkout or data/ folder (G)."})
    user_tasks_path: str | None = field(default=None, metadata={"help": "Folder of user task .py files (train tasks)."})

    # -- inductor / distillation ---------------------------------------------------------------
    inductor: str = field(default="auto", metadata={"help": "auto (only with CUDA), on, off: torch.compile extraction."})
    inductor_max_tasks: int = field(default=2000, metadata={"help": "Tasks to run through Inductor."})
    inductor_keep_extern: bool = field(default=False, metadata={"help": "Keep (tagged) samples that call extern_kernels."})
    distill: bool = field(default=False, metadata={"help": "Ask a teacher model for reasoning + code."})
    distill_backend: str = field(default="auto", metadata={
        "help": "Generation backend: auto (vLLM when installed, else hf), hf, vllm or openai."})
    distill_model: str | None = field(default=None, metadata={"help": "Teacher model (None: the backend's default)."})
    distill_n: int = field(default=4, metadata={"help": "Completions per task."})
    distill_temperature: float = field(default=0.7, metadata={"help": "Sampling temperature of the teacher."})
    distill_max_new_tokens: int = field(default=2048, metadata={"help": "Generation limit per completion."})
    distill_max_tasks: int | None = field(default=None, metadata={"help": "Cap on tasks sent to the teacher."})
    distill_batch: int = field(default=16, metadata={"help": "Tasks per generation batch (one journal flush each)."})
    refinement: int = field(default=0, metadata={
        "help": "Write up to N refinement conversations (split `refine`: a wrong attempt, the judge's feedback on "
        "it, the fix) for SFT on the multi-turn format; 0: none."})

    # -- verification (the verify_* options: VerifyArguments) ----------------------------------------
    batch_size: int = field(default=32, metadata={"help": "Samples verified between two journal flushes."})

    # -- dedup / decontamination -----------------------------------------------------------------
    dedup: bool = field(default=True, metadata={"help": "Drop exact (normalised) and near-duplicate samples."})
    minhash_threshold: float = field(default=0.95, metadata={"help": "Jaccard similarity above which two are near-dups."})
    minhash_num_perm: int = field(default=128, metadata={"help": "MinHash permutations."})
    shingle_size: int = field(default=5, metadata={"help": "Tokens per MinHash shingle."})
    normalize_identifiers: bool = field(default=False, metadata={"help": "Rename identifiers before hashing."})
    decontam: bool = field(default=True, metadata={"help": "Drop train rows overlapping held-out/eval items."})
    decontam_ngram: int = field(default=13, metadata={"help": "n of the n-gram overlap test (normalised tokens)."})
    decontam_threshold: float = field(default=0.5,
                                      metadata={"help": "Drop when this share of a row's n-grams occur in one eval item."})
    decontam_max_df: float = field(default=0.005, metadata={
        "help": "Ignore n-grams found in more than this share of documents (shared boilerplate, not leaks)."})

    def __post_init__(self) -> None:
        def bad(key: str, why: str) -> DataError:
            return DataError(f"config: {key}: {why}")

        # Recipe values and options arrive typed (stagekit.options); "a,b" is one list of kinds too, in a
        # recipe or an option (`--synth_kinds matmul,norm` as well as `--synth_kinds matmul norm`).
        self.synth_kinds = [p.strip() for v in self.synth_kinds for p in str(v).split(",") if p.strip()]

        for key in ("synth_train", "synth_heldout", "synth_indist", "inductor_max_tasks", "distill_batch", "refinement"):
            if getattr(self, key) < 0:
                raise bad(key, "must be >= 0")
        super().__post_init__()
        for key in ("batch_size", "distill_n", "minhash_num_perm", "shingle_size", "decontam_ngram",
                    "max_per_signature", "max_per_variant", "distill_max_new_tokens"):
            if getattr(self, key) < 1:
                raise bad(key, "must be >= 1")
        for key in ("heldout_fraction", "indist_fraction", "minhash_threshold", "decontam_threshold", "decontam_max_df"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise bad(key, "must be within [0, 1]")
        for key in ("kernelbench_role", "tritonbench_t_role"):
            if getattr(self, key) not in ROLES:
                raise bad(key, f"must be one of {', '.join(ROLES)}")
        if self.inductor not in ("auto", "on", "off"):
            raise bad("inductor", "must be auto, on or off")
        if self.distill_backend not in ("auto", "hf", "vllm", "openai"):
            raise bad("distill_backend", "must be auto, hf, vllm or openai")
        unknown = sorted(set(self.synth_kinds) - set(OP_KINDS))
        if unknown:
            raise bad("synth_kinds", f"unknown {unknown}; valid: {', '.join(OP_KINDS)}")
        if any(lv not in (1, 2, 3, 4) for lv in self.kernelbench_levels):
            raise bad("kernelbench_levels", "levels are 1..4")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class BuildArguments:
    """Where `tritonforge data build` writes: not part of the recipe's corpus settings (not in the card)."""

    out: str = field(metadata={"help": "Output folder (datasets-loadable); rerun the same command to resume."})


DATACLASSES = (DataConfig, BuildArguments, ExecutorArguments)


def parse_build_args(argv: Sequence[str]) -> tuple[DataConfig, BuildArguments, ExecutorArguments]:
    """`tritonforge data build` options: `--config NAME|PATH`, `--out DIR`, any DataConfig field, and where
    verification runs (`--executor`, `--ray_address`: also recipe keys, not part of the corpus card)."""
    cfg, build_args, executor = parse_config(DATACLASSES, argv, prog="tritonforge data build", stage="data")
    return cfg, build_args, executor


def load_config(config: str | Path | None = None, overrides: Sequence[str] = ()) -> DataConfig:
    """A DataConfig from a recipe (name or path; None: the defaults) and `--field value` overrides."""
    argv = ([] if config is None else ["--config", str(config)]) + list(overrides)
    (cfg,) = parse_config((DataConfig,), argv, prog="tritonforge data build", stage="data")
    return cfg
