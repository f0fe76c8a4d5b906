"""The `eval`, `generate` and `release` subcommands. tritonforge/cli.py calls `register(sub)` and then
`args.func(args)`, which returns the exit code: 0 ok, 1 "ran but nothing verified" (generate); bad input
raises a UserError, reported by the caller as one line and exit 2.

Options are the fields of eval/config.py's dataclasses, set by `--config PATH` (YAML) and `--field value`,
the style of every stage (stagekit/options.py). `eval` takes an optional action word first:
    tritonforge eval --model M --suite folder:tasks/ --samples 4 --out runs/eval_base
    tritonforge eval compare runs/eval_base runs/eval_sft runs/eval_grpo --out runs/compare.md
    tritonforge eval selfcheck --suite tritonbench-g:PATH --device cpu --out runs/selfcheck_tbg
"""

from __future__ import annotations

from typing import Any

ACTIONS = ("run", "compare", "selfcheck")


def _classes() -> dict[str, type]:
    from eval import config

    return {"run": config.EvalArguments, "compare": config.CompareArguments, "selfcheck": config.SelfcheckArguments,
            "generate": config.GenerateArguments, "release": config.ReleaseArguments}


def _prog(command: str) -> str:
    """How the command is typed, for help and error lines: `tritonforge eval`, `tritonforge eval compare`, ..."""
    if command in ("generate", "release"):
        return f"tritonforge {command}"
    return "tritonforge eval" + ("" if command == "run" else f" {command}")


# The commands whose verifications may run on a Ray cluster (`--executor ray`).
BATCH_COMMANDS = ("run", "selfcheck")


def _dataclasses(command: str) -> tuple[type, ...]:
    from rewards.executors import ExecutorArguments

    return (_classes()[command], ExecutorArguments) if command in BATCH_COMMANDS else (_classes()[command],)


def _parse(command: str, argv: list[str], leading: str | None = None) -> Any:
    """The options of one command as its dataclass (eval/config.py), in the one style of every stage."""
    return _parse_all(command, argv, leading)[0]


def _parse_all(command: str, argv: list[str], leading: str | None = None) -> tuple[Any, ...]:
    """All option dataclasses of a command: its own, then the executor's for the batch commands."""
    from stagekit.options import parse_config

    return parse_config(_dataclasses(command), argv, prog=_prog(command), leading=leading)


def _split_action(argv: list[str]) -> tuple[str, list[str]]:
    """(action, its options): `eval compare ...`, `eval selfcheck ...`, or a run (`eval [run] --suite ...`)."""
    from eval.records import EvalError

    if not argv or argv[0].startswith("-"):
        return "run", argv
    if argv[0] not in ACTIONS:
        raise EvalError(f"unknown eval action {argv[0]!r}: use `eval --suite ...`, `eval compare DIR...` "
                        "or `eval selfcheck --suite ...`")
    return argv[0], argv[1:]


def _help(command: str) -> None:
    from stagekit.options import print_stage_help

    cls = _classes()[command]
    print_stage_help(_dataclasses(command), _prog(command), description=(cls.__doc__ or "").strip())


# --------------------------------------------------------------------------- eval
def cmd_eval(argv: list[str]) -> int:
    action, rest = _split_action(argv)
    if action == "compare":
        from eval.report import compare

        args = _parse("compare", rest, leading="dirs")
        print(compare(args.dirs, out=args.out))
        return 0
    if action == "selfcheck":
        return cmd_selfcheck(rest)
    from eval.run import run_eval, stderr_progress
    from rewards.executors import using

    args, executor = _parse_all("run", rest)
    with using(executor):
        metrics = run_eval(
            args.model, args.suite, args.out, samples=args.samples, temperature=args.temperature, seed=args.seed,
            backend=args.backend, max_new_tokens=args.max_new_tokens,
            verify_config=args.verify_config(seed=args.seed, compile_baseline=args.compile_baseline),
            prompt_format=args.prompt_format, limit=args.limit, label=args.label, device=args.device,
            hack_rerun=args.hack_rerun, progress=stderr_progress, turns=args.turns,
        )
    from eval.report import benchmark_keys

    # ours first, then the benchmark's own rule (comparable with published numbers; ours is the reward)
    keys = ("exec_accuracy", *benchmark_keys(metrics), "call_accuracy", "pass@1", "fast_1", "hack_rate")
    print(" ".join(f"{k}={metrics[k]:.3f}" if isinstance(metrics.get(k), float) else f"{k}=—" for k in keys))
    if "turns" in metrics:
        from eval.turns import turns_line

        print(turns_line(metrics["turns"]))
    print(f"report: {args.out}/report.md")
    return 0


def cmd_selfcheck(argv: list[str]) -> int:
    """Known-good answers of a benchmark through importer + verifier; table by outcome, `accepted: N/M`."""
    from eval.records import EvalError
    from eval.run import stderr_progress
    from eval.selfcheck import print_table, run_selfcheck
    from rewards.executors import using

    args, executor = _parse_all("selfcheck", argv)
    step = {"n": 0}

    def progress(msg: str) -> None:  # every 10th count, and every message that is not a count
        if "/" in msg and not msg.startswith("verifying"):
            step["n"] += 1
            if step["n"] % 10:
                return
        stderr_progress(msg)

    try:
        with using(executor):
            summary = run_selfcheck(args.suite, args.out,
                                    args.verify_config(strict_rules=args.strict_rules, seed=1),
                                    limit=args.limit, progress=progress)
    except ValueError as e:  # VerifyConfig / device problems (plain ValueError there): one line
        raise EvalError(str(e)) from None
    print(f"report: {args.out}/selfcheck.md")
    print(print_table(summary))
    return 0


# --------------------------------------------------------------------------- generate
def cmd_generate(argv: list[str]) -> int:
    from eval.generate import DEFAULT_INSTRUCTION, run_generate
    from eval.run import EvalSettings, make_backend_for, stderr_progress
    from rewards.contract.task import Task

    args = _parse("generate", argv, leading="reference")
    Task.from_file(args.reference)  # fail on a bad module before loading a model
    config = args.verify_config(seed=args.seed)
    backend = make_backend_for(EvalSettings(model=args.model, suite="-", backend=args.backend), args.device)
    code, _ = run_generate(
        args.reference, backend, out=args.out, report_path=args.report, progress=stderr_progress,
        instruction=args.instruction or DEFAULT_INSTRUCTION, attempts=args.attempts, samples=args.samples,
        temperature=args.temperature, max_new_tokens=args.max_new_tokens, seed=args.seed, config=config,
    )
    return code


# --------------------------------------------------------------------------- release
def cmd_release(argv: list[str]) -> int:
    from eval.release import release

    args = _parse("release", argv)
    out = release(args.model, args.report, args.out, push=args.push, name=args.name)
    print(f"release folder: {out}" + (f" (pushed to {args.push})" if args.push else ""))
    return 0


def register(subparsers: Any) -> None:
    """Add `eval`, `generate` and `release` to the tritonforge CLI."""
    from stagekit.options import add_stage_command

    add_stage_command(subparsers, "eval", help="Benchmark a model (or compare eval folders, or self-check a suite).",
                      run=cmd_eval, show_help=lambda argv: _help(_split_action(argv)[0]), description=__doc__)
    add_stage_command(subparsers, "generate", help="Turn a PyTorch module into a verified Triton kernel.",
                      run=cmd_generate, show_help=lambda argv: _help("generate"))
    add_stage_command(subparsers, "release", help="Write a Hugging Face model folder with a model card.",
                      run=cmd_release, show_help=lambda argv: _help("release"))


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m eval.cli ...`), with tritonforge's dispatch and error handling."""
    from stagekit.options import run_standalone

    return run_standalone(register, argv)


if __name__ == "__main__":
    raise SystemExit(main())
