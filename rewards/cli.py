"""`tritonforge verify` and `tritonforge bench verify`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewards.config import VerifyConfig
from rewards.task import TaskError, check_reference


def _config(args: argparse.Namespace) -> VerifyConfig:
    return VerifyConfig(device=args.device, trials=args.trials, timeout_s=args.timeout, workers=args.workers,
                        strict_rules=not args.no_strict_rules)


def _read_task(path: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise TaskError(f"{path}: no such task file")
    text = p.read_text()
    check_reference(text, where=path)
    return text


def _read_candidate(path: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise TaskError(f"{path}: no such candidate file")
    return p.read_text()


def cmd_verify(args: argparse.Namespace) -> int:
    from rewards.engine import Engine

    try:
        cfg = _config(args)
        cfg.resolved_device()  # fail now, with one line, if --device cuda cannot be honoured
        if args.batch:
            if not args.out:
                raise TaskError("--batch needs --out RESULTS.jsonl")
            pairs = []
            for n, line in enumerate(Path(args.batch).read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    pairs.append((_read_task(row["task"]), _read_candidate(row["candidate"])))
                except (ValueError, KeyError, TypeError) as e:
                    raise TaskError(f"{args.batch}:{n}: need {{\"task\": path, \"candidate\": path}} ({e})") from None
        else:
            if not args.task or not args.candidate:
                raise TaskError("verify needs TASK.py CANDIDATE.py (or --batch PAIRS.jsonl --out RESULTS.jsonl)")
            pairs = [(_read_task(args.task), _read_candidate(args.candidate))]
    except (TaskError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        if args.batch:
            print(f"\r[verify] {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

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
    from rewards.bench import bench_verify
    from rewards.config import DeviceUnavailable

    try:
        return bench_verify(args.n, args.workers, args.trials, args.device)
    except DeviceUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def register(sub: argparse._SubParsersAction, bench_sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="verify a Triton candidate against a PyTorch reference (prints JSON)")
    p.add_argument("task", nargs="?", help="KernelBench-style reference file (class Model, get_inputs)")
    p.add_argument("candidate", nargs="?", help="candidate file: code with class ModelNew, or a raw completion")
    p.add_argument("--batch", help="JSONL of {\"task\": path, \"candidate\": path}")
    p.add_argument("--out", help="with --batch: results JSONL, same order")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per candidate")
    p.add_argument("--workers", type=int, default=VerifyConfig().workers)
    p.add_argument("--no-strict-rules", action="store_true", help="execute even with fatal static findings")
    p.set_defaults(func=cmd_verify)

    b = bench_sub.add_parser("verify", help="engine vs one fresh python process per candidate")
    b.add_argument("--n", type=int, default=40)
    b.add_argument("--workers", type=int, default=VerifyConfig().workers)
    b.add_argument("--trials", type=int, default=3)
    b.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    b.set_defaults(func=cmd_bench_verify)
