"""Pull the candidate's code out of a model completion.

Contract (README, "The verification engine"): the code is the last fenced python block. We also accept an untagged fence, a
block whose closing fence was cut off by the generation limit, and bare code (a completion that is
itself valid Python) so that users can hand `verify` a plain .py file.
"""

from __future__ import annotations

import ast
import re
from typing import Any

# A fence is indented by at most 3 spaces (Markdown's rule): a ``` line indented further is code, e.g. an
# example inside a docstring of the answer, and must neither open nor close a block.
_FENCE = re.compile(r"^ {0,3}```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^ {0,3}```[ \t]*$", re.S | re.M)
_OPEN_FENCE = re.compile(r"^ {0,3}```[ \t]*(python|py|python3)?[ \t]*\n", re.M)
_FENCE_LINE = re.compile(r"^ {0,3}```", re.M)
_PY_TAGS = {"python", "py", "python3", "triton"}
# What ast.parse raises on text that is not Python: a completion nested past the parser's limits
# (RecursionError, MemoryError) or holding NUL bytes (ValueError) is the candidate's doing, never an
# exception out of the engine's static check (which would score it infra_error, left out of every reward).
_UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)


def completion_text(completion: Any) -> str:
    """TRL passes either a string or a conversational list of messages; return the assistant text."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    if isinstance(completion, (list, tuple)):
        parts = [m.get("content", "") for m in completion if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
        return "\n".join(str(p) for p in parts)
    return str(completion)


def extract_code(completion: Any) -> str | None:
    """Return the candidate's source code, or None when the completion holds no code."""
    text = completion_text(completion)
    if not text.strip():
        return None
    if "```" in text and "ModelNew" in text:  # a bare source file whose docstrings hold fences
        try:
            ast.parse(text)
            return text
        except _UNPARSABLE:
            pass
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(text) if body.strip()]
    py_blocks = [b for t, b in blocks if t in _PY_TAGS]
    if py_blocks:
        return py_blocks[-1].strip("\n") + "\n"
    untagged = [b for t, b in blocks if t == ""]
    if untagged:
        return untagged[-1].strip("\n") + "\n"
    # A fence opened but never closed (generation cut off): take everything after the last opener.
    openers = list(_OPEN_FENCE.finditer(text))
    if openers and len(_FENCE_LINE.findall(text)) % 2 == 1:
        body = text[openers[-1].end():]
        return body.strip("\n") + "\n" if body.strip() else None
    if blocks:  # fenced, but only in other languages (cpp, text...)
        return None
    try:
        ast.parse(text)
    except _UNPARSABLE:
        return None
    return text if ("import" in text or "def " in text or "class " in text) else None
