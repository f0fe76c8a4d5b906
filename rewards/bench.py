"""`tritonforge bench verify`: the engine against one fresh Python process per candidate.

Both sides verify the same N candidates (a mix of correct and failing ones generated here: correct
elementwise kernels, wrong arithmetic, compile errors, runtime errors) with the same parallelism W.
The engine's time includes starting its zygote. The engine also runs once with its runtime op record
switched off, to print what the record costs per candidate. The last line printed is
`speedup_vs_fresh_process: X`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rewards.contract.config import VerifyConfig
from rewards.engine.client import Engine

TASK = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        return x * {a} + y


def get_inputs():
    return [torch.randn({n}), torch.randn({n})]


def get_init_inputs():
    return []
'''

CAND = '''import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def axpy_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, {expr}, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x, y):
        out = torch.empty_like(x)
        n = x.numel()
        axpy_kernel[(triton.cdiv(n, {block}),)](x, y, out, n, BLOCK={block})
        return out
'''

KINDS = ("correct", "correct", "wrong", "compile_error", "runtime_error")


def make_cases(n: int, workdir: Path) -> list[tuple[Path, Path, str]]:
    """N (task file, candidate file, kind) triples, deterministic."""
    cases = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        a = 1 + i % 7
        size = 256 * (1 + i % 4)
        expr = {"correct": f"x * {a} + y", "wrong": f"x * {a} - y", "compile_error": "tl.no_such_op(x) + y",
                "runtime_error": f"x * {a} + y"}[kind]
        cand = CAND.format(expr=expr, block=128 if i % 2 else 256)
        if kind == "runtime_error":
            cand = cand.replace("out = torch.empty_like(x)", "out = torch.empty_like(x)[: n // 2]\n        assert out.numel() == n, 'short buffer'")
        t = workdir / f"task_{i}.py"
        c = workdir / f"cand_{i}.py"
        t.write_text(TASK.format(a=a, n=size))
        c.write_text(cand)
        cases.append((t, c, kind))
    return cases


def run_fresh(cases: list[tuple[Path, Path, str]], workers: int, trials: int, device: str) -> tuple[float, list[str]]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    if device == "cpu":
        env["TRITON_INTERPRET"] = "1"

    def one(case: tuple[Path, Path, str]) -> str:
        p = subprocess.run([sys.executable, "-m", "rewards.fresh_harness", str(case[0]), str(case[1]), str(trials)],
                           capture_output=True, text=True, env=env, timeout=300)
        return (p.stdout.strip().splitlines() or ["fail: no output"])[-1]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as ex:
        out = list(ex.map(one, cases))
    return time.perf_counter() - t0, out


def run_engine(cases: list[tuple[Path, Path, str]], workers: int, trials: int, device: str,
               enforce_runtime: bool = True, compile_target: str = "sm_90") -> tuple[float, list[str]]:
    pairs = [(t.read_text(), c.read_text()) for t, c, _ in cases]
    t0 = time.perf_counter()
    cfg = VerifyConfig(device=device, workers=workers, trials=trials, timeout_s=120, enforce_runtime=enforce_runtime,
                       compile_target=compile_target)
    with Engine(cfg) as eng:
        res = eng.verify_many(pairs)
    return time.perf_counter() - t0, [r.status.value for r in res]


def bench_verify(n: int, workers: int, trials: int, device: str, compile_target: str = "sm_90") -> int:
    dev = VerifyConfig(device=device).resolved_device()
    with tempfile.TemporaryDirectory(prefix="tf-bench-") as d:
        cases = make_cases(n, Path(d))
        print(f"bench verify: n={n} workers={workers} trials={trials} device={dev} cpus={os.cpu_count()} "
              f"compile_target={compile_target if dev == 'cpu' else 'n/a'}", flush=True)
        t_eng, eng = run_engine(cases, workers, trials, dev, compile_target=compile_target)
        ok_eng = sum(s == "ok" for s in eng)
        print(f"engine:        {n / t_eng:8.2f} candidates/s  ({t_eng:.1f}s, {ok_eng} ok)", flush=True)
        if dev == "cpu" and compile_target != "none":
            # what compiling every launched kernel for the GPU target costs (rewards.harness.target_compile)
            t_nc, _ = run_engine(cases, workers, trials, dev, compile_target="none")
            print(f"engine, compile_target none: {n / t_nc:8.2f} candidates/s  ({t_nc:.1f}s)", flush=True)
            print(f"target_compile_cost_ms_per_candidate: {(t_eng - t_nc) / n * 1000.0 * workers:.1f}  "
                  f"(worker-time; {100.0 * (t_eng - t_nc) / t_nc:+.1f}% wall)", flush=True)
        t_off, _ = run_engine(cases, workers, trials, dev, enforce_runtime=False, compile_target=compile_target)
        overhead_ms = (t_eng - t_off) / n * 1000.0 * workers
        print(f"engine, runtime op record off (measurement only): {n / t_off:8.2f} candidates/s  ({t_off:.1f}s)", flush=True)
        print(f"runtime_enforcement_overhead_ms_per_candidate: {overhead_ms:.1f}  "
              f"(worker-time; {100.0 * (t_eng - t_off) / t_off:+.1f}% wall)", flush=True)
        t_fresh, fresh = run_fresh(cases, workers, trials, dev)
        ok_fresh = sum(s == "ok" for s in fresh)
        print(f"fresh process: {n / t_fresh:8.2f} candidates/s  ({t_fresh:.1f}s, {ok_fresh} ok)", flush=True)
        expected = sum(k == "correct" for _, _, k in cases)
        if ok_eng != expected or ok_fresh != expected:
            print(f"warning: expected {expected} correct, engine {ok_eng}, fresh {ok_fresh}", file=sys.stderr)
    print(f"speedup_vs_fresh_process: {t_fresh / t_eng:.2f}")
    return 0
