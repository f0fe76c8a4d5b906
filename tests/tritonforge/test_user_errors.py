"""One base class for bad user input; the console command turns any of them into one line and exit 2."""

from __future__ import annotations

import pytest

from data_pipeline.errors import DataError
from eval.release import ReleaseError
from eval.run import EvalError
from rewards.config import DeviceUnavailable
from rewards.errors import UserError
from rewards.task import TaskError
from tritonforge import cli


@pytest.mark.parametrize("cls", [DataError, ReleaseError, EvalError, DeviceUnavailable, TaskError])
def test_stage_errors_share_the_base(cls: type) -> None:
    assert issubclass(cls, UserError) and issubclass(cls, ValueError)


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
