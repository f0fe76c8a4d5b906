"""The one error type of the data pipeline: a bad input, reported as one line."""

from __future__ import annotations

from stagekit.errors import UserError


class DataError(UserError):
    """A missing path, a malformed task file, a benchmark folder of the wrong shape, a bad config value.

    The message is one line; the CLI prints it as `error: ...` and exits 2 without leaving output behind.
    """
