"""The CPU-side compile check (`rewards.harness.target_compile`): every kernel specialization a candidate launches is
also compiled for an NVIDIA target with Triton's own binder and compiler (ptxas from Triton's wheel), so a
kernel the GPU would refuse is not credited on the CPU; plus the `bool_op_on_tensors` static rule and the
audit hook's ptxas allowance.

The kernels are loaded with TRITON_INTERPRET=1, as in the sandbox: `@triton.jit` makes InterpretedFunctions
there, and the checker must compile them (and the Triton library kernels they call, `tl.zeros`) anyway.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import torch

from rewards.harness import target_compile
from rewards.harness.module_loading import load_module
from rewards.harness.target_compile import TARGETS, TargetCompiler
from rewards.rules.apply import check_rules

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
ADV = HERE / "adversarial"
TASKS = HERE / "tasks"
SM90_SHARED = TARGETS["sm_90"][1]

KERNELS = '''
import numpy as np
import torch
import triton
import triton.language as tl

SLOPE = 0.0
_relu = lambda v: v * (v > 0)  # noqa: E731


@triton.jit
def _twice(x):
    return x * 2


@triton.jit
def scale(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(out_ptr + offs, _twice(tl.load(x_ptr + offs, mask=m)), mask=m)


@triton.jit
def total(x_ptr, out_ptr, BLOCK: tl.constexpr):
    tl.store(out_ptr, tl.sum(tl.load(x_ptr + tl.arange(0, BLOCK)), axis=0))


@triton.jit
def matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
           BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        a = tl.load(a_ptr + rm[:, None] * sam + (k + rk)[None, :] * sak,
                    mask=(rm[:, None] < M) & ((k + rk)[None, :] < K), other=0.0)
        b = tl.load(b_ptr + (k + rk)[:, None] * sbk + rn[None, :] * sbn,
                    mask=((k + rk)[:, None] < K) & (rn[None, :] < N), other=0.0)
        acc += tl.dot(a, b, allow_tf32=False)
    tl.store(c_ptr + rm[:, None] * scm + rn[None, :] * scn, acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


@triton.jit
def global_and_break(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    for step in range(4):
        if step * BLOCK >= n:
            break
        offs = step * BLOCK + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + offs, mask=offs < n)
        tl.store(out_ptr + offs, tl.where(x > 0, x, x * SLOPE), mask=offs < n)


@triton.jit
def python_lambda(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # block pointers named in a comment (tl.make_block_ptr, tl.advance) do not make a kernel unchecked
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, _relu(tl.load(x_ptr + offs, mask=offs < n)), mask=offs < n)


@triton.jit
def block_pointers(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    off = tl.program_id(0) * BLOCK
    src = tl.make_block_ptr(x_ptr, (n,), (1,), (off,), (BLOCK,), (0,))
    dst = tl.make_block_ptr(y_ptr, (n,), (1,), (off,), (BLOCK,), (0,))
    tl.store(dst, tl.load(src, boundary_check=(0,)), boundary_check=(0,))


@triton.jit
def _tile_ptr(x_ptr, n, off, BLOCK: tl.constexpr):
    return tl.make_block_ptr(x_ptr, (n,), (1,), (off,), (BLOCK,), (0,))


@triton.jit
def block_pointers_in_helper(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    off = tl.program_id(0) * BLOCK
    x = tl.load(_tile_ptr(x_ptr, n, off, BLOCK), boundary_check=(0,))
    tl.store(_tile_ptr(y_ptr, n, off, BLOCK), x, boundary_check=(0,))


@triton.autotune(configs=[triton.Config({"BM": 64, "BN": 64, "BK": 128}, num_stages=5),
                          triton.Config({"BM": 32, "BN": 32, "BK": 32}, num_stages=2)], key=["M", "N", "K"])
@triton.jit
def tuned(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
          BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn, BM, BN, BK)
'''


@pytest.fixture
def kernels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The kernels above, loaded as the sandbox loads a candidate (interpreter on), with a private cache."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path / "triton-cache"))
    name = f"tf_target_compile_{uuid.uuid4().hex[:8]}"
    mod = load_module(name, f"{name}.py", KERNELS)
    yield mod
    sys.modules.pop(name, None)


def _mm_args(m: int = 32, n: int = 40, k: int = 48) -> tuple:
    a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    return (a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))


def test_interpreted_kernel_and_its_helper_compile_with_resources(kernels: Any) -> None:
    from triton.runtime.interpreter import InterpretedFunction

    assert type(kernels.scale) is InterpretedFunction  # what the sandbox launches on CPU
    tc = TargetCompiler("sm_90")
    x = torch.randn(1000)
    rec = tc.check(kernels.scale, (x, torch.empty_like(x), 1000), {"BLOCK": 128, "grid": (8,), "warmup": False})
    assert rec is not None and rec.note == "", rec
    assert rec.name == "scale" and rec.target == "sm_90"
    assert rec.registers is not None and rec.registers > 0 and rec.spills == 0 and rec.shared_bytes is not None


def test_compiles_after_the_interpreter_left_triton_language_patched() -> None:
    """Running a kernel that calls a Triton library jit function (`tl.sum`) under the interpreter leaves
    `triton.language` patched with numpy-backed builtins; a later compile must still see the real ones.
    In a fresh interpreter, as the sandbox's zygote is: whether `tl.sum` is an interpreted function depends
    on TRITON_INTERPRET when triton was first imported, which other tests of this process decide."""
    script = f"""
import os, sys, torch
os.environ["TRITON_INTERPRET"] = "1"
import triton.language as tl
from rewards.harness.module_loading import load_module
from rewards.harness.target_compile import TargetCompiler
tc = TargetCompiler("sm_90")  # records the pristine language (the sandbox does it in the zygote)
kernels = load_module("tf_tc_leak", "tf_tc_leak.py", {KERNELS!r})
before = tl.tensor.__add__
x, out = torch.randn(64), torch.empty(1)
kernels.total[(1,)](x, out, BLOCK=64)
torch.testing.assert_close(out[0], x.sum())
leaked = tl.tensor.__add__ is not before
rec = tc.check(kernels.scale, (x, torch.empty_like(x), 64), {{"BLOCK": 64}})
assert rec is not None and rec.note == "" and rec.registers, rec
assert (tl.tensor.__add__ is not before) == leaked  # the interpreter's state is left as it was found
print("compiled after the leak", leaked)
"""
    import subprocess

    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0 and "compiled after the leak" in p.stdout, p.stderr[-3000:]


def test_each_specialization_is_compiled_once(kernels: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    tc = TargetCompiler("sm_90")
    compiled: list[Any] = []
    orig = TargetCompiler._compile

    def counting(self: TargetCompiler, key: Any, *a: Any) -> Any:
        compiled.append(key)
        return orig(self, key, *a)

    monkeypatch.setattr(TargetCompiler, "_compile", counting)
    x = torch.randn(1024)
    for n in (1024, 1024, 1000):  # n=1024 is divisible by 16 and n=1000 is not: two specializations
        tc.check(kernels.scale, (x, torch.empty_like(x), n), {"BLOCK": 128})
    tc.check(kernels.scale, (x, torch.empty_like(x), 1024), {"BLOCK": 64})  # another constexpr
    tc.check(kernels.scale, (x.half(), torch.empty_like(x.half()), 1024), {"BLOCK": 128})  # another dtype
    assert len(compiled) == 4 and len(set(compiled)) == 4
    assert len(tc.summary()) == 4


def test_shared_memory_above_the_target_is_refused(kernels: Any) -> None:
    from triton.runtime.errors import OutOfResources

    tc = TargetCompiler("sm_90")
    fits = tc.check(kernels.matmul, _mm_args(), {"BM": 64, "BN": 64, "BK": 64, "num_stages": 8})
    assert fits is not None and fits.note == "" and 0 < fits.shared_bytes <= SM90_SHARED
    with pytest.raises(OutOfResources) as e:
        tc.check(kernels.matmul, _mm_args(), {"BM": 64, "BN": 64, "BK": 128, "num_stages": 5})
    assert e.value.required > SM90_SHARED and e.value.limit == SM90_SHARED
    with pytest.raises(OutOfResources):  # a repeated launch is refused again, from the cache
        tc.check(kernels.matmul, _mm_args(), {"BM": 64, "BN": 64, "BK": 128, "num_stages": 5})
    # a target with less shared memory refuses what sm_90 accepts
    with pytest.raises(OutOfResources):
        TargetCompiler("sm_86").check(kernels.matmul, _mm_args(), {"BM": 64, "BN": 64, "BK": 64, "num_stages": 8})


def test_what_only_the_compiler_rejects_is_refused(kernels: Any) -> None:
    from triton.compiler.errors import CompilationError

    tc = TargetCompiler("sm_90")
    x = torch.randn(512)
    with pytest.raises(CompilationError):
        tc.check(kernels.global_and_break, (x, torch.empty_like(x), 512), {"BLOCK": 128})
    with pytest.raises(target_compile.TargetCompileError, match="Unsupported function referenced"):
        tc.check(kernels.python_lambda, (x, torch.empty_like(x), 512), {"BLOCK": 128})
    # the interpreter itself runs both
    out = torch.empty_like(x)
    kernels.global_and_break[(1,)](x, out, 512, BLOCK=128)
    torch.testing.assert_close(out, torch.relu(x))


def test_block_pointers_are_noted_not_checked(kernels: Any) -> None:
    tc = TargetCompiler("sm_90")
    x = torch.randn(256)
    for kernel in (kernels.block_pointers, kernels.block_pointers_in_helper):
        rec = tc.check(kernel, (x, torch.empty_like(x), 256), {"BLOCK": 128})
        assert rec is not None and rec.note.startswith("not checked: uses block pointers"), rec


def test_autotune_skips_a_config_the_target_refuses(kernels: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from triton.runtime.autotuner import Autotuner

    from rewards.harness import interp_shims
    monkeypatch.setattr(Autotuner, "_bench", Autotuner._bench)  # restored after the test
    interp_shims._install_autotune()  # the interpreter's: every config ties, the first would be kept

    from rewards.harness.guard import OpRecorder

    class Counter:
        before_launch = None
        rec = OpRecorder()

    counter = Counter()
    tc = target_compile.install(counter, "sm_90", "cpu")
    assert tc is not None and counter.before_launch == tc.check
    args = _mm_args()
    big, small = kernels.tuned.configs
    assert Autotuner._bench(kernels.tuned, *args, config=big) == [float("inf")] * 3
    assert Autotuner._bench(kernels.tuned, *args, config=small) != [float("inf")] * 3
    assert target_compile.install(Counter(), "none", "cpu") is None
    assert target_compile.install(Counter(), "sm_90", "cuda") is None


def test_config_rejects_unknown_targets() -> None:
    from rewards import VerifyConfig

    assert VerifyConfig().compile_target == "sm_90"
    VerifyConfig(compile_target="none")
    with pytest.raises(ValueError, match="compile_target"):
        VerifyConfig(compile_target="sm_91")


def test_verdict_carries_compiled_kernels() -> None:
    from rewards.contract.types import Status, VerifyResult

    r = VerifyResult.from_dict({"status": "ok", "correct": True, "target_compile": [
        {"name": "k", "target": "sm_90", "registers": 10, "spills": 0, "shared_bytes": 0, "note": ""}]})
    assert r.target_compile == (("k", "sm_90", 10, 0, 0, ""),)
    again = VerifyResult.from_dict(r.to_dict())
    assert again == r and again.status is Status.OK


# ------------------------------------------------------------------------------------- audit hook
def _frame_in(module_name: str) -> Any:
    """A frame whose code belongs to `module_name` (what the audit policy asks `initiator` about)."""
    g: dict[str, Any] = {"__name__": module_name, "sys": sys}
    exec("def here():\n    return sys._getframe()\n", g)
    return g["here"]()


def test_audit_allows_only_tritons_ptxas_from_triton() -> None:
    from triton import knobs

    from rewards.harness.audit import _Policy

    ptxas = knobs.nvidia.ptxas.path
    on = _Policy(None, None, allow_compilers=False, allow_ptxas=True)
    off = _Policy(None, None, allow_compilers=False, allow_ptxas=False)
    cases = [("triton.backends.nvidia.compiler", ptxas, True), ("tf_candidate", ptxas, False),
             ("triton.backends.nvidia.compiler", "/bin/sh", False)]
    for who, exe, allowed in cases:
        for policy, expect in ((on, allowed), (off, False)):
            policy.caller = _frame_in(who)
            try:
                policy._check("subprocess.Popen", (exe, [exe, "--version"], None, None))
                got = True
            except PermissionError:
                got = False
            assert got == expect, (who, exe, policy is on)


def test_supervisor_allows_exec_only_for_the_cpu_compile_check() -> None:
    from rewards.contract.config import VerifyConfig
    from rewards.sandbox.supervisor import Supervisor

    def target(device: str, tgt: str) -> str:
        s = Supervisor.__new__(Supervisor)
        s.cfg, s.device = VerifyConfig(compile_target=tgt), device
        return s._compile_target()

    assert target("cpu", "sm_90") == "sm_90"
    assert target("cpu", "none") == "none"
    assert target("cuda", "sm_90") == "none"  # the real compiler runs there


# ------------------------------------------------------------------------------------- static rule
RULE_SRC = '''
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, n, BLOCK: tl.constexpr, EVEN: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    if BLOCK > 16 and EVEN:
        pass
    if not EVEN or n > 3:
        pass
    {line}
'''


@pytest.mark.parametrize("line,flagged", [
    ("m = (offs < n) and (offs >= 0)", True),
    ("x = tl.load(x_ptr + offs)\n    m = (x > 0) or (x < -1)", True),
    ("m = not (offs < n)", True),
    ("m = (offs < n) & (offs >= 0)", False),
    ("m = BLOCK > 16 and EVEN", False),
    ("m = n > 0 and n < 100", False),
])
def test_bool_op_on_tensors_rule(line: str, flagged: bool) -> None:
    found = check_rules(RULE_SRC.replace("{line}", line), rules=["bool_op_on_tensors"])
    assert bool(found) == flagged, found
    assert all(f.fatal for f in found)


# ------------------------------------------------------------------------------------- through the engine
@pytest.mark.slow
def test_engine_refuses_what_the_target_refuses_and_reports_resources() -> None:
    from rewards import VerifyConfig, verify_batch

    matmul = (TASKS / "matmul.py").read_text()
    too_big = (ADV / "compile_shared_memory.py").read_text()
    honest = (HERE / "candidates" / "relu_ok.py").read_text()
    relu = (TASKS / "relu.py").read_text()
    pairs = [(matmul, too_big), (relu, honest)]
    on = verify_batch(pairs, VerifyConfig(device="cpu", trials=1, timeout_s=60, workers=2))
    off = verify_batch(pairs, VerifyConfig(device="cpu", trials=1, timeout_s=60, workers=2, compile_target="none"))
    assert on[0].status.value == "compile_error" and "shared memory" in on[0].log, on[0].log[-800:]
    assert off[0].correct  # the interpreter alone credits it
    assert on[1].correct and off[1].correct
    (name, target, regs, spills, shared, note), = on[1].target_compile
    assert name == "relu_kernel" and target == "sm_90" and regs and spills == 0 and note == ""
    assert off[1].target_compile == ()
