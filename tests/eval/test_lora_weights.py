"""Every stage that loads a model reads a LoRA SFT output folder as its merged weights.

The folder is a real one (tests/conftest.py `tiny_lora_run`: a PEFT adapter saved the way the trainer saves
it, plus `merged/` written by sft's own merge), so the eval backends, `generate` and `release` are checked
against the parameters SFT merged, not against a layout this test invents.
"""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pytest

from data_pipeline.models import AdapterOnlyError, resolve_weights
from stagekit.errors import UserError

Q = "model.layers.0.self_attn.q_proj.weight"  # a LoRA target: merged differs from base here


def _q(model) -> object:  # noqa: ANN001 - any causal LM
    return model.state_dict()[Q]


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRITONFORGE_THREADS", "1")  # no thread-count measurement in every backend


@pytest.fixture(scope="module")
def merged_q(tiny_lora_run: Path, tiny_model_dir: Path):  # noqa: ANN201 - a tensor
    import torch
    from transformers import AutoModelForCausalLM

    merged = _q(AutoModelForCausalLM.from_pretrained(str(tiny_lora_run / "merged")))
    base = _q(AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)))
    assert not torch.allclose(merged, base)  # the adapter is non-trivial, so the checks below can tell
    return merged


@pytest.fixture
def adapter_only(tiny_lora_run: Path, tmp_path: Path) -> Path:
    """The same run with no merged weights (SFT with merge_lora off, or a merge that failed)."""
    out = tmp_path / "adapter_only"
    shutil.copytree(tiny_lora_run, out, ignore=shutil.ignore_patterns("merged"))
    return out


def test_resolver_kinds(tiny_lora_run: Path, tiny_model_dir: Path, adapter_only: Path, tmp_path: Path) -> None:
    w = resolve_weights(tiny_lora_run)
    assert (w.kind, w.path) == ("merged", str(tiny_lora_run / "merged"))
    assert w.adapter is not None and w.adapter["r"] == 4 and w.base_model == str(tiny_model_dir)
    assert w.checkpoint_path("vLLM") == str(tiny_lora_run / "merged")
    assert resolve_weights(tiny_model_dir).kind == "checkpoint"
    assert resolve_weights(tiny_model_dir).path == str(tiny_model_dir)
    assert resolve_weights("org/some-model").kind == "hub"

    a = resolve_weights(adapter_only)
    assert (a.kind, a.path, a.tokenizer_path) == ("adapter", str(adapter_only), str(adapter_only))
    with pytest.raises(AdapterOnlyError, match="LoRA/PEFT adapter without merged weights") as e:
        a.checkpoint_path("vLLM")
    assert isinstance(e.value, UserError) and "\n" not in str(e.value)

    killed = tmp_path / "killed_mid_merge"  # merged/ without its weights: never trusted over the adapter
    shutil.copytree(tiny_lora_run, killed)
    (killed / "merged" / "model.safetensors").unlink()
    assert resolve_weights(killed).kind == "adapter"


def test_eval_backend_loads_merged(tiny_lora_run: Path, merged_q) -> None:  # noqa: ANN001
    import torch

    from eval.run import EvalSettings, make_backend_for

    backend = make_backend_for(EvalSettings(model=str(tiny_lora_run), suite="-", backend="hf"), "cpu")
    assert backend.weights.kind == "merged"
    assert torch.equal(_q(backend.model), merged_q)


def test_hf_backend_merges_an_adapter_in_memory(adapter_only: Path, merged_q) -> None:  # noqa: ANN001
    import torch

    from data_pipeline.backends import HFBackend

    backend = HFBackend(str(adapter_only), device="cpu")
    assert backend.weights.kind == "adapter"
    assert torch.allclose(_q(backend.model), merged_q, atol=1e-6)
    assert backend.tokenizer.chat_template


def test_generate_uses_merged(tiny_lora_run: Path, merged_q, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              triton_examples: dict[str, str]) -> None:  # noqa: ANN001
    import torch

    from eval import generate as generate_module
    from eval.cli import main

    seen = []

    def fake_run_generate(reference, backend, **kw):  # noqa: ANN001, ANN202 - run_generate's signature
        seen.append(backend)
        return 0, None

    monkeypatch.setattr(generate_module, "run_generate", fake_run_generate)
    ref = tmp_path / "relu.py"
    ref.write_text(triton_examples["relu_ref"])
    assert main(["generate", str(ref), "--model", str(tiny_lora_run), "--backend", "hf", "--device", "cpu"]) == 0
    (backend,) = seen
    assert torch.equal(_q(backend.model), merged_q)


def test_vllm_backend_is_given_merged(tiny_lora_run: Path, adapter_only: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """vLLM loads from a path: it gets merged/; an adapter alone is one clear error (auto falls back to HF)."""
    from data_pipeline import backends

    engines: list[dict] = []

    class FakeLLM:
        def __init__(self, **kw: object) -> None:
            engines.append(kw)

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=FakeLLM))
    monkeypatch.setattr(backends, "vllm_available", lambda: True)
    backends.VLLMBackend(str(tiny_lora_run), device="cpu")
    assert engines[-1]["model"] == str(tiny_lora_run / "merged")
    with pytest.raises(AdapterOnlyError):
        backends.VLLMBackend(str(adapter_only), device="cpu")
    assert isinstance(backends.make_backend("auto", str(adapter_only), device="cpu"), backends.HFBackend)


def test_release_of_lora_run_is_merged(tiny_lora_run: Path, merged_q, tmp_path: Path) -> None:  # noqa: ANN001
    import torch
    from transformers import AutoModelForCausalLM

    from eval.release import release

    out = release(tiny_lora_run, [], tmp_path / "rel")
    assert torch.equal(_q(AutoModelForCausalLM.from_pretrained(str(out))), merged_q)
    assert not (out / "adapter_config.json").exists()
    assert "LoRA adapter (r=4, alpha=8) merged" in (out / "README.md").read_text()
