"""The one base class for "the user gave bad input" (a path, a flag, a recipe, a model, a benchmark folder).

Every stage raises a subclass of `UserError` for input it cannot use; `tritonforge` catches it once (in
`exit_code`, which every entry point runs its command through) and exits 2 with one `error:` line instead
of a traceback. A failure of the machinery or of candidate code is never a `UserError`. It lives in
`rewards` because every package may import from there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(ValueError):
    """Bad input from the user: reported as one line, exit status 2."""


class ConfigError(UserError):
    """A recipe or an option that cannot be used: unknown name or key, a value of the wrong type or range."""


class MissingInputError(UserError, FileNotFoundError):
    """A file or folder the user named is not there (still a FileNotFoundError for callers catching that)."""


def exit_code(command: Callable[[], int | None]) -> int:
    """Run one command and return its exit status; a UserError is one `error:` line on stderr and status 2.

    The single place user errors are reported: `tritonforge` and the stages' standalone `python -m` entries
    all go through it, so no stage keeps a catch of its own with its own exit code or wording.
    """
    try:
        return int(command() or 0)
    except UserError as e:
        text = str(e).strip()
        print(f"error: {text.splitlines()[0] if text else type(e).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
