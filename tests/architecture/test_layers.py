"""The architecture the README draws, enforced: packages and the judge's sub-packages import only downward.

Order, lowest first: stagekit < rewards < data_pipeline < sft < grpo < eval < tritonforge; inside rewards:
contract < rules, harness < oracle < sandbox < engine < scoring, executors < the facade and commands. A
strict order has no loops; an import by string (importlib with a literal) would hide an edge from this
check, so production code has none.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import layers  # noqa: E402  (tests/architecture/layers.py: the import graph)


def test_every_import_points_down() -> None:
    assert layers.violations() == []


def test_the_check_sees_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    """The checker itself: an upward import between packages and one between judge sub-packages are found."""
    for rel, text in {
        "stagekit/__init__.py": "",
        "stagekit/bad.py": "def f():\n    from eval import metrics\n",
        "rewards/__init__.py": "",
        "rewards/harness/__init__.py": "",
        "rewards/harness/bad.py": "from rewards.sandbox import zygote\n",
        "rewards/sandbox/__init__.py": "",
        "rewards/sandbox/zygote.py": "from rewards.harness import bad\n",
        "eval/__init__.py": "",
        "eval/metrics.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.setattr(layers, "REPO", tmp_path)
    found = layers.violations()
    assert any(v.startswith("stagekit/bad.py:2 imports eval.metrics") for v in found), found
    assert any(v.startswith("rewards/harness/bad.py:1 imports rewards.sandbox.zygote") for v in found), found
    assert not any(v.startswith("rewards/sandbox/zygote.py") for v in found), found


def test_no_import_by_string() -> None:
    found = []
    for path in layers.production_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.append(f"{path.relative_to(layers.REPO)}:{node.lineno}")
    assert found == []
