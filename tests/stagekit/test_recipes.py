"""Recipes ship inside the package and every stage finds them the same way: a name, or a path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stagekit.errors import ConfigError
from stagekit.options import RECIPES_DIR, available_recipes, resolve_recipe


def test_every_stage_ships_its_recipes() -> None:
    assert RECIPES_DIR.parent.name == "stagekit"  # package data, not a folder of the source checkout
    for stage in ("data", "sft", "grpo"):
        assert {"tiny", "small", "cluster"} <= set(available_recipes(stage))
    assert available_recipes("eval") == []


def test_name_resolves_to_the_packaged_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # from any directory
    assert resolve_recipe("sft", "tiny") == RECIPES_DIR / "sft" / "tiny.yaml"
    assert resolve_recipe("grpo", "1gpu.yaml") == RECIPES_DIR / "grpo" / "1gpu.yaml"


def test_an_existing_path_wins_over_a_name(tmp_path, monkeypatch) -> None:
    mine = tmp_path / "tiny"
    mine.write_text("synth_train: 3\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_recipe("data", "tiny") == Path("tiny")
    assert resolve_recipe("data", str(mine)) == mine


def test_unknown_name_is_one_line_listing_the_names() -> None:
    with pytest.raises(ConfigError) as e:
        resolve_recipe("data", "huge")
    msg = str(e.value)
    assert "\n" not in msg and "huge" in msg and "cluster, small, tiny" in msg


@pytest.mark.parametrize("stage", [["data", "build", "--out", "x"], ["sft"], ["grpo"]])
def test_unknown_recipe_exits_2_with_one_line(stage: list[str], tmp_path) -> None:
    """Every stage resolves --config through the one resolver; tritonforge reports its error once."""
    p = subprocess.run([sys.executable, "-m", "tritonforge.cli", *stage, "--config", "nope"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    err = [ln for ln in p.stderr.strip().splitlines() if "Warning" not in ln and not ln.startswith("  warnings.")]
    assert p.returncode == 2 and len(err) == 1, p.stderr
    assert err[0].startswith("error: --config nope") and "tiny" in err[0]
