"""Code normalisation shared by dedup and decontamination.

Tokens come from `tokenize`, so comments, docstrings, blank lines and indentation widths never make two
copies of the same code look different (a regex over raw text would be fooled by any of them).
"""

from __future__ import annotations

import hashlib
import io
import keyword
import tokenize

_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
         tokenize.ENCODING}
_BUILTIN_NAMES = {"self", "torch", "nn", "triton", "tl", "F", "math", "range", "float", "int", "len", "super"}


def code_tokens(source: str, normalize_identifiers: bool = False) -> list[str]:
    """Significant tokens of `source`; docstrings dropped; identifiers optionally renamed v0, v1, ...

    Falls back to whitespace splitting for text that does not tokenize (e.g. a truncated completion).
    """
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source.split()
    out: list[str] = []
    names: dict[str, str] = {}
    prev = tokenize.NEWLINE
    for tok in toks:
        if tok.type in _SKIP:
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                prev = tokenize.NEWLINE
            continue
        # A string that is a whole statement is a docstring (or a no-op): not code.
        if tok.type == tokenize.STRING and prev == tokenize.NEWLINE:
            continue
        prev = tok.type
        text = tok.string
        if normalize_identifiers and tok.type == tokenize.NAME and not keyword.iskeyword(text) \
                and text not in _BUILTIN_NAMES:
            text = names.setdefault(text, f"v{len(names)}")
        out.append(text)
    return out


def normalized_hash(*sources: str, normalize_identifiers: bool = False) -> str:
    """Hash of the normalised token streams of one or more sources (order matters)."""
    h = hashlib.sha256()
    for s in sources:
        h.update(" ".join(code_tokens(s, normalize_identifiers)).encode())
        h.update(b"\0")
    return h.hexdigest()


def ngrams(tokens: list[str], n: int) -> set[str]:
    if len(tokens) < n:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}
