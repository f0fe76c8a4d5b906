"""The import graph of the production tree, read from the source (every import statement, lazy ones too)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Lowest first: a package may import itself and packages before it, never one after it.
PACKAGES = ("stagekit", "rewards", "data_pipeline", "sft", "grpo", "eval", "tritonforge")
# The judge's sub-packages, lowest first; one rank may hold several siblings, which must not import each other.
# Modules directly in rewards/ (the public facade and the `verify` command) are the judge's top.
JUDGE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("contract",),
    ("rules", "harness"),
    ("oracle",),
    ("sandbox",),
    ("engine",),
    ("scoring", "executors"),
)


def production_files() -> Iterator[Path]:
    for pkg in PACKAGES:
        yield from sorted((REPO / pkg).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """(absolute module imported, line) for every import statement in the file, lazy ones included."""
    tree = ast.parse(path.read_text(), str(path))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:  # `from rewards.sandbox import dirs` imports the module rewards.sandbox.dirs
                yield (f"{mod}.{alias.name}" if (REPO / mod.replace(".", "/") / alias.name).with_suffix(".py").exists()
                       or (REPO / mod.replace(".", "/") / alias.name).is_dir() else mod), node.lineno


def judge_rank(module: str) -> tuple[int, str]:
    """(rank, sub-package) of a module of rewards/; the facade and commands rank above every sub-package."""
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and (REPO / "rewards" / parts[1]).is_dir()):
        for rank, names in enumerate(JUDGE_LAYERS):
            if parts[1] in names:
                return rank, parts[1]
        raise AssertionError(f"rewards.{parts[1]} is in no layer of JUDGE_LAYERS")
    return len(JUDGE_LAYERS), ""


def violations() -> list[str]:
    """Every import that points upward (between packages, or between the judge's sub-packages)."""
    found = []
    for path in production_files():
        me = module_name(path)
        my_pkg = me.split(".")[0]
        for mod, line in imports(path):
            pkg = mod.split(".")[0]
            if pkg not in PACKAGES:
                continue
            where = f"{path.relative_to(REPO)}:{line} imports {mod}"
            if PACKAGES.index(pkg) > PACKAGES.index(my_pkg):
                found.append(f"{where} ({pkg} is above {my_pkg})")
            elif pkg == my_pkg == "rewards" and mod != "rewards":
                (r_me, sub_me), (r_it, sub_it) = judge_rank(me), judge_rank(mod)
                if sub_me != sub_it and r_it >= r_me:
                    found.append(f"{where} (rewards.{sub_it or '<top>'} is not below rewards.{sub_me or '<top>'})")
            elif pkg == my_pkg == "rewards" and me.count(".") >= 1 and judge_rank(me)[1]:
                found.append(f"{where} (the facade rewards/__init__ is above rewards.{judge_rank(me)[1]})")
    return found
