"""Recipe values are typed by the one parser of every stage (stagekit.options), not by each stage.

Why the parser needs it: TRL's `set_defaults_with_config` makes recipe values argparse defaults, and argparse
converts only defaults that are strings. Without `typed_recipe` a YAML `1.5` would reach an int field as a
float and a single string a list field as a string, in every stage alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stagekit.errors import ConfigError
from stagekit.options import RECIPES_DIR, parse_config, typed_recipe


@dataclass
class Knobs:
    trials: int = 3
    timeout_s: float = 60.0
    fast: bool = False
    name: str = "x"
    kinds: list[str] = field(default_factory=lambda: ["a"])
    levels: list[int] = field(default_factory=lambda: [1])
    limit: int | None = None
    either: int | str = 0  # several types: left to the dataclass


def _parse(tmp_path: Path, text: str, *argv: str) -> Knobs:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(text)
    (knobs,) = parse_config((Knobs,), ["--config", str(recipe), *argv], prog="t")
    return knobs


def test_recipe_values_are_typed(tmp_path: Path) -> None:
    k = _parse(tmp_path, 'trials: "2"\ntimeout_s: 7\nfast: "yes"\nname: 12\nkinds: b\nlevels: ["2", 3]\n'
                         "limit: null\neither: 1.5\n")
    assert k.trials == 2 and type(k.timeout_s) is float and k.timeout_s == 7.0 and k.fast is True
    assert k.name == "12" and k.kinds == ["b"] and k.levels == [2, 3] and k.limit is None and k.either == 1.5
    assert _parse(tmp_path, "trials: 4.0\nlimit: 5\n").trials == 4


def test_an_option_after_the_recipe_wins(tmp_path: Path) -> None:
    k = _parse(tmp_path, "trials: 2\nkinds: [b, c]\n", "--trials", "5", "--kinds", "d")
    assert k.trials == 5 and k.kinds == ["d"]


@pytest.mark.parametrize("text, key", [
    ("trials: 1.5\n", "trials"), ("trials: true\n", "trials"), ("timeout_s: soon\n", "timeout_s"),
    ("fast: 2\n", "fast"), ("name: [a]\n", "name"), ("kinds: {a: 1}\n", "kinds"), ("levels: [x]\n", "levels"),
])
def test_a_wrong_type_is_one_line_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"r.yaml: {key}: expected") as e:
        _parse(tmp_path, text)
    assert "\n" not in str(e.value)


def test_keys_of_no_field_are_left_for_the_unknown_key_error() -> None:
    assert typed_recipe((Knobs,), {"nope": "1", "trials": "3"}, "r.yaml") == {"nope": "1", "trials": 3}


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_trainer_stages_get_the_same_typing(stage: str, tmp_path: Path) -> None:
    """The TRL stages parse through the same function: every shipped recipe still loads, and a YAML float
    for an int field of the trainer config is refused there too."""
    import yaml

    module = __import__(f"{stage}.cli", fromlist=["parse"])
    for recipe in sorted((RECIPES_DIR / stage).glob("*.yaml")):
        module.parse(["--config", str(recipe)])
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**yaml.safe_load((RECIPES_DIR / stage / "tiny.yaml").read_text()), "max_steps": 1.5}))
    with pytest.raises(ConfigError, match="max_steps: expected an integer"):
        module.parse(["--config", str(bad)])
