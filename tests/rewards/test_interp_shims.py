"""Interpreter shims: honest kernels using autotune, libdevice or string constexpr annotations run on CPU.

Each case runs in a fresh subprocess with TRITON_INTERPRET=1, first without the shims (to show the gap is
real on this Triton) and then with `install()` called before the kernel module loads, as the sandbox does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewards.interp_shims import UnsupportedOnCPU, libdevice_numpy

REPO = Path(__file__).resolve().parents[2]

KERNELS = '''
import torch
import triton
import triton.language as tl
from triton.language.extra.cuda import libdevice
from triton.language.extra import libdevice as generic_libdevice


@triton.autotune(configs=[triton.Config({"BLOCK": 64}), triton.Config({"BLOCK": 128})], key=["n"])
@triton.jit
def autotuned(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=m) * 2.0, mask=m)


@triton.jit
def with_libdevice(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    y = libdevice.tanh(x) + generic_libdevice.exp(x) + tl.extra.cuda.libdevice.pow(x, 2.0)
    tl.store(y_ptr + offs, y, mask=m)


@triton.jit
def string_constexpr(x_ptr, y_ptr, n, BLOCK: "tl.constexpr"):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=m) + 1.0, mask=m)


x = torch.randn(1000)
y = torch.empty_like(x)
case = CASE
if case == "autotune":
    autotuned[lambda meta: (triton.cdiv(1000, meta["BLOCK"]),)](x, y, 1000)
    want = 2 * x
elif case == "libdevice":
    with_libdevice[(8,)](x, y, 1000, BLOCK=128)
    want = torch.tanh(x) + torch.exp(x) + x * x
elif case == "list_grid":
    autotuned.fn[[16]](x, y, 1000, BLOCK=64)  # the jit function under autotune, launched with a list grid
    want = 2 * x
elif case == "cuda_device":
    with torch.cuda.device(x.device):  # device selection only: a no-op without a GPU
        autotuned.fn[(16,)](x, y, 1000, BLOCK=64)
    torch.cuda.synchronize()
    assert torch.cuda.get_device_properties(0).multi_processor_count > 0 and torch.cuda.current_device() == 0
    want = 2 * x
else:
    string_constexpr[(8,)](x, y, 1000, BLOCK=128)
    want = x + 1
err = float((y - want).abs().max())
print("ERR", err)
assert err < 1e-4, err
'''


def _run(case: str, shims: bool, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / f"{case}_{shims}.py"
    head = "from rewards import interp_shims\nassert interp_shims.install()\n" if shims else ""
    script.write_text(head + KERNELS.replace("CASE", repr(case)))
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("case,gap", [
    ("autotune", "active drivers"),
    ("libdevice", "semantic"),
    ("string_constexpr", "constexpr"),
    ("list_grid", "can only concatenate list"),
    ("cuda_device", "Error"),
])
def test_shim_makes_honest_kernel_run_under_interpreter(case: str, gap: str, tmp_path: Path) -> None:
    bare = _run(case, False, tmp_path)
    assert bare.returncode != 0 and gap in bare.stderr, bare.stderr[-2000:]
    shimmed = _run(case, True, tmp_path)
    assert shimmed.returncode == 0, shimmed.stderr[-3000:]
    assert "ERR" in shimmed.stdout


def test_install_is_a_no_op_outside_the_interpreter(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = str(REPO)
    code = "from rewards import interp_shims\nprint(interp_shims.install())\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_libdevice_symbols_map_to_numpy_and_unknown_ones_say_so() -> None:
    import numpy as np

    assert libdevice_numpy("__nv_tanhf") is np.tanh
    assert libdevice_numpy("__nv_fast_expf") is np.exp
    assert libdevice_numpy("__nv_pow") is np.power
    assert float(libdevice_numpy("__nv_rsqrtf")(np.float32(4.0))) == 0.5
    with pytest.raises(UnsupportedOnCPU, match="__nv_cyl_bessel_i0f.*CPU interpreter"):
        libdevice_numpy("__nv_cyl_bessel_i0f")
