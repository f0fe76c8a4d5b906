"""`tritonforge bench generate`: rollout tokens/s of HF `generate` against vLLM, best settings of each.

Generation is most of the wall time of GRPO, eval, `generate` and distillation on a CPU. This command
measures both backends in one run on the same prompts, in GRPO's rollout shape (P prompts x n sampled
completions at temperature 1, every completion forced to exactly `max_new_tokens` so both sides count the
same tokens), and ends with the line `speedup_vs_hf: X`.

"Best settings of each": HF's thread count and dtype change its speed several-fold on a shared CPU, so
every candidate setting is first probed with a short run (same batch, few tokens) and only the fastest
is measured in full; vLLM runs with its CPU defaults (bf16, its own thread binding). Engine start-up is
reported apart from tokens/s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from data_pipeline.backends import BackendError, HFBackend, Messages, vllm_available


@dataclass
class Measurement:
    """One backend's result."""

    backend: str
    tokens_per_s: float | None
    tokens: int = 0
    seconds: float = 0.0
    start_s: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def bench_prompts(n_prompts: int, seed: int = 0) -> list[Messages]:
    """Real task prompts (synthesized references in the shared chat format), not filler text."""
    from data_pipeline.synth import synthesize
    from rewards.contract.prompt import prompt_messages

    samples = synthesize(n_prompts, 0, seed=seed)
    return [prompt_messages(s.reference, s.instruction) for s in samples[:n_prompts]]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def timed(backend: Any, prompts: list[Messages], n: int, max_new_tokens: int, temperature: float,
          seed: int) -> tuple[int, float]:
    """(tokens generated, seconds) of one generate call."""
    t0 = time.perf_counter()
    backend.generate(prompts, n=n, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed,
                     ignore_eos=True)
    return int(backend.last_new_tokens), time.perf_counter() - t0


def bench_hf(model: str | None, device: str, prompts: list[Messages], n: int, max_new_tokens: int,
             temperature: float, threads: list[int], dtypes: list[str], probe_tokens: int,
             log: Any) -> Measurement:
    """Probe every (threads, dtype), then measure the fastest in full."""
    batch = len(prompts) * n  # all rollouts of the step in one batch, as GRPO's HF path generates them
    probes: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any]] | None = None
    for dtype in dtypes:
        t0 = time.perf_counter()
        backend = HFBackend(model, device=device, batch_size=batch, dtype=dtype, threads=threads[0])
        start = time.perf_counter() - t0
        for th in threads:
            if device == "cpu":
                import torch

                torch.set_num_threads(th)
            timed(backend, prompts[:1], 1, 4, temperature, 0)  # warm-up
            tok, sec = timed(backend, prompts, n, probe_tokens, temperature, 0)
            rate = tok / sec
            row = {"threads": th, "dtype": dtype, "batch": batch, "tokens_per_s": round(rate, 1)}
            probes.append(row)
            log(f"hf probe: threads={th} dtype={dtype} batch={batch}: {rate:.1f} tok/s ({probe_tokens} tokens)")
            if best is None or rate > best[0]:
                best = (rate, {**row, "start_s": round(start, 1)})
        del backend
        gc.collect()
    assert best is not None
    cfg = best[1]
    backend = HFBackend(model, device=device, batch_size=batch, dtype=cfg["dtype"], threads=cfg["threads"])
    tok, sec = timed(backend, prompts, n, max_new_tokens, temperature, 1)
    del backend
    gc.collect()
    settings = {k: cfg[k] for k in ("threads", "dtype", "batch")}
    return Measurement("hf", tok / sec, tok, sec, cfg["start_s"], settings, probes)


def bench_vllm(model: str | None, device: str, prompts: list[Messages], n: int, max_new_tokens: int,
               temperature: float, enforce_eager: bool) -> Measurement:
    """vLLM with its CPU/GPU defaults; start-up timed apart; one warm-up call before the measured one."""
    if not vllm_available():
        return Measurement("vllm", None, error="vLLM is not importable here: `bash scripts/setup_vllm_cpu.sh`, "
                                               "then run this command with .venv-vllm/bin/tritonforge")
    from data_pipeline.backends import VLLMBackend

    t0 = time.perf_counter()
    try:
        backend = VLLMBackend(model, device=device, enforce_eager=enforce_eager)
    except Exception as e:  # engine start failures are a result to report, not a crash
        return Measurement("vllm", None, error=f"engine did not start: {type(e).__name__}: {e}")
    start = time.perf_counter() - t0
    timed(backend, prompts[:1], 1, 4, temperature, 0)
    tok, sec = timed(backend, prompts, n, max_new_tokens, temperature, 1)
    settings = {"dtype": backend.dtype, "enforce_eager": enforce_eager,
                "kv_cache_gib": os.environ.get("VLLM_CPU_KVCACHE_SPACE") if device == "cpu" else None}
    return Measurement("vllm", tok / sec, tok, sec, start, settings)


def _ints(text: str) -> list[int]:
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise BackendError(f"expected comma-separated integers, got {text!r}") from None
    if not vals or any(v < 1 for v in vals):
        raise BackendError(f"expected positive integers, got {text!r}")
    return vals


def cmd_bench_generate(args: BenchGenerateArguments) -> int:
    from data_pipeline.threads import cpu_count

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    for name in ("prompts", "n", "max_new_tokens", "probe_tokens"):
        if getattr(args, name) < 1:
            raise BackendError(f"--{name} must be >= 1")
    device = args.device
    if device == "auto":
        from data_pipeline.backends import _pick_device

        device = _pick_device("auto")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise BackendError("--device cuda but no CUDA device is visible")
    threads = _ints(args.hf_threads) if args.hf_threads else sorted({1, cpu_count()})
    dtypes = [d.strip() for d in args.hf_dtypes.split(",") if d.strip()]
    bad = [d for d in dtypes if d not in ("float32", "bfloat16", "float16")]
    if bad or not dtypes:
        raise BackendError(f"--hf_dtypes: unknown dtype(s) {bad or args.hf_dtypes!r} (float32, bfloat16, float16)")
    if device == "cuda":
        threads = threads[:1]
    prompts = bench_prompts(args.prompts)
    log(f"[bench] {args.prompts} prompts x {args.n} samples x {args.max_new_tokens} new tokens (temperature "
        f"{args.temperature}: the GRPO rollout shape); device {device}; load average {_load()}")
    results: list[Measurement] = []
    if not args.skip_hf:
        results.append(bench_hf(args.model, device, prompts, args.n, args.max_new_tokens, args.temperature, threads,
                                dtypes, args.probe_tokens, log))
    results.append(bench_vllm(args.model, device, prompts, args.n, args.max_new_tokens, args.temperature,
                              args.enforce_eager))
    log(f"[bench] load average after: {_load()}")
    for m in results:
        if m.tokens_per_s is None:
            print(f"{m.backend}: not measured ({m.error})")
        else:
            shown = ", ".join(f"{k}={v}" for k, v in m.settings.items() if v is not None)
            print(f"{m.backend}: {m.tokens_per_s:.1f} tok/s ({shown}; {m.tokens} tokens in {m.seconds:.1f} s; "
                  f"start-up {m.start_s:.1f} s)")
    by = {m.backend: m for m in results}
    hf, vl = by.get("hf"), by.get("vllm")
    speedup = (vl.tokens_per_s / hf.tokens_per_s) if hf and vl and hf.tokens_per_s and vl.tokens_per_s else None
    if args.out:
        Path(args.out).write_text(json.dumps({"device": device, "prompts": args.prompts, "n": args.n,
                                              "max_new_tokens": args.max_new_tokens, "speedup_vs_hf": speedup,
                                              "results": [asdict(m) for m in results]}, indent=2))
    print(f"speedup_vs_hf: {speedup:.2f}" if speedup is not None else "speedup_vs_hf: n/a")
    return 0 if speedup is not None or args.skip_hf else 1


@dataclass
class BenchGenerateArguments:
    """`tritonforge bench generate`: rollout tokens/s of HF generate vs vLLM (last line speedup_vs_hf)."""

    device: str = field(default="auto", metadata={"help": "auto, cpu or cuda."})
    model: str | None = field(default=None, metadata={"help": "Model folder / hub id (default: the embedded SmolLM2-135M)."})
    prompts: int = field(default=8, metadata={"help": "Prompts (GRPO: prompts per step)."})
    n: int = field(default=4, metadata={"help": "Sampled completions per prompt (GRPO: num_generations)."})
    max_new_tokens: int = field(default=256, metadata={"help": "Tokens generated per completion (exactly)."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    hf_threads: str | None = field(default=None, metadata={"help": "Torch thread counts to probe for HF (default: 1 and all cores)."})
    hf_dtypes: str = field(default="bfloat16,float32", metadata={"help": "Dtypes to probe for HF."})
    probe_tokens: int = field(default=16, metadata={"help": "Tokens per completion in each HF probe."})
    enforce_eager: bool = field(default=False, metadata={
        "help": "vLLM without graph compilation: ~18 s start instead of minutes, ~93% of the speed."})
    skip_hf: bool = field(default=False, metadata={"help": "Only measure vLLM."})
    out: str | None = field(default=None, metadata={"help": "Also write the results as JSON here."})

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise BackendError(f"--device must be auto, cpu or cuda, got {self.device!r}")


def register(bench_sub: argparse._SubParsersAction) -> None:
    """Add `generate` under `tritonforge bench` (options parsed like every stage's: stagekit/options.py)."""
    from stagekit.options import add_stage_command, parse_config, print_stage_help

    prog = "tritonforge bench generate"

    def run(argv: list[str]) -> int:
        (args,) = parse_config((BenchGenerateArguments,), argv, prog=prog)
        return cmd_bench_generate(args)

    def show_help(argv: list[str]) -> None:
        print_stage_help((BenchGenerateArguments,), prog, description=__doc__)

    add_stage_command(bench_sub, "generate", help="rollout tokens/s: HF generate vs vLLM (last line speedup_vs_hf)",
                      run=run, show_help=show_help)
