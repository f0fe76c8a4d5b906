"""Code extraction from model completions (the contract: the code is the last fenced python block)."""

from __future__ import annotations

import pytest

from rewards.contract.extract import completion_text, extract_code

CODE = "import torch\n\nclass ModelNew(torch.nn.Module):\n    pass\n"


def test_last_python_block_wins() -> None:
    text = f"First try:\n```python\nx = 1\n```\nBetter:\n```python\n{CODE}```\n"
    assert extract_code(text) == CODE


def test_python_block_preferred_over_later_untagged_block() -> None:
    text = f"```python\n{CODE}```\nRun it with:\n```\npython run.py\n```\n"
    assert extract_code(text) == CODE


@pytest.mark.parametrize("tag", ["python", "py", "python3", "Python", "triton"])
def test_python_tags(tag: str) -> None:
    assert extract_code(f"```{tag}\n{CODE}```") == CODE


def test_untagged_fence_is_accepted() -> None:
    assert extract_code(f"Here:\n```\n{CODE}```\n") == CODE


def test_other_languages_only_is_no_code() -> None:
    assert extract_code("```cpp\nint main() {}\n```\n```text\nhello\n```") is None


def test_unclosed_fence_from_truncated_generation() -> None:
    assert extract_code(f"Reasoning...\n```python\n{CODE}") == CODE


def test_bare_code_is_accepted() -> None:
    assert extract_code(CODE) == CODE


@pytest.mark.parametrize("text", ["", "   \n", None, "The kernel should tile the rows and use a max-subtraction.",
                                  "I cannot help with that.", "```python\n```",
                                  "```python\n   \n"])
def test_prose_or_empty_is_no_code(text: str | None) -> None:
    assert extract_code(text) is None


def test_prose_that_happens_to_parse_is_not_code() -> None:
    assert extract_code("hello") is None  # a bare name parses as Python but is not a candidate


def test_conversational_completion() -> None:
    msgs = [{"role": "assistant", "content": f"```python\n{CODE}```"}]
    assert completion_text(msgs).startswith("```python")
    assert extract_code(msgs) == CODE
    assert extract_code({"role": "assistant", "content": f"```python\n{CODE}```"}) == CODE


def test_non_assistant_messages_are_ignored() -> None:
    msgs = [{"role": "user", "content": f"```python\n{CODE}```"}, {"role": "assistant", "content": "no code"}]
    assert extract_code(msgs) is None


def test_indented_fences_and_trailing_text() -> None:
    text = f"  ```python\n{CODE}  ```\nThat's it, hope it helps!"
    assert extract_code(text) == CODE


def test_fence_inside_code_string_does_not_break_last_block() -> None:
    text = f"```python\n{CODE}```\n\nNotes: inline `code` and ``double`` ticks are fine."
    assert extract_code(text) == CODE


def test_fence_inside_a_docstring_is_code_not_the_answer() -> None:
    answer = (
        "Here is the kernel.\n\n```python\nimport torch\n\n\nclass ModelNew(torch.nn.Module):\n"
        "    def forward(self, x):\n        \"\"\"Usage:\n\n        ```python\n        y = ModelNew()(x)\n"
        "        ```\n        \"\"\"\n        return x\n```\n"
    )
    code = extract_code(answer)
    assert code is not None and "class ModelNew" in code and code.rstrip().endswith("return x")


# A completion nested past the parser's limits made ast.parse raise MemoryError out of extract_code, and the
# engine scored the escaping exception infra_error ("static check failed"): left out of every reward, so a
# wrong answer could abstain by opening with a line of 200000 minus signs.
_DEEP = "x = " + "-" * 200000 + "1\n"


def test_completion_past_the_parsers_limits_is_not_code() -> None:
    assert extract_code("import torch\n" + _DEEP) is None
    assert extract_code(_DEEP + f"```python\n{CODE}```\n") is not None  # (ModelNew + fences: parsed first)


def test_completion_past_the_parsers_limits_is_the_candidates_verdict() -> None:
    from rewards.contract.config import VerifyConfig
    from rewards.contract.types import Status
    from rewards.engine.client import static_check

    for text in ("import torch\n" + _DEEP, _DEEP + "```python\nclass ModelNew:\n    pass\n```\n"):
        _, early, _ = static_check(text, VerifyConfig(device="cpu"))
        assert early is not None and early.status is not Status.INFRA_ERROR
