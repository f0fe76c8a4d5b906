"""Fake generation backends shared by the eval tests (no model, deterministic)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


class ScriptedBackend:
    """Answers each prompt with `respond(messages, sample_index)`; records every prompt it was sent."""

    @staticmethod
    def fenced(code: str) -> str:
        """`code` as a model's answer: a line of prose, then a fenced Python block."""
        return f"Reasoning.\n\n```python\n{code}```\n"

    def __init__(self, respond: Callable[[list[dict], int], str]) -> None:
        self.respond = respond
        self.calls: list[list[list[dict]]] = []

    def generate(self, prompts: list[list[dict]], n: int, temperature: float, max_new_tokens: int,
                 seed: int) -> list[list[str]]:
        self.calls.append([list(p) for p in prompts])
        return [[self.respond(p, i) for i in range(n)] for p in prompts]


@pytest.fixture
def scripted_backend() -> type[ScriptedBackend]:
    return ScriptedBackend



@pytest.fixture
def suite_dir(tmp_path: Path, triton_examples: dict[str, str]) -> Path:
    """A two-task suite folder (relu, vecadd) in KernelBench's file format."""
    d = tmp_path / "tasks"
    d.mkdir()
    (d / "relu.py").write_text(triton_examples["relu_ref"])
    (d / "vecadd.py").write_text(triton_examples["vecadd_ref"])
    return d
