"""The Task contract: a KernelBench-style PyTorch reference and its dataset row.

A reference is one Python source with `class Model(nn.Module)`, `get_inputs()` (random tensors) and
`get_init_inputs()`. Validation is static (AST), so a malformed or hostile task file is rejected with one
clear line before anything executes.
"""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stagekit.errors import UserError


class TaskError(UserError):
    """A task file that is not a usable KernelBench-style reference (message is one line)."""


def check_reference(source: str, where: str = "task") -> None:
    """Raise TaskError unless `source` defines class Model and get_inputs() (get_init_inputs optional)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise TaskError(f"{where}: reference does not parse: {e.msg} (line {e.lineno})") from None
    top = {n.name: n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    if not isinstance(top.get("Model"), ast.ClassDef):
        raise TaskError(f"{where}: no top-level `class Model(nn.Module)` (KernelBench convention)")
    if not isinstance(top.get("get_inputs"), ast.FunctionDef):
        raise TaskError(f"{where}: no top-level `def get_inputs()` returning the forward inputs")


@dataclass(frozen=True)
class Task:
    """One dataset row of the Task contract (README, "The verification engine")."""

    task_id: str
    source: str  # where it came from: synth, kernelbench, tritonbench_t, tritonbench_g, user, ...
    reference: str  # the KernelBench-style Python source
    instruction: str = "Replace the PyTorch operators in Model with custom Triton kernels."
    split: str = "train"
    difficulty: str = "unknown"
    license: str = "unknown"
    provenance: str = ""

    def __post_init__(self) -> None:
        check_reference(self.reference, where=self.task_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    @classmethod
    def from_file(cls, path: str | Path, source: str = "user", **kw: Any) -> Task:
        p = Path(path)
        if not p.is_file():
            raise TaskError(f"{p}: no such task file")
        try:
            text = p.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise TaskError(f"{p}: cannot read task file: {e}") from None
        check_reference(text, where=str(p))
        kw.setdefault("provenance", str(p))
        return cls(task_id=kw.pop("task_id", p.stem), source=source, reference=text, **kw)
