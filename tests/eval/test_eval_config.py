"""eval / generate / release options: dataclasses set by a YAML file and `--field value`, one spelling each."""

from __future__ import annotations

import pytest

from eval.cli import _parse, _split_action
from eval.config import EvalArguments
from stagekit.errors import ConfigError, UserError


def test_yaml_config_plus_override(tmp_path) -> None:
    cfg = tmp_path / "eval.yaml"
    cfg.write_text("suite: heldout:out/corpus\nout: out/eval\nsamples: 4\ntemperature: 0.7\nmax_new_tokens: 300\n"
                   "verify_timeout_s: 30\n")
    args = _parse("run", ["--config", str(cfg), "--samples", "2", "--verify_workers", "3"])
    assert isinstance(args, EvalArguments)
    assert (args.suite, args.out, args.samples, args.temperature) == ("heldout:out/corpus", "out/eval", 2, 0.7)
    assert args.max_new_tokens == 300 and args.verify_timeout_s == 30 and args.verify_workers == 3
    vc = args.verify_config(seed=args.seed)
    assert vc.timeout_s == 30 and vc.workers == 3


def test_one_spelling_per_option() -> None:
    """HfArgumentParser's dash form of a field is the same option; retired names (--trials) are refused."""
    args = _parse("run", ["--suite", "s", "--out", "o", "--max-new-tokens", "8", "--verify-timeout-s", "5",
                          "--no-hack-rerun", "--prompt-format", "default"])
    assert (args.max_new_tokens, args.verify_timeout_s) == (8, 5)
    assert args.hack_rerun is False and args.prompt_format == "default"
    for retired in ("--trials", "--workers", "--timeout-s"):
        with pytest.raises(ConfigError, match=f"unknown option.*{retired}"):
            _parse("run", ["--suite", "s", "--out", "o", retired, "2"])


def test_positional_forms() -> None:
    assert _split_action(["compare", "a", "b"]) == ("compare", ["a", "b"])
    assert _parse("compare", ["a", "b", "--out", "c.md"], leading="dirs").dirs == ["a", "b"]
    gen = _parse("generate", ["ref.py", "--attempts", "2"], leading="reference")
    assert gen.reference == "ref.py" and gen.attempts == 2 and gen.samples == 4 and gen.max_new_tokens == 2048
    rel = _parse("release", ["--model", "m", "--out", "o", "--report", "a", "b", "--report", "c"])
    assert rel.report == ["a", "b", "c"]
    sc = _parse("selfcheck", ["--suite", "s", "--out", "o", "--no_strict_rules"])
    assert sc.strict_rules is False and sc.verify_trials == 1 and sc.verify_timeout_s == 120


@pytest.mark.parametrize("argv, match", [
    (["--suite", "s", "--out", "o", "--samples", "0"], "samples"),
    (["--suite", "s", "--out", "o", "--backend", "tgi"], "backend"),
    (["--suite", "s", "--out", "o", "--samples", "many"], "samples"),
    (["--suite", "s", "--out", "o", "--max_new_tokns", "5"], "unknown option"),
    (["--out", "o"], "--suite"),
])
def test_bad_options_are_one_line(argv: list[str], match: str) -> None:
    with pytest.raises(UserError, match=match) as e:
        _parse("run", argv)
    assert "\n" not in str(e.value)


def test_bad_yaml_values_are_checked(tmp_path) -> None:
    cfg = tmp_path / "eval.yaml"
    cfg.write_text("suite: s\nout: o\ndevice: tpu\n")
    with pytest.raises(UserError, match="device"):
        _parse("run", ["--config", str(cfg)])
    cfg.write_text("suite: s\nout: o\nsamplez: 3\n")
    with pytest.raises(UserError, match="unknown key.*samplez"):
        _parse("run", ["--config", str(cfg)])
