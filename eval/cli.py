"""The `eval`, `generate` and `release` subcommands. tritonforge/cli.py calls `register(sub)` and then
`args.func(args)`, which returns the exit code: 0 ok, 1 "ran but nothing verified" (generate), 2 bad input.

`eval` takes options for a run and an optional action word, so both of these work:
    tritonforge eval --model M --suite folder:tasks/ --samples 4 --out runs/eval_base
    tritonforge eval compare runs/eval_base runs/eval_sft runs/eval_grpo --out runs/compare.md
    tritonforge eval selfcheck --suite tritonbench-g:PATH --device cpu --out runs/selfcheck_tbg
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input or an unusable environment: one line on stderr, exit 2."""
    from eval.release import ReleaseError
    from eval.run import EvalError
    from eval.suites import SuiteError
    from rewards.task import TaskError

    errors: list[type[BaseException]] = [EvalError, SuiteError, TaskError, ReleaseError, FileNotFoundError]
    try:
        from data_pipeline.backends import BackendError

        errors.append(BackendError)
    except ImportError:  # pragma: no cover - backends not installed
        pass
    return tuple(errors)


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except _user_errors() as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    run.__name__ = fn.__name__
    return run


def _verify_config(args: argparse.Namespace) -> Any:
    from rewards.config import VerifyConfig

    kw: dict[str, Any] = {"device": args.device}
    for name in ("trials", "timeout_s", "workers"):
        if getattr(args, name, None) is not None:
            kw[name] = getattr(args, name)
    if getattr(args, "seed", None) is not None:
        kw["seed"] = args.seed
    if getattr(args, "compile_baseline", False):
        kw["compile_baseline"] = True
    try:
        return VerifyConfig(**kw)
    except ValueError as e:
        from eval.run import EvalError

        raise EvalError(str(e)) from None


def _add_gen_options(p: argparse.ArgumentParser, samples: int, temperature: float, max_new: int) -> None:
    p.add_argument("--model", default=None, help="HF folder / hub id / served name (default: embedded SmolLM2).")
    p.add_argument("--backend", choices=("auto", "hf", "vllm", "openai"), default="auto",
                   help="Generation backend; auto: vLLM when installed (CPU or GPU build), else HF generate.")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="Where generation and kernels run.")
    p.add_argument("--samples", type=int, default=samples, help="Samples per task / per turn.")
    p.add_argument("--temperature", type=float, default=temperature, help="Sampling temperature (0 = greedy).")
    p.add_argument("--max-new-tokens", type=int, default=max_new, help="Generation limit per completion.")
    p.add_argument("--seed", type=int, default=0, help="Seed of sampling and of the verifier's input draws.")
    p.add_argument("--trials", type=int, default=None, help="Random input sets per candidate (verifier).")
    p.add_argument("--timeout-s", dest="timeout_s", type=float, default=None, help="Wall-clock limit per candidate.")
    p.add_argument("--workers", type=int, default=None, help="Candidates verified in parallel.")


# --------------------------------------------------------------------------- eval
def cmd_eval(args: argparse.Namespace) -> int:
    from eval.run import EvalError, run_eval, stderr_progress

    action = args.action[0] if args.action else "run"
    if action == "compare":
        from eval.report import compare

        dirs = args.action[1:]
        if not dirs:
            raise EvalError("eval compare needs one or more eval folders: tritonforge eval compare DIR1 DIR2 ...")
        print(compare(dirs, out=args.out))
        return 0
    if action == "selfcheck":
        return cmd_selfcheck(args)
    if action != "run" or args.action[1:]:
        raise EvalError(f"unknown eval action {' '.join(args.action)!r}: use `eval --suite ...`, `eval compare DIR...` "
                        "or `eval selfcheck --suite ...`")
    if not args.suite or not args.out:
        raise EvalError("eval needs --suite SUITE and --out DIR (or: eval compare DIR1 DIR2 ...)")
    metrics = run_eval(
        args.model, args.suite, args.out, samples=args.samples, temperature=args.temperature, seed=args.seed,
        backend=args.backend, max_new_tokens=args.max_new_tokens, verify_config=_verify_config(args),
        prompt_format=args.prompt_format, limit=args.limit, label=args.label, device=args.device,
        hack_rerun=not args.no_hack_rerun, progress=stderr_progress,
    )
    keys = ("exec_accuracy", "call_accuracy", "pass@1", "fast_1", "hack_rate")
    print(" ".join(f"{k}={metrics[k]:.3f}" if isinstance(metrics.get(k), float) else f"{k}=—" for k in keys))
    print(f"report: {args.out}/report.md")
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    """Known-good answers of a benchmark through importer + verifier; table by outcome, `accepted: N/M`."""
    from eval.run import EvalError, stderr_progress
    from eval.selfcheck import print_table, run_selfcheck

    if args.action[1:]:
        raise EvalError("eval selfcheck takes no positional arguments: eval selfcheck --suite SUITE --out DIR")
    if not args.suite or not args.out:
        raise EvalError("eval selfcheck needs --suite SUITE and --out DIR")
    step = {"n": 0}

    def progress(msg: str) -> None:  # every 10th count, and every message that is not a count
        if "/" in msg and not msg.startswith("verifying"):
            step["n"] += 1
            if step["n"] % 10:
                return
        stderr_progress(msg)

    try:
        summary = run_selfcheck(
            args.suite, args.out, device=args.device, trials=args.trials or 1, timeout_s=args.timeout_s or 120.0,
            workers=args.workers, strict_rules=not args.no_strict_rules, limit=args.limit, progress=progress)
    except ValueError as e:  # VerifyConfig / device problems: one line
        raise EvalError(str(e)) from None
    print(f"report: {args.out}/selfcheck.md")
    print(print_table(summary))
    return 0


# --------------------------------------------------------------------------- generate
def cmd_generate(args: argparse.Namespace) -> int:
    from eval.generate import DEFAULT_INSTRUCTION, run_generate
    from eval.run import EvalError, EvalSettings, make_backend_for, stderr_progress
    from rewards.task import Task

    if args.attempts < 1 or args.samples < 1:
        raise EvalError("--attempts and --samples must be >= 1")
    Task.from_file(args.reference)  # fail on a bad module before loading a model
    config = _verify_config(args)
    backend = make_backend_for(EvalSettings(model=args.model, suite="-", backend=args.backend), args.device)
    code, _ = run_generate(
        args.reference, backend, out=args.out, report_path=args.report, progress=stderr_progress,
        instruction=args.instruction or DEFAULT_INSTRUCTION, attempts=args.attempts, samples=args.samples,
        temperature=args.temperature, max_new_tokens=args.max_new_tokens, seed=args.seed, config=config,
    )
    return code


# --------------------------------------------------------------------------- release
def cmd_release(args: argparse.Namespace) -> int:
    from eval.release import release

    reports = [d for group in (args.report or []) for d in group]
    out = release(args.model, reports, args.out, push=args.push, name=args.name)
    print(f"release folder: {out}" + (f" (pushed to {args.push})" if args.push else ""))
    return 0


def register(subparsers: Any) -> None:
    """Add `eval`, `generate` and `release` to the tritonforge CLI."""
    p = subparsers.add_parser("eval", help="Benchmark a model (or compare eval folders).",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", nargs="*", help="Empty to run an eval; `compare DIR1 DIR2 ...` to compare runs; "
                   "`selfcheck` to run a benchmark's known-good answers through importer + verifier.")
    p.add_argument("--suite", help="heldout:DIR | kernelbench:PATH[:1-3] | tritonbench-t:PATH | tritonbench-g:PATH | folder:PATH")
    p.add_argument("--out", help="Eval folder (run) or Markdown file (compare; a PNG is written beside it).")
    p.add_argument("--prompt-format", choices=("default", "tritonbench"), default=None,
                   help="TritonBench suites default to their own instruction texts; `default` uses ours.")
    p.add_argument("--limit", type=int, default=None, help="Only the first N tasks of the suite.")
    p.add_argument("--label", default=None, help="Name of this model in reports and comparisons.")
    p.add_argument("--compile-baseline", action="store_true",
                   help="GPU: also time torch.compile(Model) and report the geomean speedup over it.")
    p.add_argument("--no-hack-rerun", action="store_true", help="Skip re-verifying rule-gated samples without the gate.")
    p.add_argument("--no-strict-rules", action="store_true",
                   help="selfcheck: run shipped solutions even when a static rule objects (findings still listed).")
    _add_gen_options(p, samples=1, temperature=0.0, max_new=1024)
    p.set_defaults(func=_guard(cmd_eval))

    g = subparsers.add_parser("generate", help="Turn a PyTorch module into a verified Triton kernel.")
    g.add_argument("reference", help="Python file with class Model, get_inputs() and get_init_inputs().")
    g.add_argument("--attempts", type=int, default=3, help="Turns of generate -> verify -> feedback.")
    g.add_argument("--out", default=None, help="Where to write the kernel (default: REFERENCE_triton.py).")
    g.add_argument("--report", default=None, help="Also write a JSON report of every attempt here.")
    g.add_argument("--instruction", default=None, help="Instruction sentence for the prompt.")
    _add_gen_options(g, samples=4, temperature=0.7, max_new=2048)
    g.set_defaults(func=_guard(cmd_generate))

    r = subparsers.add_parser("release", help="Write a Hugging Face model folder with a model card.")
    r.add_argument("--model", required=True, help="Checkpoint folder (full model or PEFT adapter).")
    r.add_argument("--report", nargs="+", action="append", help="Eval folder(s) whose table goes in the card.")
    r.add_argument("--out", required=True, help="Release folder to write (replaced atomically).")
    r.add_argument("--push", default=None, help="Hub repo id to upload to (only when given).")
    r.add_argument("--name", default=None, help="Model name in the card (default: the folder name).")
    r.set_defaults(func=_guard(cmd_release))


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (python -m eval.cli ...), mirroring how tritonforge/cli.py dispatches."""
    parser = argparse.ArgumentParser(prog="tritonforge")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
