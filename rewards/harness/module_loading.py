"""Loading a source file as a module under a fixed name, with its lines where Triton reads kernel source.

Apart because every role loads code this way, each in its own process: the candidate harness
(`rewards.harness.child`), the reference process (`rewards.oracle.reference_run`) and the standalone harness
(`rewards.fresh_harness`); none of them should need the others to do it.
"""

from __future__ import annotations

import sys
from typing import Any


def load_module(name: str, path: str, src: str | None = None) -> Any:
    """Import a source file under a fixed module name.

    Triton reads kernel source through `inspect`/linecache, so the file's lines are put in linecache
    under the path as given.
    """
    import linecache
    import types

    if src is None:
        with open(path) as f:
            src = f.read()
    linecache.cache[path] = (len(src), None, src.splitlines(True), path)
    mod = types.ModuleType(name)
    mod.__file__ = path
    sys.modules[name] = mod
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod
