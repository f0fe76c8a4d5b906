"""Fake generation backends shared by the eval tests (no model, deterministic)."""

from __future__ import annotations

from collections.abc import Callable

import pytest


class ScriptedBackend:
    """Answers each prompt with `respond(messages, sample_index)`; records every prompt it was sent."""

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

