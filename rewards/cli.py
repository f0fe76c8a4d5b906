"""`tritonforge verify` and `tritonforge bench verify`.

Options are dataclass fields parsed like every stage's (stagekit/options.py): the verifier's knobs are
`VerifyArguments` (`--verify_device`, `--verify_trials`, `--verify_timeout_s`, `--verify_workers`, ...), the
same options as `data build`, `grpo` and `eval`. Bad input raises a UserError; `tritonforge` reports it as one
line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewards.contract.arguments import VerifyArguments
from rewards.contract.config import VerifyConfig
from rewards.contract.task import TaskError, check_reference
from rewards.executors.options import ExecutorArguments
from stagekit.errors import UserError

_COMPILE_TARGET_HELP = VerifyConfig.__dataclass_fields__["compile_target"].metadata


@dataclass
class VerifyCommandArguments(VerifyArguments):
    """`tritonforge verify TASK.py CANDIDATE.py` or `--batch PAIRS.jsonl --out RESULTS.jsonl`: prints JSON."""

    files: list[str] = field(default_factory=list, metadata={
        "help": "TASK.py (KernelBench-style reference) then CANDIDATE.py (code with class ModelNew, or a raw "
                "completion); may be given first, without the option name."})
    batch: str | None = field(default=None, metadata={"help": "JSONL of {\"task\": path, \"candidate\": path}."})
    out: str | None = field(default=None, metadata={"help": "With --batch: results JSONL, same order."})
    kernelbench_cpu_size: bool = field(default=False, metadata={
        "help": "Run a KernelBench task at the reduced sizes `eval --device cpu` uses: module-level size constants "
                "(integers >= 32) halved, largest first, until inputs + parameters + outputs fit 4M elements; the "
                "changes are printed on stderr and head the reference."})
    compile_target: str = field(default=VerifyConfig.compile_target, metadata=dict(_COMPILE_TARGET_HELP))
    strict_rules: bool = field(default=True, metadata={
        "help": "Fatal static findings stop a candidate before it runs (--strict_rules false: execute anyway)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.verify_config(compile_target=self.compile_target)  # a bad target fails here, as one line


@dataclass
class BenchVerifyArguments(VerifyArguments):
    """`tritonforge bench verify`: the engine against one fresh Python process per candidate, same candidates."""

    n: int = field(default=40, metadata={"help": "Candidates verified by each side."})
    compile_target: str = field(default=VerifyConfig.compile_target, metadata=dict(_COMPILE_TARGET_HELP))


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
    (`rewards.oracle.task_sizes.scale_kernelbench`; the reference's first line then names every change)."""
    text = _read(path, "task")
    check_reference(text, where=path)
    if cpu_size:
        from rewards.oracle.task_sizes import scale_kernelbench

        (scaled,) = scale_kernelbench([text])
        print(f"[verify] {path}: {scaled.describe()}", file=sys.stderr)
        text = scaled.source
    return text


def cmd_verify(args: VerifyCommandArguments, executor: ExecutorArguments) -> int:
    from rewards.engine.client import Engine

    cfg = args.verify_config(strict_rules=args.strict_rules, compile_target=args.compile_target)
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
        if len(args.files) != 2:
            raise TaskError("verify needs TASK.py CANDIDATE.py (or --batch PAIRS.jsonl --out RESULTS.jsonl)")
        task, candidate = args.files
        pairs = [(_read_task(task, args.kernelbench_cpu_size), _read(candidate, "candidate"))]

    def progress(done: int, total: int) -> None:
        if args.batch:
            print(f"\r[verify] {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    if args.batch:
        from rewards.executors import using

        with using(executor) as ex:
            results = ex.verify_batch(pairs, cfg, progress)
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


def cmd_bench_verify(args: BenchVerifyArguments, executor: ExecutorArguments) -> int:
    cfg = args.verify_config(compile_target=args.compile_target)
    if executor.executor != "local":
        from rewards.bench_executors import bench_executors

        return bench_executors(args.n, cfg.workers, cfg.trials, cfg.device, executor)
    from rewards.bench import bench_verify

    return bench_verify(args.n, cfg.workers, cfg.trials, cfg.device, cfg.compile_target)


def _command(cls: type, prog: str, run: Any, leading: str | None = None) -> tuple[Any, Any]:
    """(run(argv), show_help(argv)) of a command configured by `cls` plus where it verifies
    (`ExecutorArguments`: `--batch` and `bench verify` may run on a Ray cluster)."""
    from stagekit.options import parse_config, print_stage_help

    classes = (cls, ExecutorArguments)

    def main(argv: list[str]) -> int:
        args, executor = parse_config(classes, argv, prog=prog, leading=leading)
        return run(args, executor)

    def show_help(argv: list[str]) -> None:
        print_stage_help(classes, prog, description=(cls.__doc__ or "").strip())

    return main, show_help


def register(sub: argparse._SubParsersAction, bench_sub: argparse._SubParsersAction) -> None:
    from stagekit.options import add_stage_command

    run, show = _command(VerifyCommandArguments, "tritonforge verify", cmd_verify, leading="files")
    add_stage_command(sub, "verify", help="verify a Triton candidate against a PyTorch reference (prints JSON)",
                      run=run, show_help=show)
    run, show = _command(BenchVerifyArguments, "tritonforge bench verify", cmd_bench_verify)
    add_stage_command(bench_sub, "verify", help="engine vs one fresh python process per candidate",
                      run=run, show_help=show)
