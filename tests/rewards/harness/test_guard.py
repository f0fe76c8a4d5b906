"""The runtime op record (rewards.harness.guard) and the audit-hook policy (rewards.harness.audit), exercised in-process on
trusted test code."""

from __future__ import annotations

import pytest
import torch

from rewards.harness.guard import OpRecorder
from rewards.harness.op_policy import MAX_SCALAR_READS


def _record(fn):  # noqa: ANN001, ANN202
    rec = OpRecorder()
    with torch.no_grad(), rec.modes():
        out = fn()
    return rec, out


def test_wrapper_plumbing_is_allowed() -> None:
    x = torch.randn(4, 8)

    def wrapper() -> torch.Tensor:
        y = torch.empty_like(x)
        z = x.reshape(8, 4).contiguous().view(-1)
        w = torch.zeros(3, dtype=torch.float32)
        y.copy_(x.t().contiguous().t())
        return torch.cat([z, w]).to(torch.float64)

    rec, _ = _record(wrapper)
    assert rec.summary()["forbidden"] == {}, rec.summary()


@pytest.mark.parametrize("compute", [
    lambda x: x + 1,
    lambda x: torch.softmax(x, -1),
    lambda x: sum(x.unbind(0)),
    lambda x: x @ x.t(),
    lambda x: torch.nn.functional.relu(x),
    lambda x: x.exp().sum(),
])
def test_compute_is_recorded(compute) -> None:  # noqa: ANN001
    x = torch.randn(4, 4)
    rec, _ = _record(lambda: compute(x))
    assert rec.summary()["forbidden"], "a compute op went unrecorded"


@pytest.mark.parametrize("escape", ["tolist", "numpy", "untyped_storage"])
def test_data_escapes_are_refused(escape: str) -> None:
    x = torch.randn(4)
    rec = OpRecorder()
    with pytest.raises(RuntimeError, match="not allowed inside forward"), torch.no_grad(), rec.modes():
        getattr(x, escape)()
    assert rec.summary()["refused"] == {escape: 1}


def test_scalar_reads_are_capped() -> None:
    x = torch.randn(MAX_SCALAR_READS + 8)
    rec, _ = _record(lambda: [x[i].item() for i in range(x.numel())])
    assert any("scalar reads" in k for k in rec.summary()["host"])
    rec, _ = _record(lambda: [x[i].item() for i in range(4)])
    assert rec.summary()["forbidden"] == {} and rec.summary()["host"] == {}


def test_the_scalar_read_budget_scales_with_the_task() -> None:
    """A constant budget of 64 reads was a whole solution for a 32+32-element dot product. The budget is in
    bytes: 1/16 of the bytes forward is handed (16..256)."""
    from rewards.harness.op_policy import MAX_SCALAR_BYTES, MIN_SCALAR_BYTES, scalar_read_budget

    assert scalar_read_budget([torch.randn(32), torch.randn(32)]) == 16
    assert scalar_read_budget([torch.randn(4, 8)]) == MIN_SCALAR_BYTES
    assert scalar_read_budget([torch.randn(4096, 4096), torch.tensor([3])]) == MAX_SCALAR_BYTES
    assert scalar_read_budget([{"a": torch.randn(256)}, [torch.randn(256)], 7]) == 128
    x, y = torch.randn(32), torch.randn(32)
    rec = OpRecorder()
    rec.scalar_budget = scalar_read_budget([x, y])
    with torch.no_grad(), rec.modes():
        sum(x[i].item() * y[i].item() for i in range(32))
    assert sum(rec.summary()["host"].values()) == 64 - rec.scalar_budget // 4


def test_the_scalar_read_budget_counts_bytes_not_reads() -> None:
    """Attack (hc_scalar_pack_bytes): a uint8 input viewed as complex128 handed Python 16 elements per
    .item(), so 64 reads (the budget for 1024 elements) read all 1024 bytes."""
    from rewards.harness.op_policy import scalar_read_budget

    x = torch.randint(0, 256, (32, 32), dtype=torch.uint8)
    rec = OpRecorder()
    rec.scalar_budget = scalar_read_budget([x])
    packed = x.view(-1).view(torch.complex128)
    with torch.no_grad(), rec.modes():
        [packed[i].item() for i in range(8)]  # 128 bytes: twice the 64-byte budget
    assert rec.summary()["scalar_bytes"] == 128 and rec.summary()["host"], rec.summary()
    rec.reset()
    with torch.no_grad(), rec.modes():
        [x.view(-1)[i].item() for i in range(64)]  # one byte each: within it
    assert rec.summary()["host"] == {}, rec.summary()


@pytest.mark.parametrize("make", [
    lambda: torch.from_numpy(__import__("numpy").zeros(8, dtype="float32")),
    lambda: torch.frombuffer(bytearray(32), dtype=torch.float32),
    lambda: torch.utils.dlpack.from_dlpack(__import__("numpy").zeros(8, dtype="float32")),
])
def test_ops_on_foreign_memory_are_host_compute(make) -> None:  # noqa: ANN001
    """A tensor over numpy/bytearray/DLPack memory is written by a copy and read by host code unseen."""
    foreign = make()
    x = torch.randn(8)
    rec, _ = _record(lambda: foreign.copy_(x))
    assert any("did not allocate" in k for k in rec.summary()["host"]), rec.summary()
    own = torch.empty(8)
    rec, _ = _record(lambda: own[2:].copy_(x[2:]))  # a view of torch's own memory is torch's
    assert rec.summary()["host"] == {}


@pytest.mark.parametrize(("src", "dtype", "computes"), [
    (torch.randn(64) * 4, torch.int32, True),  # truncation
    (torch.randint(-2, 3, (64,)).float(), torch.bool, True),  # a != 0 mask
    (torch.randint(0, 100000, (64,)), torch.uint8, True),  # wrap-around: x mod 256
    (torch.randn(64), torch.float16, True),  # narrowing to a dtype the answer does not have
    (torch.randint(0, 200, (64,)).float(), torch.int64, False),  # exact integers
    (torch.randn(64).half(), torch.float32, False),  # widening
    (torch.tensor([float("nan"), 1.0]), torch.float64, False),  # NaN survives the round trip
    (torch.randint(-128, 128, (64,), dtype=torch.int8), torch.uint8, True),  # -5 -> 251: exact round trip (red team)
    (torch.randint(0, 128, (64,), dtype=torch.int8), torch.uint8, False),  # non-negative: the same values
    (torch.randint(0, 2, (64,)).bool(), torch.float32, False),  # a mask as 0.0/1.0
])
def test_casts_that_change_values_are_host_compute(src: torch.Tensor, dtype: torch.dtype, computes: bool) -> None:
    rec, _ = _record(lambda: src.to(dtype))
    assert bool(rec.summary()["host"]) is computes, rec.summary()
    out = torch.empty(src.shape, dtype=dtype)
    rec, _ = _record(lambda: out.copy_(src))
    assert bool(rec.summary()["host"]) is computes, rec.summary()


def test_rounding_to_the_answers_own_dtype_is_not_compute() -> None:
    """The reference returns float16 computed in float32: the candidate's last cast rounds like the reference's."""
    x = torch.randn(64)
    rec = OpRecorder()
    rec.answer_dtypes = frozenset({torch.float16})
    with torch.no_grad(), rec.modes():
        x.to(torch.float16)
        x.to(torch.int32)  # the answer's dtype covers float rounding only
    assert list(rec.summary()["host"]) == ["aten::_to_copy cast torch.float32 -> torch.int32 that changes values (cast inside the kernel)"]


@pytest.mark.parametrize("call", [
    lambda x: x.apply_(lambda v: v * 2),
    lambda x: x.map_(x, lambda a, b: a + b),
    lambda x: x.map2_(x, x, lambda a, b, c: a + b + c),
    lambda x: torch.Tensor.apply_(x, float),
])
def test_python_element_callbacks_are_refused_in_forward(call) -> None:  # noqa: ANN001
    x = torch.randn(8)
    rec = OpRecorder()
    with pytest.raises(RuntimeError, match="Python callable"), torch.no_grad(), rec.modes():
        call(x)
    assert rec.summary()["host"] and rec.summary()["refused"]


def _watched_recorder():  # noqa: ANN202
    """A recorder whose function mode is on for good, as the candidate harness runs it (popped afterwards)."""
    rec = OpRecorder()
    fm = rec.watch()
    return rec, fm


def test_host_views_are_refused_to_the_candidate_outside_forward_too() -> None:
    """A numpy view made at import or in __init__ of a buffer forward's kernels fill computes unseen."""
    import numpy as np

    from rewards.harness.op_policy import CAND_MODULE

    buf = torch.zeros(8)
    rec, fm = _watched_recorder()
    try:
        for make in (lambda f: buf.numpy(), lambda f: np.asarray(buf), lambda f: np.from_dlpack(buf),
                     lambda f: buf.untyped_storage(), lambda f: buf.data_ptr()):
            with pytest.raises(RuntimeError, match="not allowed in a candidate"):
                _call_as(CAND_MODULE, make)
        # torch, Triton and the harness keep their own uses (serialising, launching): no candidate frame below
        assert _call_as("torch.serialization", lambda f: buf.untyped_storage().nbytes()) == 32
        assert _call_as("triton.runtime.jit", lambda f: buf.data_ptr()) > 0
        assert rec.active == 0
    finally:
        fm.__exit__(None, None, None)


def test_dlpack_export_that_bypasses_the_function_mode_is_refused() -> None:
    """torch.utils.dlpack.to_dlpack is a bare C function no function mode sees."""
    from rewards.harness.op_policy import CAND_MODULE
    from rewards.harness.process_guards import guard_raw_exports

    rec = OpRecorder()
    orig = torch._C._to_dlpack
    try:
        guard_raw_exports(rec)
        with pytest.raises(RuntimeError, match="not allowed in a candidate"):
            _call_as(CAND_MODULE, lambda f: torch.utils.dlpack.to_dlpack(torch.zeros(4)))
        assert torch.utils.dlpack.to_dlpack(torch.zeros(4)) is not None  # trusted callers keep it
    finally:
        from rewards.harness.process_guards import _replace_everywhere

        _replace_everywhere({id(torch._C._to_dlpack): orig})


def test_custom_op_bodies_are_not_opaque() -> None:
    @torch.library.custom_op("tftest::hidden_softmax", mutates_args=())
    def hidden(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, -1)

    x = torch.randn(3, 3)
    rec, out = _record(lambda: hidden(x))
    assert any("softmax" in k for k in rec.summary()["forbidden"]), rec.summary()
    assert torch.allclose(out.sum(-1), torch.ones(3))


def test_suspension_hides_only_marked_regions() -> None:
    rec = OpRecorder()
    x = torch.randn(3)
    with torch.no_grad(), rec.modes():
        rec.suspended += 1
        x + 1
        rec.suspended -= 1
        x * 2
    assert list(rec.summary()["forbidden"]) == ["aten::mul"]


def _call_as(module: str, fn):  # noqa: ANN001, ANN202
    """Run `fn(frame)` from a frame whose module is `module` (how the audit hook tells who acts)."""
    g = {"__name__": module, "fn": fn, "sys": __import__("sys")}
    exec("def probe():\n    return fn(sys._getframe())\n", g)  # noqa: S102 - a test's own helper
    return g["probe"]()


def test_open_of_a_file_descriptor_is_refused_to_the_candidate_only(tmp_path) -> None:  # noqa: ANN001
    """Triton's CUDA compiler opens mkstemp fds (NamedTemporaryFile) and writes ptx scratch files into the
    temporary directory; the candidate may do neither (inherited fds, host files)."""
    from rewards.harness.audit import _Policy
    from rewards.harness.op_policy import CAND_MODULE

    def check(policy: _Policy, args: tuple):  # noqa: ANN202
        def run(frame):  # noqa: ANN001, ANN202
            policy.caller = frame
            policy._check_open(args)
            return True
        return run

    policy = _Policy(sandbox_root=None, cache_dir=str(tmp_path / "cache"), allow_compilers=True)
    assert _call_as("triton.backends.nvidia.compiler", check(policy, (5, "w")))
    scratch = policy.scratch_dir + "tmpab12cd_3.ptx"
    assert _call_as("triton.backends.nvidia.compiler", check(policy, (scratch, "w")))
    # Only Triton's own tempfile-named scratch: torch writing for the candidate (torch.save), or a chosen name,
    # stays refused.
    with pytest.raises(PermissionError):
        _call_as("torch.serialization", check(policy, (scratch, "w")))
    with pytest.raises(PermissionError):
        _call_as("triton.backends.nvidia.compiler", check(policy, (policy.scratch_dir + "planted.py", "w")))
    for args in ((5, "w"), (scratch, "w")):
        with pytest.raises(PermissionError):
            _call_as(CAND_MODULE, check(policy, args))
    # subprocess(stdout=DEVNULL) opens /dev/null for writing: harmless for anyone.
    assert _call_as(CAND_MODULE, check(policy, ("/dev/null", "w")))
    # With a private /tmp (tmp_dir set) or on the CPU interpreter (no compilers) there is no scratch exception.
    cpu = _Policy(sandbox_root=None, cache_dir=None, allow_compilers=False)
    with pytest.raises(PermissionError):
        _call_as("triton.runtime.interpreter", check(cpu, (cpu.scratch_dir + "x", "w")))


def test_compiler_scratch_inside_the_sandbox_root_is_triton_only(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Without a private /tmp, TMPDIR is the candidate's work dir inside the sandbox root: Triton's CUDA
    compiler may write and read its scratch files there, the candidate may not touch the sandbox's files."""
    import tempfile

    from rewards.harness.audit import _Policy
    from rewards.harness.op_policy import CAND_MODULE

    work = tmp_path / "sandbox" / "cand0"
    work.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(work))
    policy = _Policy(sandbox_root=str(tmp_path / "sandbox"), cache_dir=str(work / ".triton"), allow_compilers=True)

    def opener(args: tuple):  # noqa: ANN202
        def run(frame):  # noqa: ANN001, ANN202
            policy.caller = frame
            policy._check_open(args)
            return True
        return run

    ptx = str(work / "tmpk1234567.ptx")
    for args in ((ptx, "w"), (ptx, "r")):
        assert _call_as("triton.backends.nvidia.compiler", opener(args))
        with pytest.raises(PermissionError, match="sandbox"):
            _call_as(CAND_MODULE, opener(args))
    assert _call_as(CAND_MODULE, opener((str(work / ".triton" / "k.cubin"), "r")))  # the cache stays readable


def test_guarded_modules_survive_tritons_dependency_finder() -> None:
    """Triton (CUDA compile) deep-copies the globals a kernel reads unless their type is exactly ModuleType;
    a frozen module must come back as itself rather than fail the compile ("cannot pickle")."""
    import copy
    import types

    from rewards.harness.audit import _GuardedModule

    mod = types.ModuleType("tf_probe_module")
    mod.__class__ = _GuardedModule
    assert copy.deepcopy(mod) is mod and copy.copy(mod) is mod
    assert copy.deepcopy({"tl": mod})["tl"] is mod


def test_subprocess_probes_by_torch_on_cuda_are_refused_without_blame() -> None:
    """On CUDA torch/triton may probe for tools (`which nvcc`) inside a try: refused, not counted against the
    candidate; the candidate's own subprocess is refused and counted; compilers run for triton only."""
    from rewards.harness.audit import _Policy
    from rewards.harness.op_policy import CAND_MODULE

    def spawn(policy: _Policy, argv: list[str]):  # noqa: ANN202
        def run(frame):  # noqa: ANN001, ANN202
            policy.caller = frame
            policy._check("subprocess.Popen", (None, argv, None, None))
            return True
        return run

    cuda = _Policy(sandbox_root=None, cache_dir=None, allow_compilers=True)
    assert _call_as("triton.runtime.build", spawn(cuda, ["/usr/bin/gcc", "main.c"]))
    with pytest.raises(PermissionError, match="which"):
        _call_as("torch.utils.cpp_extension", spawn(cuda, ["which", "nvcc"]))
    assert not cuda.denied
    for argv in (["which", "nvcc"], ["/usr/bin/gcc", "x.c"]):
        with pytest.raises(PermissionError):
            _call_as(CAND_MODULE, spawn(cuda, argv))
    assert cuda.denied["subprocess.Popen"] == 2
    cpu = _Policy(sandbox_root=None, cache_dir=None, allow_compilers=False)
    with pytest.raises(PermissionError):
        _call_as("torch.utils.cpp_extension", spawn(cpu, ["which", "nvcc"]))
    assert cpu.denied["subprocess.Popen"] == 1


class _LyingGrid(tuple):
    """Iterates as one program, indexes (as Triton's launcher does) as none."""

    def __iter__(self):  # noqa: ANN204
        return iter((1,))


class _LyingInt(int):
    def __int__(self) -> int:
        return 4


def test_the_counted_grid_is_the_launched_grid() -> None:
    """Red team: a grid whose iteration and indexing disagree was counted as a launch of one program while
    Triton launched none; every counted launch must be a device kernel (the foreign-kernel check counts)."""
    from rewards.harness.launch_counter import _grid_probe

    programs: list[int] = []
    g = _grid_probe(_LyingGrid((0,)), programs)
    assert type(g) is tuple and g == (0,) and programs == [0]
    probe = _grid_probe(lambda meta: _LyingGrid((0, 3)), programs)
    g = probe({"BLOCK": 4})
    assert type(g) is tuple and g == (0, 3) and programs[-1] == 0
    g = _grid_probe([_LyingInt(0), 2], programs)
    assert g == (0, 2) and all(type(d) is int for d in g) and programs[-1] == 0
    assert _grid_probe(torch.tensor(3), programs) == (3,) and programs[-1] == 3
    with pytest.raises(TypeError):
        _grid_probe((2.5,), programs)  # Triton takes no float grid either


def test_a_launch_is_named_as_the_device_knows_it() -> None:
    from types import SimpleNamespace

    from rewards.harness.launch_counter import _compiled_name

    def k() -> None: ...

    compiled = SimpleNamespace(metadata=SimpleNamespace(name="k_repr"))
    assert _compiled_name(SimpleNamespace(__name__="k"), compiled, k) == "k_repr"
    assert _compiled_name(SimpleNamespace(__name__="k_jit"), None, k) == "k_jit"
    assert _compiled_name(object(), None, k) == "k"


def test_a_grid_the_cuda_launcher_skips_is_not_counted() -> None:
    """Red team: Triton's CUDA launcher computes `gridX * gridY * gridZ` in C ints and launches only when
    it is > 0. (65536, 65536) wraps to 0 there: no kernel ran, yet the launch was counted, and the count
    is what vouches for a device kernel of the same name."""
    import numpy as np

    from rewards.harness.launch_counter import _grid_probe

    programs: list[int] = []
    for grid in ((65536, 65536, 1), (65536, 32768), [65536, -65536, -1], (-1, -1)):
        c_product = int(np.prod(np.array(grid, dtype=np.int32), dtype=np.int32))
        assert c_product <= 0 or min(grid) < 0  # what the launcher sees: no launch (or an invalid one)
        assert _grid_probe(grid, programs) == tuple(grid) and programs[-1] == 0, grid
        probe = _grid_probe(lambda meta, g=grid: g, programs)
        probe({})
        assert programs[-1] == 0, grid
    assert _grid_probe((1024, 4, 2), programs) == (1024, 4, 2) and programs[-1] == 8192


_COUNTER_SCRIPT = '''
import sys, types
import triton
import triton.language as tl
from rewards.harness.module_loading import load_module
from rewards.harness.guard import OpRecorder
from rewards.harness.launch_counter import LaunchCounter
from rewards.harness.op_policy import CAND_MODULE
MODE = sys.argv[1]
if MODE == "skipped_compile":
    # what JITFunction.run returns when a (candidate-set) knobs.runtime.jit_cache_hook skips the compile
    triton.runtime.jit.JITFunction.run = lambda self, *a, grid, warmup, **k: None
counter = LaunchCounter(OpRecorder())
src = """
import torch
import triton
import triton.language as tl

@triton.jit
def k(out_ptr, BLOCK: tl.constexpr):
    tl.store(out_ptr + tl.arange(0, BLOCK), tl.full((BLOCK,), 1.0, tl.float32))

class Flip:
    def __init__(self):
        self.n = 0

    def __bool__(self):
        self.n += 1
        return self.n == 1  # "warmup" to whoever asks first (Triton), "launch" after
"""
mod = load_module(CAND_MODULE, "candidate.py", src)
import torch
out = torch.zeros(8)
if MODE == "flip":
    mod.k.run(out, BLOCK=8, grid=(1,), warmup=mod.Flip())
else:
    mod.k[(1,)](out, BLOCK=8)
print("COUNT", counter.count, sorted(counter.by_name.items()), "RAN", bool(out.sum() > 0))
'''


@pytest.mark.parametrize("mode,interpret", [("flip", True), ("skipped_compile", False)])
def test_only_launches_that_ran_are_counted(mode: str, interpret: bool, tmp_path) -> None:  # noqa: ANN001
    """Red team: a `warmup=` object whose truth flips (Triton asked first: "warmup", nothing launched; the
    counter asked second: "launch"), and a launch whose compile a `jit_cache_hook` skipped (Triton returns
    None, launching nothing), were each counted as one launch of the kernel: slack that vouches for a
    foreign device kernel of that name."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = str(repo)
    if interpret:
        env["TRITON_INTERPRET"] = "1"
    script = tmp_path / "counter.py"
    script.write_text(_COUNTER_SCRIPT)
    got = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, env=env, timeout=300)
    line = next((ln for ln in got.stdout.splitlines() if ln.startswith("COUNT")), None)
    assert line is not None, got.stderr[-3000:]
    count, ran = int(line.split()[1]), line.endswith("True")
    assert count == int(ran), line


_PROFILER_SCRIPT = '''
import torch
from torch.profiler import ProfilerActivity, profile
from rewards.harness.guard import OpRecorder
from rewards.harness.process_guards import guard_mode_switches
rec = OpRecorder()
guard_mode_switches(rec)
x = torch.ones(4)

def seen(fn):
    prof = profile(activities=[ProfilerActivity.CPU])  # the harness's, outside the recorded region
    prof.__enter__()
    rec.active += 1  # forward: the recorded region
    try:
        fn()
    except RuntimeError as e:
        print("REFUSED", "not allowed inside forward" in str(e))
    finally:
        rec.active -= 1
        prof.__exit__(None, None, None)
    return "aten::mm" in {e.name for e in prof.events()}

def toggle():
    torch.autograd.profiler._toggle_collection_dynamic(False, {ProfilerActivity.CPU})
    torch.mm(x[None], x[:, None])
    torch.autograd.profiler._toggle_collection_dynamic(True, {ProfilerActivity.CPU})

def stop():
    torch._C._autograd._disable_profiler()
    torch.mm(x[None], x[:, None])

print("HONEST", seen(lambda: torch.mm(x[None], x[:, None])))
print("TOGGLE", seen(toggle))
print("STOP", seen(stop))
'''


def test_forward_cannot_switch_the_profiler_off(tmp_path) -> None:  # noqa: ANN001
    """Red team: forward toggled the profiler's collection off around a stretch (or stopped it) and that
    stretch's kernels were missing from the device record; the foreign-kernel check matched what was left.
    (CPU activity stands in for CUDA here; the switches are the same.)"""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    script = tmp_path / "prof.py"
    script.write_text(_PROFILER_SCRIPT)
    got = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    lines = [ln for ln in got.stdout.splitlines() if ln.split(" ")[0] in ("HONEST", "TOGGLE", "STOP", "REFUSED")]
    assert lines == ["HONEST True", "REFUSED True", "TOGGLE False", "REFUSED True", "STOP False"], got.stdout + got.stderr[-2000:]


def test_candidate_code_inside_a_suspended_region_is_recorded() -> None:
    """Attack (hc_*_mode_push, hc_new_empty_shadow, hc_pre_run_hook): the recorder was suspended for
    everything inside Triton's marshalling, so a torch mode of the candidate's, a Python method it shadowed on a
    kernel argument or a hook computed there unrecorded. A region the harness marks stays suspended only for
    code that is not the candidate's."""
    from rewards.harness.op_policy import CAND_MODULE

    rec = OpRecorder()
    x = torch.randn(3)
    with torch.no_grad(), rec.modes(), rec.hush():
        x + 1  # the harness's (Triton's) own bookkeeping
        _call_as(CAND_MODULE, lambda f: x * 2)  # candidate code Triton happens to call in there
        x - 1
    assert list(rec.summary()["forbidden"]) == ["aten::mul"]


def test_tritons_marshalling_refuses_arguments_that_would_run_candidate_code() -> None:
    """Attack (hc_storage_partial): an instance attribute `untyped_storage = functools.partial(torch.clamp,
    x, out=out)` on a kernel argument ran relu in torch inside the interpreter's suspended marshalling, with no
    frame of the candidate's to tell it by."""
    import functools

    from rewards.harness.launch_counter import _suspended, plain_for_triton

    x, out = torch.randn(8), torch.empty(8)
    alias = out.view(8)
    alias.untyped_storage = functools.partial(torch.clamp, x, min=0.0, out=out)
    assert not plain_for_triton(alias) and not plain_for_triton([3, (alias,)]) and not plain_for_triton(object())
    out.note = "a plain attribute shadows nothing"
    assert plain_for_triton((out, 3, 2.5, "s", torch.float32, None, {"BLOCK": 128}))
    rec = OpRecorder()
    marshal = _suspended(rec, lambda self, arg: arg.untyped_storage())
    with torch.no_grad(), rec.modes():
        with pytest.raises(RuntimeError, match="not plain data"):
            _call_as("triton.runtime.interpreter", lambda f: marshal(None, alias))
        assert _call_as("triton.runtime.interpreter", lambda f: marshal(None, out)).nbytes() == 32
    assert rec.summary()["forbidden"] == {} and list(rec.summary()["refused"]) == [
        "a kernel argument Triton's marshalling would call candidate code on"]


def test_conversions_inside_fill_and_cat_are_casts_too() -> None:
    """Attack (hc_fill_trunc, hc_fill_mask, hc_cat_out_mod256, hc_cast_check_shadow): fill_ with a
    0-d tensor and cat(out=) convert values inside ATen with no cast op; and the cast check itself called
    `dst.to(...)`, which an instance attribute of the candidate's tensor could shadow."""
    x = torch.randn(64) * 4
    ints = torch.empty(64, dtype=torch.int32)
    rec, _ = _record(lambda: [ints[i].fill_(x[i]) for i in range(4)])
    assert any("fill_ cast" in k for k in rec.summary()["host"]), rec.summary()
    big = torch.randint(0, 100000, (64,))
    rec, _ = _record(lambda: torch.cat([big], out=torch.empty(64, dtype=torch.uint8)))
    assert any("cat cast" in k for k in rec.summary()["host"]), rec.summary()
    half, small = x[:4].half(), torch.zeros(64, dtype=torch.int32)
    rec, _ = _record(lambda: (torch.cat([half, x[:4]]), torch.stack([big[:4], big[:4].int()]),
                              small[:4].fill_(torch.tensor(3.0)), small.float()))
    assert rec.summary()["host"] == {}, rec.summary()  # exact conversions and promotions
    dst = torch.empty(4)
    dst.to = lambda *a, **k: 1 / 0  # the check must not call the candidate's attributes
    rec, _ = _record(lambda: dst.copy_(torch.zeros(4, dtype=torch.int32)))
    assert rec.summary()["host"] == {}, rec.summary()


def test_addresses_are_refused_when_a_helper_asks_on_the_candidates_behalf() -> None:
    """Attack (hc_wrapper_data_ptr): `triton.reinterpret(t, dtype).data_ptr()` had Triton's TensorWrapper
    ask for the address (the nearest party was Triton); with an `__array_interface__` that is a numpy view."""
    import sys

    import triton
    import triton.language as tl

    from rewards.harness.op_policy import CAND_MODULE

    buf = torch.zeros(8)
    rec, fm = _watched_recorder()
    try:
        with pytest.raises(RuntimeError, match="not allowed in a candidate"):
            _call_as(CAND_MODULE, lambda f: triton.reinterpret(buf, tl.float32).data_ptr())

        def launch():  # noqa: ANN202 - what LaunchCounter.run marks: Triton asks for the address while launching
            rec.launch_marks.append(sys._getframe())
            try:
                return _call_as("triton.runtime.jit", lambda f: triton.reinterpret(buf, tl.float32).data_ptr())
            finally:
                rec.launch_marks.pop()

        assert _call_as(CAND_MODULE, lambda f: launch()) == buf.data_ptr()

        def grid_in_launch():  # noqa: ANN202 - the candidate's own code inside a launch (a grid function)
            rec.launch_marks.append(sys._getframe())
            try:
                return _call_as(CAND_MODULE, lambda f: buf.data_ptr())
            finally:
                rec.launch_marks.pop()

        with pytest.raises(RuntimeError, match="not allowed in a candidate"):
            _call_as("triton.runtime.jit", lambda f: grid_in_launch())
    finally:
        fm.__exit__(None, None, None)


def test_materializing_a_conjugate_view_is_compute() -> None:
    """Attack (hc_conj_negate): conj() of a complex tensor whose imaginary part is x, then resolve_conj()
    (or a clone/copy_ of the conjugate view), is -x computed by ATen from allowed ops only."""
    x = torch.randn(8)
    z = torch.view_as_complex(torch.stack([torch.zeros_like(x), x], dim=-1))
    for materialize in (lambda c: c.resolve_conj(), lambda c: c.clone(), lambda c: torch.empty_like(z).copy_(c)):
        rec, out = _record(lambda m=materialize: torch.view_as_real(m(z.conj())).select(-1, 1))
        assert torch.equal(out, -x)
        assert any("conjugate/negative" in k for k in rec.summary()["host"]), rec.summary()
    rec, _ = _record(lambda: (z.resolve_conj(), z.clone(), z.conj().select(0, 1)))  # no bit set / a view
    assert rec.summary()["host"] == {}, rec.summary()


def test_interpreter_memory_access_only_inside_a_kernel_body() -> None:
    """Attack (hc_grid_fn_compute, hc_interp_ptr_leak): the grid function runs with Triton's language
    patched in and the arguments as pointers, so tl.load/tl.store computed on the host before any program ran;
    addresses leaked by a jit body were read and written from forward with the interpreter's C load/store."""
    import numpy as np
    from triton.runtime import interpreter as it

    from rewards.harness.launch_counter import _confine_interpreter_memory

    rec = OpRecorder()
    _confine_interpreter_memory(rec)
    buf = torch.arange(4, dtype=torch.float32)
    ptrs = np.array([buf.data_ptr() + 4 * i for i in range(4)], dtype=np.uint64)
    mask, other = np.ones(4, dtype=bool), np.zeros(4, dtype=np.float32)
    rec.watching = True
    try:
        with pytest.raises(RuntimeError, match="outside a kernel body"):
            it._interpreter.load(ptrs, mask, other, np.float32)
        rec.kernel_bodies.append(False)  # a launch before its first program: the grid function's turn
        with pytest.raises(RuntimeError, match="outside a kernel body"):
            it._interpreter.store(ptrs, other, mask)
        it.interpreter_builder.set_grid_dim(1, 1, 1)
        it.interpreter_builder.set_grid_idx(0, 0, 0)  # the first program starts
        assert list(it._interpreter.load(ptrs, mask, other, np.float32)) == [0.0, 1.0, 2.0, 3.0]
    finally:
        rec.kernel_bodies.clear()
        rec.watching = False
    assert any("outside a kernel body" in k for k in rec.summary()["refused"])


def test_indices_read_by_tensor_split_count_as_scalar_reads() -> None:
    """Attack (hc_tensor_split_read): tensor_split(x, indices) reads its index tensor inside ATen (no
    _local_scalar_dense) and the pieces' lengths hand every index to Python."""
    from rewards.harness.op_policy import scalar_read_budget

    x = torch.randint(0, 256, (32, 32), dtype=torch.uint8)
    wide = x.view(-1).long()
    dummy = torch.empty(1).expand(1 << 20)
    rec = OpRecorder()
    rec.scalar_budget = scalar_read_budget([x])  # 64 bytes: eight int64 indices
    with torch.no_grad(), rec.modes():
        got = [torch.tensor_split(dummy, wide[i:i + 1])[0].shape[0] for i in range(16)]
    assert got == wide[:16].tolist()
    assert rec.summary()["scalar_bytes"] == 128 and rec.summary()["host"], rec.summary()
    rec.reset()
    with torch.no_grad(), rec.modes():
        torch.tensor_split(dummy, 4)  # sections as a number: nothing read
    assert rec.summary()["scalar_bytes"] == 0
