"""DataConfig: recipes load, overrides apply, bad keys and values are one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_pipeline.config import DataConfig, load_config
from data_pipeline.errors import DataError

REPO = Path(__file__).resolve().parents[2]


def test_recipes_load() -> None:
    tiny = load_config(REPO / "recipes/data/tiny.yaml")
    assert tiny.synth_train >= 200 and tiny.verify_trials >= 2
    assert tiny.synth_indist > 0 and tiny.synth_heldout > 0 and tiny.synth_compact  # both held-out splits
    small = load_config(REPO / "recipes/data/small.yaml")
    assert set(small.synth_kinds) == set(load_config(None).synth_kinds) and small.synth_indist > 0
    cluster = load_config(REPO / "recipes/data/cluster.yaml")
    assert cluster.distill and cluster.inductor == "auto"


def test_overrides_are_typed() -> None:
    cfg = load_config(None, ["synth_train=10", "dedup=false", "synth_kinds=matmul,norm", "minhash_threshold=0.9"])
    assert cfg.synth_train == 10 and cfg.dedup is False and cfg.synth_kinds == ["matmul", "norm"]
    assert cfg.minhash_threshold == 0.9


@pytest.mark.parametrize("override, match", [
    ("synth_trian=5", "unknown key"), ("verify_trials=0", "verify_trials"), ("synth_train=abc", "synth_train"),
    ("kernelbench_role=maybe", "kernelbench_role"), ("synth_kinds=conv", "synth_kinds"), ("oops", "key=value"),
])
def test_bad_values_are_one_line(override: str, match: str) -> None:
    with pytest.raises(DataError, match=match) as e:
        load_config(None, [override])
    assert "\n" not in str(e.value)


def test_missing_or_malformed_file(tmp_path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("- a\n- b\n")
    with pytest.raises(DataError, match="mapping"):
        load_config(tmp_path / "bad.yaml")
    assert DataConfig().synth
