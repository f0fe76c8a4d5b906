"""`tritonforge verify` and `tritonforge bench verify`.

Options use the one spelling of every stage (HF/TRL style, underscores): the verifier's knobs are
`--verify_trials`, `--verify_timeout_s`, `--verify_workers`, as in data recipes, GRPO recipes and eval.
Bad input raises a UserError; `tritonforge` reports it as one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rewards.config import VerifyConfig
from rewards.errors import ConfigError, UserError
from rewards.executors.options import add_executor_options
from rewards.task import TaskError, check_reference


def add_option(parser: argparse.ArgumentParser, name: str, *, legacy: tuple[str, ...] = (), **kw: Any) -> None:
    """`--name` as HfArgumentParser spells it (`--na-me` accepted too), plus retired spellings kept hidden.

    For the argparse-only commands (verify, bench), so that their options read like every stage's.
    """
    flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
    parser.add_argument(*flags, dest=name, **kw)
    hidden = {k: v for k, v in kw.items() if k not in ("default", "help")}
    for old in legacy:
        parser.add_argument(old, dest=name, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **hidden)


def _config(args: argparse.Namespace) -> VerifyConfig:
    try:
        return VerifyConfig(device=args.device, trials=args.verify_trials, timeout_s=args.verify_timeout_s,
                            reference_timeout_s=args.verify_reference_timeout_s,
                            workers=args.verify_workers, strict_rules=args.strict_rules,
                            compile_target=getattr(args, "compile_target", VerifyConfig().compile_target))
    except UserError:
        raise
    except ValueError as e:  # VerifyConfig's range checks name its own fields
        raise ConfigError(f"verify: {e}") from None


def _read(path: str, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise TaskError(f"{path}: no such {what} file")
    try:
        return p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise TaskError(f"{path}: cannot read {what} file: {e}") from None


def _read_task(path: str, cpu_size: bool = False) -> str:
    """A task file's reference; with `cpu_size`, at the reduced sizes `eval --device cpu` runs KernelBench at
    (`rewards.task_sizes.scale_kernelbench`; the reference's first line then names every change)."""
    text = _read(path, "task")
    check_reference(text, where=path)
    if cpu_size:
        from rewards.task_sizes import scale_kernelbench

        (scaled,) = scale_kernelbench([text])
        print(f"[verify] {path}: {scaled.describe()}", file=sys.stderr)
        text = scaled.source
    return text


def cmd_verify(args: argparse.Namespace) -> int:
    from rewards.engine import Engine

    cfg = _config(args)
    cfg.resolved_device()  # fail now, with one line, if --device cuda cannot be honoured
    if args.batch:
        if not args.out:
            raise TaskError("--batch needs --out RESULTS.jsonl")
        pairs = []
        for n, line in enumerate(_read(args.batch, "batch").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                pairs.append((_read_task(row["task"], args.kernelbench_cpu_size), _read(row["candidate"], "candidate")))
            except UserError:
                raise
            except (ValueError, KeyError, TypeError) as e:
                raise TaskError(f"{args.batch}:{n}: need {{\"task\": path, \"candidate\": path}} ({e})") from None
    else:
        if not args.task or not args.candidate:
            raise TaskError("verify needs TASK.py CANDIDATE.py (or --batch PAIRS.jsonl --out RESULTS.jsonl)")
        pairs = [(_read_task(args.task, args.kernelbench_cpu_size), _read(args.candidate, "candidate"))]

    def progress(done: int, total: int) -> None:
        if args.batch:
            print(f"\r[verify] {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    if args.batch:
        from rewards.executors import using
        from rewards.executors.options import executor_arguments

        with using(executor_arguments(args)) as executor:
            results = executor.verify_batch(pairs, cfg, progress)
    else:
        with Engine(cfg) as eng:
            results = eng.verify_many(pairs, progress)
    if args.batch:
        tmp = Path(args.out + ".partial")
        tmp.write_text("".join(r.to_json() + "\n" for r in results))
        tmp.replace(args.out)
        ok = sum(r.correct for r in results)
        print(f"[verify] {ok}/{len(results)} correct -> {args.out}", file=sys.stderr)
    else:
        print(results[0].to_json())
    return 0


def cmd_bench_verify(args: argparse.Namespace) -> int:
    if args.executor != "local":
        from rewards.executors.bench import bench_executors
        from rewards.executors.options import executor_arguments

        return bench_executors(args.n, args.verify_workers, args.verify_trials, args.device, executor_arguments(args))
    from rewards.bench import bench_verify

    return bench_verify(args.n, args.verify_workers, args.verify_trials, args.device, args.compile_target)


def register(sub: argparse._SubParsersAction, bench_sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify a Triton candidate against a PyTorch reference (prints JSON)")
    p.add_argument("task", nargs="?", help="KernelBench-style reference file (class Model, get_inputs)")
    p.add_argument("candidate", nargs="?", help="candidate file: code with class ModelNew, or a raw completion")
    p.add_argument("--batch", help="JSONL of {\"task\": path, \"candidate\": path}")
    p.add_argument("--out", help="with --batch: results JSONL, same order")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    add_option(p, "verify_trials", legacy=("--trials",), type=int, default=3, help="random input sets per candidate")
    add_option(p, "verify_timeout_s", legacy=("--timeout",), type=float, default=60.0,
               help="seconds per candidate, counted from the candidate's own start (the reference's time is not)")
    add_option(p, "verify_reference_timeout_s", type=float, default=None,
               help="seconds the task's reference may take to draw inputs and run itself and its float64 shadow "
                    "(default: twice --verify_timeout_s)")
    p.add_argument("--kernelbench_cpu_size", "--kernelbench-cpu-size", action="store_true",
                   help="run a KernelBench task at the reduced sizes `eval --device cpu` uses: module-level size "
                        "constants (integers >= 32) halved, largest first, until inputs + parameters + outputs fit "
                        "4M elements; the changes are printed on stderr and head the reference")
    add_option(p, "verify_workers", legacy=("--workers",), type=int, default=VerifyConfig().workers,
               help="candidates verified in parallel")
    p.add_argument("--compile_target", "--compile-target", default=VerifyConfig().compile_target,
                   help="on CPU, NVIDIA target every launched kernel is also compiled for (none: off)")
    p.add_argument("--no_strict_rules", "--no-strict-rules", dest="strict_rules", action="store_false",
                   help="execute even with fatal static findings")
    add_executor_options(p)  # with --batch
    p.set_defaults(func=cmd_verify)

    b = bench_sub.add_parser("verify", help="engine vs one fresh python process per candidate")
    b.add_argument("--n", type=int, default=40)
    add_option(b, "verify_workers", legacy=("--workers",), type=int, default=VerifyConfig().workers)
    add_option(b, "verify_trials", legacy=("--trials",), type=int, default=3)
    b.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    b.add_argument("--compile_target", "--compile-target", default=VerifyConfig().compile_target,
                   help="on CPU, NVIDIA target every launched kernel is also compiled for (none: off)")
    add_executor_options(b)  # ray: the local engine and the Ray executor, same cases, same run
    b.set_defaults(func=cmd_bench_verify)
