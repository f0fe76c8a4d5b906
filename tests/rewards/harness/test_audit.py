"""`rewards.harness.audit`'s module guard against Triton's GPU compiler front end, on CPU.

The interpreter never runs Triton's code generator, so a guard that breaks GPU compilation passes every
interpreter test: this builds a kernel's Triton IR for a GPU target (no GPU needed for that stage) in a
fresh process whose modules were guarded exactly as the sandbox guards them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent('''
    import sys
    import triton
    import triton.language as tl
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.compiler.compiler import make_backend
    from triton._C.libtriton import ir
    from rewards.harness.audit import admit_guarded_modules, freeze_modules

    @triton.jit
    def k(x_ptr, n, BLOCK: tl.constexpr):
        o = tl.arange(0, BLOCK)
        tl.store(x_ptr + o, tl.exp(tl.load(x_ptr + o, mask=o < n)), mask=o < n)

    assert freeze_modules() > 0 and type(tl).__name__ == "_GuardedModule"
    if sys.argv[1] == "admit":
        assert admit_guarded_modules()
    target = GPUTarget("cuda", 90, 32)
    backend = make_backend(target)
    opts = backend.parse_options({})
    ctx = ir.context()
    ir.load_dialects(ctx)
    backend.load_dialects(ctx)
    src = ASTSource(k, {"x_ptr": "*fp32", "n": "i32", "BLOCK": "constexpr"}, {(2,): 64})
    try:
        mod = src.make_ir(target, opts, backend.get_codegen_implementation(opts), backend.get_module_map(), ctx)
    except Exception as e:
        print("REFUSED", type(e).__name__, str(e).splitlines()[-1][:200])
        raise SystemExit(3)
    print("TTIR", "tt.func" in str(mod))
''')


REPO = Path(__file__).resolve().parents[3]


def _run(script: Path, mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=120, env=env)


def test_guarded_modules_compile_for_gpu(tmp_path: Path) -> None:
    try:
        import triton.backends.nvidia  # noqa: F401
    except ImportError:
        pytest.skip("this Triton build has no NVIDIA backend")
    script = tmp_path / "kernel.py"  # Triton reads a kernel's source from its file
    script.write_text(SCRIPT)
    plain = _run(script, "plain")
    assert plain.returncode == 3 and "Cannot access global variable tl" in plain.stdout, plain.stdout + plain.stderr
    admitted = _run(script, "admit")
    assert admitted.returncode == 0 and "TTIR True" in admitted.stdout, admitted.stdout + admitted.stderr
