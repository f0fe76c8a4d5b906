"""DataConfig: recipes load by name or path, `--field value` options apply, bad keys and values are one clear line."""

from __future__ import annotations

import pytest

from data_pipeline.config import DataConfig, load_config, parse_build_args
from stagekit.errors import UserError
from stagekit.options import resolve_recipe


def test_recipes_load() -> None:
    tiny = load_config("tiny")
    assert tiny.synth_train >= 200 and tiny.verify_trials >= 2
    assert tiny.synth_indist > 0 and tiny.synth_heldout > 0 and tiny.synth_compact  # both held-out splits
    small = load_config("small")
    assert set(small.synth_kinds) == set(load_config(None).synth_kinds) and small.synth_indist > 0
    cluster = load_config(resolve_recipe("data", "cluster"))  # the same recipe given as a path
    assert cluster.distill and cluster.inductor == "auto"


def test_overrides_are_typed() -> None:
    cfg = load_config(None, ["--synth_train", "10", "--dedup", "false", "--synth_kinds", "matmul", "norm",
                             "--minhash_threshold", "0.9"])
    assert cfg.synth_train == 10 and cfg.dedup is False and cfg.synth_kinds == ["matmul", "norm"]
    assert cfg.minhash_threshold == 0.9
    assert load_config(None, ["--synth_kinds", "matmul,norm"]).synth_kinds == ["matmul", "norm"]


def test_yaml_recipe_plus_override(tmp_path) -> None:
    """A recipe file sets fields; an option given after it wins; YAML values are type-checked too."""
    recipe = tmp_path / "mine.yaml"
    recipe.write_text("synth_train: 30\nverify_timeout_s: 12\nsynth_kinds: [matmul]\n")
    cfg = load_config(recipe, ["--verify_timeout_s", "7.5"])
    assert cfg.synth_train == 30 and cfg.verify_timeout_s == 7.5 and cfg.synth_kinds == ["matmul"]
    recipe.write_text("synth_train: 1.5\n")
    with pytest.raises(UserError, match="synth_train"):
        load_config(recipe)


def test_build_arguments_and_no_retired_set_syntax() -> None:
    cfg, args, _ = parse_build_args(["--config", "tiny", "--out", "o", "--synth_train", "12"])
    assert args.out == "o" and cfg.synth_train == 12
    with pytest.raises(UserError, match="unknown option"):  # `--set key=value` was retired: one spelling
        parse_build_args(["--config", "tiny", "--out", "o", "--set", "synth_train=13"])


@pytest.mark.parametrize("override, match", [
    (["--synth_trian", "5"], "unknown option"), (["--verify_trials", "0"], "verify_trials"),
    (["--synth_train", "abc"], "synth_train"), (["--kernelbench_role", "maybe"], "kernelbench_role"),
    (["--synth_kinds", "conv"], "synth_kinds"), (["oops"], "unknown option"),
])
def test_bad_values_are_one_line(override: list[str], match: str) -> None:
    with pytest.raises(UserError, match=match) as e:
        load_config(None, override)
    assert "\n" not in str(e.value)


def test_missing_or_malformed_file(tmp_path) -> None:
    with pytest.raises(UserError, match="no such file, and not a recipe name"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("- a\n- b\n")
    with pytest.raises(UserError, match="mapping"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "keys.yaml").write_text("synth_trian: 5\n")
    with pytest.raises(UserError, match="unknown key.*synth_trian"):
        load_config(tmp_path / "keys.yaml")
    assert DataConfig().synth
