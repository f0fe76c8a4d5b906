"""Interpreter shims: honest kernels using autotune, libdevice, string constexpr annotations or block
pointers run on CPU.

Each case runs in a fresh subprocess with TRITON_INTERPRET=1, first without the shims (to show the gap is
real on this Triton) and then with `install()` called before the kernel module loads, as the sandbox does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rewards.harness import interp_blockptr
from rewards.harness.interp_blockptr import block_pointers_removed
from rewards.harness.interp_shims import UnsupportedOnCPU, libdevice_numpy

REPO = Path(__file__).resolve().parents[3]

KERNELS = '''
import torch
import triton
import triton.language as tl
from triton.language.extra.cuda import libdevice
from triton.language.extra import libdevice as generic_libdevice
from triton.language.extra.cuda.libdevice import tanh as _tanh
from triton.language.extra.libdevice import sqrt as _generic_sqrt
from triton.language.math import exp as _exp
from triton.language import load as _load


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
def imported_names(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = _load(x_ptr + offs, mask=m)
    tl.store(y_ptr + offs, _tanh(x) + _exp(x) + _generic_sqrt(x * x), mask=m)


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
elif case == "imported_names":
    imported_names[(8,)](x, y, 1000, BLOCK=128)
    want = torch.tanh(x) + torch.exp(x) + x.abs()
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
    head = "from rewards.harness import interp_shims\nassert interp_shims.install()\n" if shims else ""
    script.write_text(head + KERNELS.replace("CASE", repr(case)))
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("case,gap", [
    ("autotune", "active drivers"),
    ("libdevice", "semantic"),
    ("string_constexpr", "constexpr"),
    ("list_grid", "can only concatenate list"),
    ("cuda_device", "Error"),
    ("imported_names", "forget to add @triton.jit"),
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
    code = "from rewards.harness import interp_shims\nprint(interp_shims.install())\n"
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


# -- block pointers (removed in Triton 3.9, used by code written for 3.0-3.6) ----------------------------

BLOCKPTR = '''
import math

import torch
import triton
import triton.language as tl
from triton.language import make_block_ptr as _make_block_ptr

SENTINEL = -7.0


@triton.jit
def matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
           BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    a_bp = tl.make_block_ptr(base=a_ptr, shape=(M, K), strides=(sam, sak), offsets=(pid_m * BM, 0),
                             block_shape=(BM, BK), order=(1, 0))
    b_bp = tl.make_block_ptr(base=b_ptr, shape=(K, N), strides=(sbk, sbn), offsets=(0, pid_n * BN),
                             block_shape=(BK, BN), order=(0, 1))
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for _ in range(0, K, BK):
        a = tl.load(a_bp, boundary_check=(0, 1), padding_option="zero")
        b = tl.load(b_bp, boundary_check=(1, 0))
        acc += tl.dot(a, b)
        a_bp = tl.advance(a_bp, (0, BK))
        b_bp = b_bp.advance((BK, 0))
    c_bp = tl.make_block_ptr(c_ptr, (M, N), (scm, scn), (pid_m * BM, pid_n * BN), (BM, BN), (1, 0))
    tl.store(c_bp, acc.to(c_bp.dtype.element_ty), boundary_check=(0, 1))


@triton.jit
def copy_1d(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    off = tl.program_id(0) * BLOCK
    src = _make_block_ptr(x_ptr, (n,), (1,), (off,), (BLOCK,), (0,))  # imported by name
    dst = tl.make_block_ptr(y_ptr, shape=(n,), strides=(1,), offsets=(off,), block_shape=(BLOCK,), order=(0,))
    tl.store(pointer=dst, value=tl.load(pointer=src, boundary_check=(0,)), boundary_check=(0,))


@triton.jit
def _tile(bp, CHECK_COLS: tl.constexpr):
    if CHECK_COLS:
        return tl.load(bp, boundary_check=(0, 1))
    return tl.load(bp, boundary_check=(0,))


@triton.jit
def copy_2d(x_ptr, y_ptr, R, C_DECL, C, sxr, sxc, syr, syc, BR: tl.constexpr, BC: tl.constexpr,
            CHECK_COLS: tl.constexpr):
    # x is declared C_DECL columns wide: with CHECK_COLS=False the columns past it are loaded anyway
    src = tl.make_block_ptr(x_ptr, (R, C_DECL), (sxr, sxc), (tl.program_id(0) * BR, 0), (BR, BC), (1, 0))
    dst = tl.make_block_ptr(y_ptr, (R, C), (syr, syc), (tl.program_id(0) * BR, 0), (BR, BC), (1, 0))
    tl.store(dst, _tile(src, CHECK_COLS), boundary_check=(0,))


@triton.jit
def padded(x_ptr, y_ptr, n, BLOCK: tl.constexpr, PAD: tl.constexpr):
    src = tl.make_block_ptr(x_ptr, (n,), (1,), (0,), (BLOCK,), (0,))
    if PAD == "nan":
        v = tl.load(src, boundary_check=(0,), padding_option="nan")
    elif PAD == "zero":
        v = tl.load(src, boundary_check=(0,), padding_option="zero")
    else:
        v = tl.load(src, boundary_check=(0,))
    tl.store(y_ptr + tl.arange(0, BLOCK), v)  # the whole block, padding included


@triton.jit
def row_sums_backwards(x_ptr, y_ptr, R, C, sxr, sxc, BR: tl.constexpr, BC: tl.constexpr):
    # walks the columns from the last block to the first: the offsets go negative at the end of the loop
    last = (tl.cdiv(C, BC) - 1) * BC
    bp = tl.make_block_ptr(x_ptr, (R, C), (sxr, sxc), (tl.program_id(0) * BR, last), (BR, BC), (0, 1))
    acc = tl.zeros((BR,), dtype=tl.float32)
    for _ in range(0, C + BC, BC):  # one block more than needed, entirely at negative columns
        acc += tl.sum(tl.load(bp, boundary_check=(0, 1)), axis=1)
        bp = tl.advance(bp, (0, -BC))
    out = tl.make_block_ptr(y_ptr, (R,), (1,), (tl.program_id(0) * BR,), (BR,), (0,))
    tl.store(out, acc, boundary_check=(0,))


@triton.jit
def plain(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    v = tl.load(pointer=x_ptr + offs, mask=m, other=0.0)
    tl.store(y_ptr + offs, v * 3.0, mask=m)


@triton.jit
def misuse(x_ptr, y_ptr, n, BLOCK: tl.constexpr, WHAT: tl.constexpr):
    bp = tl.make_block_ptr(x_ptr, (n,), (1,), (0,), (BLOCK,), (0,))
    if WHAT == "mask":
        v = tl.load(bp, mask=tl.arange(0, BLOCK) < n)
    elif WHAT == "plain_boundary_check":
        v = tl.load(x_ptr + tl.arange(0, BLOCK), boundary_check=(0,))
    else:
        v = tl.load(bp, boundary_check=(0,)).to(tl.float64)
        tl.store(tl.make_block_ptr(y_ptr, (n,), (1,), (0,), (BLOCK,), (0,)), v, boundary_check=(0,))


def close(a, b):
    return torch.allclose(a, b, atol=1e-4, rtol=1e-4, equal_nan=True)


case = CASE
if case == "matmul":
    M, N, K = 37, 29, 45  # no multiple of any block size
    a, b = torch.randn(M, K), torch.randn(K, N)
    c = torch.full((M, N), SENTINEL)
    matmul[(triton.cdiv(M, 16), triton.cdiv(N, 16))](a, b, c, M, N, K, *a.stride(), *b.stride(), *c.stride(),
                                                       BM=16, BN=16, BK=16)
    assert close(c, a @ b), float((c - a @ b).abs().max())
    bt = torch.randn(N, K).t()  # column-major B: strides (1, K)
    c = torch.full((M, N), SENTINEL)
    matmul[(triton.cdiv(M, 16), triton.cdiv(N, 16))](a, bt, c, M, N, K, *a.stride(), *bt.stride(), *c.stride(),
                                                       BM=16, BN=16, BK=16)
    assert close(c, torch.matmul(a, bt))
elif case == "copy_1d":
    n = 1000
    x = torch.randn(n)
    buf = torch.full((n + 64,), SENTINEL)  # the last block overshoots n: the guard past n must stay
    copy_1d[(triton.cdiv(n, 128),)](x, buf, n, BLOCK=128)
    assert torch.equal(buf[:n], x) and bool((buf[n:] == SENTINEL).all())
elif case == "copy_2d":
    R, C, C_DECL = 37, 64, 40
    x = torch.randn(R, C)
    for check_cols in (False, True):
        buf = torch.full((R + 8, C + 8), SENTINEL)
        y = buf[:R, :C]  # a strided view; rows past R are the guard
        copy_2d[(triton.cdiv(R, 16),)](x, y, R, C_DECL, C, *x.stride(), *y.stride(), BR=16, BC=64,
                                      CHECK_COLS=check_cols)
        want = x.clone()
        if check_cols:
            want[:, C_DECL:] = 0.0  # masked off by the column check: zero padding
        assert torch.equal(y, want), check_cols
        assert bool((buf[R:] == SENTINEL).all()) and bool((buf[:, C:] == SENTINEL).all())
elif case == "padding":
    x = torch.randn(100)
    for pad, fill in (("nan", math.nan), ("zero", 0.0), ("", 0.0)):
        y = torch.full((128,), SENTINEL)
        padded[(1,)](x, y, 100, BLOCK=128, PAD=pad)
        assert torch.equal(y[:100], x), pad
        assert close(y[100:], torch.full((28,), fill)), (pad, y[100:])
elif case == "advance_loop":
    R, C = 45, 70
    x = torch.randn(R, C)
    y = torch.full((R + 3,), SENTINEL)
    row_sums_backwards[(triton.cdiv(R, 16),)](x, y, R, C, *x.stride(), BR=16, BC=32)
    assert close(y[:R], x.sum(1)) and bool((y[R:] == SENTINEL).all())
elif case == "plain":
    x = torch.randn(1000)
    y = torch.full((1000,), SENTINEL)
    plain[(8,)](x, y, 1000, BLOCK=128)
    assert close(y, 3 * x)
else:  # misuse: what Triton 3.6 rejects is rejected
    x = torch.randn(100)
    y = torch.empty(100)
    for what, msg in (("mask", "cannot be specified for loading block pointers"),
                      ("plain_boundary_check", "not supported for loading a tensor of"),
                      ("store_dtype", "element type")):
        try:
            misuse[(1,)](x, y, 100, BLOCK=128, WHAT=what)
        except Exception as e:
            assert msg in str(e), (what, str(e))
        else:
            raise AssertionError(f"{what} was accepted")
print("OK", case)
'''


def _run_blockptr(case: str, shims: bool, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / f"blockptr_{case}_{shims}.py"
    head = "from rewards.harness import interp_shims\nassert interp_shims.install()\n" if shims else ""
    script.write_text(head + BLOCKPTR.replace("CASE", repr(case)))
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)


def test_block_pointers_are_missing_without_the_shim(tmp_path: Path) -> None:
    if not block_pointers_removed():
        pytest.skip("this Triton still has block pointers: the shim stays out of the way")
    bare = _run_blockptr("matmul", False, tmp_path)
    assert bare.returncode != 0 and "Block pointers have been removed" in bare.stderr, bare.stderr[-2000:]


@pytest.mark.parametrize("case", ["matmul", "copy_1d", "copy_2d", "padding", "advance_loop", "plain", "misuse"])
def test_block_pointer_kernels_match_torch_under_the_shim(case: str, tmp_path: Path) -> None:
    out = _run_blockptr(case, True, tmp_path)
    assert out.returncode == 0 and f"OK {case}" in out.stdout, out.stderr[-3000:]


def test_block_pointer_detection_leaves_a_triton_that_has_them_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import triton.language as tl

    @tl.core.builtin
    def make_block_ptr(base: Any, shape: Any, strides: Any, offsets: Any, block_shape: Any, order: Any,
                       _semantic: Any = None) -> Any:
        return _semantic.make_block_ptr(base, shape, strides, offsets, block_shape, order)  # Triton <= 3.6

    monkeypatch.setattr(tl.core, "make_block_ptr", make_block_ptr)
    assert not block_pointers_removed()
    assert not interp_blockptr.install()
