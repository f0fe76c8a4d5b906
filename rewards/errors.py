"""The one base class for "the user gave bad input" (a path, a flag, a recipe, a model, a benchmark folder).

Every stage raises a subclass of `UserError` for input it cannot use; `tritonforge` catches it once and
exits 2 with one `error:` line instead of a traceback. A failure of the machinery or of candidate code is
never a `UserError`. It lives in `rewards` because every package may import from there.
"""

from __future__ import annotations


class UserError(ValueError):
    """Bad input from the user: reported as one line, exit status 2."""
