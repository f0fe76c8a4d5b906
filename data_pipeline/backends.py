"""Text-generation backends behind one interface.

Teacher distillation (data pipeline), evaluation and the `generate` CLI all need "n completions for each of
these chat prompts"; where the tokens come from is a deployment choice:

- ``hf``: transformers `generate`, in process. Works everywhere (CPU laptops, CI, one GPU); the default.
- ``vllm``: vLLM's offline engine, for fast GPU sampling. Imported lazily: it is an optional extra.
- ``openai``: any OpenAI-compatible HTTP endpoint (`vllm serve`, a hosted API, a llama.cpp server; not
  `trl vllm-serve`, whose API is TRL's own). stdlib urllib only, so it adds no dependency.

All take chat message lists and return plain strings (the assistant text), n per prompt, in prompt order.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from typing import Any, Protocol, runtime_checkable

from data_pipeline.models import resolve_model

logger = logging.getLogger(__name__)

Messages = list[dict[str, Any]]


@runtime_checkable
class GenerationBackend(Protocol):
    """n completions per chat prompt. temperature 0 means greedy; `seed` makes sampling repeatable."""

    def generate(
        self, prompts: list[Messages], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[str]]: ...


class BackendError(RuntimeError):
    """A backend cannot run (missing extra, unreachable endpoint); the message says what to do."""


def _pick_device(device: str) -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


class HFBackend:
    """transformers generation: batched, left-padded, fp32 on CPU and bf16 on GPU."""

    def __init__(
        self, model: str | None, device: str = "auto", batch_size: int = 8, dtype: str | None = None
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = resolve_model(model)
        self.device = _pick_device(device)
        torch_dtype = (
            getattr(torch, dtype)
            if dtype
            else (torch.bfloat16 if self.device.startswith("cuda") else torch.float32)
        )
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(self.device).eval()
        self.batch_size = max(1, batch_size)

    def generate(
        self, prompts: list[Messages], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[str]]:
        import torch

        out: list[list[str]] = []
        sample = temperature > 0
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start : start + self.batch_size]
            texts = [
                self.tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                for p in chunk
            ]
            enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
                self.device
            )
            torch.manual_seed(seed + start)  # per-chunk seed: same prompts, same seed -> same outputs
            kwargs: dict[str, Any] = {
                "max_new_tokens": max_new_tokens,
                "do_sample": sample,
                "num_return_sequences": n if sample else 1,
                "pad_token_id": self.tokenizer.pad_token_id,
            }
            if sample:
                kwargs["temperature"] = temperature
            else:  # silence "temperature is ignored" warnings from a model's generation_config
                kwargs.update(temperature=None, top_p=None, top_k=None)
            with torch.no_grad():
                ids = self.model.generate(**enc, **kwargs)
            new = ids[:, enc["input_ids"].shape[1] :]
            decoded = self.tokenizer.batch_decode(new, skip_special_tokens=True)
            per = n if sample else 1
            for i in range(len(chunk)):
                got = decoded[i * per : (i + 1) * per]
                out.append(got if sample else got * n)  # greedy: n identical copies, generated once
        return out


class VLLMBackend:
    """vLLM offline engine (GPU). `llm.chat` applies the model's chat template itself."""

    def __init__(self, model: str | None, **engine_kw: Any) -> None:
        try:
            from vllm import LLM
        except ImportError as e:
            raise BackendError(
                "backend 'vllm' needs vLLM: `pip install tritonforge[vllm]` (GPU only); or use --backend hf"
            ) from e
        self.llm = LLM(model=resolve_model(model), **engine_kw)

    def generate(
        self, prompts: list[Messages], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[str]]:
        from vllm import SamplingParams

        params = SamplingParams(n=n, temperature=temperature, max_tokens=max_new_tokens, seed=seed)
        outs = self.llm.chat(prompts, params, use_tqdm=False)
        return [[c.text for c in o.outputs] for o in outs]


class OpenAIBackend:
    """OpenAI-compatible `/chat/completions` endpoint over urllib; API key from $OPENAI_API_KEY."""

    def __init__(
        self,
        model: str | None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 300.0,
        retries: int = 2,
    ) -> None:
        if not model:
            raise BackendError("backend 'openai' needs --model (the name the endpoint serves)")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip(
            "/"
        )
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
        self.timeout_s = timeout_s
        self.retries = retries

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(payload).encode(),
            headers=headers,
            method="POST",
        )
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return json.loads(resp.read().decode())
            except urllib.error.HTTPError as e:
                # 4xx is our request's fault (bad model name, bad key): retrying does not help.
                if e.code < 500 or attempt == self.retries:
                    body = e.read().decode(errors="replace")[:500]
                    raise BackendError(f"{self.base_url}/chat/completions: HTTP {e.code}: {body}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                if attempt == self.retries:
                    raise BackendError(f"{self.base_url}/chat/completions unreachable: {e}") from None
            time.sleep(min(2**attempt, 10))
        raise AssertionError("unreachable")

    def generate(
        self, prompts: list[Messages], n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[str]]:
        out: list[list[str]] = []
        for i, messages in enumerate(prompts):
            got: list[str] = []
            # Some servers cap or ignore `n`; ask again for the rest (new seed so they differ).
            for attempt in range(n):
                if len(got) >= n:
                    break
                payload = {
                    "model": self.model,
                    "messages": messages,
                    "n": n - len(got),
                    "temperature": temperature,
                    "max_tokens": max_new_tokens,
                    "seed": seed + i * 1000 + attempt,
                }
                data = self._post(payload)
                got.extend((c.get("message") or {}).get("content") or "" for c in data.get("choices", []))
            out.append(got[:n])
        return out


BACKENDS: dict[str, type] = {"hf": HFBackend, "vllm": VLLMBackend, "openai": OpenAIBackend}


def make_backend(kind: str = "hf", model: str | None = None, **kw: Any) -> GenerationBackend:
    """Build a backend by name; extra keyword arguments go to its constructor."""
    cls = BACKENDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown generation backend {kind!r}; valid: {', '.join(sorted(BACKENDS))}")
    return cls(model, **kw)
