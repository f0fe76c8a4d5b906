"""The executor options: one dataclass, parsed by every batch stage; the local default never imports Ray."""

from __future__ import annotations

import subprocess
import sys

import pytest

from data_pipeline.config import parse_build_args
from rewards.executors import ExecutorArguments
from rewards.executors.ray_executor import bundles
from stagekit.errors import ConfigError


def test_bad_values_are_one_config_error() -> None:
    with pytest.raises(ConfigError, match="executor: must be one of local, ray"):
        ExecutorArguments(executor="dask")
    with pytest.raises(ConfigError, match="ray_actors"):
        ExecutorArguments(executor="ray", ray_actors=-1)
    with pytest.raises(ConfigError, match="only apply with --executor ray"):
        ExecutorArguments(ray_address="auto")


def test_data_build_takes_the_options_and_a_recipe_key(tmp_path) -> None:
    _, _, ex = parse_build_args(["--config", "tiny", "--out", "o"])
    assert ex.executor == "local" and ex.ray_address is None
    _, _, ex = parse_build_args(["--config", "tiny", "--out", "o", "--executor", "ray", "--ray_address", "auto"])
    assert (ex.executor, ex.ray_address) == ("ray", "auto")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("synth_train: 3\nexecutor: ray\nray_actors: 2\n")
    cfg, _, ex = parse_build_args(["--config", str(recipe), "--out", "o"])
    assert cfg.synth_train == 3 and ex.executor == "ray" and ex.ray_actors == 2
    assert "executor" not in cfg.to_dict()  # where it ran is not part of the corpus card


def test_groups_stay_whole_and_bundles_balance() -> None:
    pairs = [("A", "1"), ("B", "2"), ("A", "3"), ("C", "4"), ("A", "5"), ("D", "6")]
    packs = bundles(pairs, 2)
    assert sorted(i for p in packs for i in p) == list(range(6))
    by_ref = {ref: {k for k, p in enumerate(packs) if any(pairs[i][0] == ref for i in p)} for ref, _ in pairs}
    assert all(len(where) == 1 for where in by_ref.values())  # a reference's group never splits
    assert sorted(len(p) for p in packs) == [3, 3]
    assert len(bundles(pairs, 10)) == 4  # never more bundles than groups


def test_local_default_never_imports_ray() -> None:
    code = (
        "import sys\n"
        "from data_pipeline.config import parse_build_args\n"
        "import data_pipeline.build, eval.run, eval.selfcheck, rewards.cli\n"
        "from rewards.executors import using, verify_batch\n"
        "from rewards.contract.config import VerifyConfig\n"
        "_, _, ex = parse_build_args(['--config', 'tiny', '--out', 'o'])\n"
        "with using(ex) as e:\n"
        "    (r,) = verify_batch([('class Model: pass', 'no code at all')], VerifyConfig(device='cpu'))\n"
        "print(e.name, r.status.value, 'ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["local", "no_code", "False"]
