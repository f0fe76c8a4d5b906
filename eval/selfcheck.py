"""`tritonforge eval selfcheck`: does this benchmark checkout work with our importer and judge?

Why: a benchmark number is only as good as the path that produces it. Before trusting a new checkout
(or a change to the importer, the oracle or the sandbox), run every task's *known-good* answer through
exactly the path a model's answer takes (importer -> harness -> static rules -> sandboxed verify) and
see how many are accepted. Every task that is not gets an outcome and a reason, so the gap is a list of
concrete causes, not a silent drop in the denominator.

The known-good answer is the benchmark's shipped solution where it has one (TritonBench-G: its Triton
code; a user folder: `<task>_solution.py`), else the reference itself as a candidate (KernelBench,
TritonBench-T: `ModelNew = Model` / the reference's functions), which is run with the static rules off,
since a PyTorch reference is not meant to pass the "write Triton" rules.

Outcomes (`OUTCOMES`):
    accepted            verified ok
    rule_rejected       a static rule stopped it (a false rejection when the answer is the shipped one)
    unsupported_on_cpu  the Triton CPU interpreter cannot run a construct it uses (kept out of accuracy)
    unsupported_triton  the installed Triton lacks an API the code uses (`tl.make_block_ptr` was removed in
                        Triton 3.x, `triton.ops` too): not judgeable with this Triton on any device
    nondeterministic    the reference differs run to run (random ops, or flagged by the judge): excluded
    uninformative       the oracle accepts a trivial answer (outputs all zeros, a constant, an input passed
                        through) on every trial (flagged by the judge's probe): any bug that yields it passes;
                        excluded
    compares_nothing    the reference yields no value to compare: it would accept anything; excluded
    reference_failed    the reference itself does not run here
    mismatch            ran, values differ (the oracle or the conversion is wrong for this task)
    candidate_failed    the known-good answer raised / did not compile in the candidate process
    timeout             past the time limit (the answer's, or the reference's own: `reference_timeout_s`)
    excluded            the importer could not turn the file into a task (reason from the importer)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from eval.suites import EvalItem, load_suite_full
from rewards.contract.config import VerifyConfig
from rewards.contract.types import Status, VerifyResult
from stagekit.journal import Journal

OUTCOMES = ("accepted", "rule_rejected", "unsupported_on_cpu", "unsupported_triton", "nondeterministic", "uninformative",
            "compares_nothing", "reference_failed", "mismatch", "candidate_failed", "timeout", "excluded")
# Outcomes that say the task cannot be judged here: reports keep these out of accuracy denominators.
NOT_JUDGEABLE = ("unsupported_on_cpu", "unsupported_triton", "nondeterministic", "uninformative", "compares_nothing",
                 "excluded")

_UNSUPPORTED = re.compile(
    r"not supported (in interpreter mode|under the CPU interpreter)|UnsupportedOnCPU|active drivers|"
    r"Torch not compiled with CUDA|No CUDA GPUs|CUDA driver|found no NVIDIA driver|cuda.*is not available|"
    r"inline_asm|TensorDescriptor|\btma\b|torch/cuda/__init__|Expected a cuda device|"
    r"not implemented on the CPU|"
    r"assert [\w.]*is_cuda|is_cuda\b.*AssertionError", re.I)
_OLD_TRITON_API = re.compile(r"Block pointers have been removed|No module named 'triton\.ops'|"
                             r"cannot import name '\w+' from 'triton")
# Random ops in the benchmark's code: a mismatch of the code against itself is then run-to-run variation.
_RANDOM = re.compile(r"\btl\.(rand|randn|randint|randint4x)\b|philox|dropout|\btorch\.(rand|randn|randint|"
                     r"bernoulli|binomial|multinomial|randperm|normal|poisson)\b|\.(uniform_|normal_|bernoulli_|exponential_)\(|"
                     r"fractional_max_pool|torch\.distributions|\bBinomial\b|\.sample\(")


@dataclass(frozen=True)
class Check:
    """The outcome for one benchmark file."""

    task_id: str
    outcome: str
    reason: str = ""
    answer: str = ""  # "shipped solution" | "reference as candidate" | ""
    size: str = ""  # KernelBench on CPU: what was reduced
    backward: str = ""  # TritonBench: "yes" when gradients are compared, else "forward only"
    status: str = ""
    rules: tuple[str, ...] = ()
    seconds: float | None = None  # the verifier's wall time for this answer (where a time budget goes)


def _last_line(log: str) -> str:
    lines = [ln.strip() for ln in (log or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Interrupt|Failure)\b|^[\w.]*Error:", ln):
            return ln[:300]
    return (lines[-1] if lines else "")[:300]


def _own_code(code: str) -> str:
    """The part of an answer that runs per call: without the judge's harness (whose recorded test draws
    random inputs) and without a reference's `get_inputs` (which does too)."""
    import ast

    code = code.split("# ---- TritonBench harness")[0]
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in ("get_inputs", "get_init_inputs"))]
    return ast.unparse(tree)


def classify(res: VerifyResult, code: str = "") -> tuple[str, str]:
    """(outcome, reason) of one verdict on a known-good answer. `code`: the answer, for random-op hints."""
    extra = dict(res.extra)
    log = res.log or ""
    if extra.get("reference_nondeterministic"):
        return "nondeterministic", "the reference differs between two runs on the same inputs (judge)"
    if extra.get("uninformative"):
        return "uninformative", str(extra["uninformative"])
    if res.status is Status.OK:
        return "accepted", ""
    if res.status is Status.RULE_VIOLATION:
        fatal = [f for f in res.rule_findings if f.fatal]
        return "rule_rejected", "; ".join(f"{f.rule}: {f.message}" for f in fatal)[:400]
    if "compares nothing" in log or "nothing to compare" in (log + (res.log or "")):
        return "compares_nothing", "the test yields no value to compare"
    if _OLD_TRITON_API.search(log):
        return "unsupported_triton", _last_line(log)
    if res.device != "cuda" and _UNSUPPORTED.search(log):  # on a GPU a CUDA error is the code's own failure
        return "unsupported_on_cpu", _last_line(log)
    if res.status is Status.INFRA_ERROR:
        if re.search(r"reference process ran past (its|twice the) time limit", log):
            return "timeout", ("the reference itself ran past its time limit (killed); raise --verify_timeout_s "
                               "(the reference gets twice it)")
        if re.search(r"reference process was killed by (SIGKILL|signal 9)", log):
            return "reference_failed", ("the reference was killed (SIGKILL) before its time limit: out of memory? "
                                        "try fewer --verify_workers")
        if "reference process" in log or "Traceback" in log:
            return "reference_failed", _last_line(log)
        return "reference_failed", log.strip().splitlines()[0][:300] if log.strip() else "sandbox failure"
    if res.status is Status.TIMEOUT:
        return "timeout", log.strip().splitlines()[0][:200] if log.strip() else "time limit"
    if res.status is Status.MISMATCH:
        if _RANDOM.search(_own_code(code)):
            return "nondeterministic", "random ops in the code; its own output differs run to run: " + _last_line(log)[:200]
        return "mismatch", _last_line(log)
    return "candidate_failed", f"{res.status.value}: {_last_line(log)}"


def _answer(item: EvalItem) -> tuple[str | None, str]:
    if item.solution:
        return item.solution, "shipped solution"
    if item.self_candidate:
        return item.self_candidate, "reference as candidate"
    if item.harness is None:
        return item.task.reference.rstrip("\n") + "\n\n\nModelNew = Model\n", "reference as candidate"
    return None, ""


def run_selfcheck(spec: str, out_dir: str | Path, config: VerifyConfig, limit: int | None = None,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run every task's known-good answer through importer + verifier; write selfcheck.{jsonl,md,json}.

    `config` is the verifier's settings as the command line resolved them (`SelfcheckArguments`)."""
    from rewards.executors import verify_batch

    strict_rules, trials = config.strict_rules, config.trials
    run_device = config.resolved_device()
    loaded = load_suite_full(spec, limit=limit, device=run_device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    checks: list[Check] = [Check(e.task_id, "excluded", e.reason) for e in loaded.excluded]
    shipped, own = [], []
    for it in loaded.items:
        code, kind = _answer(it)
        if code is None:
            checks.append(Check(it.task_id, "excluded", "no known-good answer to check"))
        else:
            (shipped if kind == "shipped solution" else own).append((it, code, kind))
    # Resumable: each answer's check is appended to a journal as soon as the engine judges it (one batch, so
    # the workers never wait for a slow neighbour); a rerun with the same suite, device and rules skips the
    # tasks already there, so a kill loses only the answers that were in flight.
    journal = out / "selfcheck.partial.jsonl"
    key = {"suite": spec, "device": run_device, "strict_rules": strict_rules, "trials": trials}
    done = _read_journal(journal, key)
    seen = {c.task_id for c in checks}
    checks += [done[t] for t in sorted(done) if t not in seen]
    for batch, cfg in ((shipped, config), (own, replace(config, strict_rules=False))):
        todo = [b for b in batch if b[0].task_id not in done]
        if not todo:
            continue
        if progress:
            what = "shipped solutions" if batch is shipped else "references as candidates"
            progress(f"verifying {len(todo)} {what}" + (f" ({len(batch) - len(todo)} done earlier)" if len(todo) < len(batch) else ""))

        def judged(i: int, res: VerifyResult, todo: list[tuple[EvalItem, str, str]] = todo) -> None:
            it, code, kind = todo[i]
            outcome, reason = classify(res, code)
            check = Check(it.task_id, outcome, reason, kind, it.meta.get("size", ""), it.meta.get("backward", ""),
                          res.status.value, tuple(f.rule for f in res.rule_findings if f.fatal),
                          round(res.wall_s, 1) if res.wall_s is not None else None)
            _append_journal(journal, key, [check])  # one line per answer, as soon as it is judged
            checks.append(check)

        verify_batch([(it.task.reference, code) for it, code, _ in todo], cfg,
                     progress=(lambda d, n: progress(f"{d}/{n}")) if progress else None, on_result=judged)
    order = {c: i for i, c in enumerate(OUTCOMES)}
    checks.sort(key=lambda c: (order.get(c.outcome, 99), c.task_id))
    counts = Counter(c.outcome for c in checks)
    total = len(checks)
    judged = total - sum(counts[o] for o in NOT_JUDGEABLE)
    summary = {
        "suite": spec, "device": run_device, "trials": trials, "strict_rules": strict_rules,
        "files": total, "imported": len(loaded.items), "excluded_at_import": len(loaded.excluded),
        "judgeable": judged, "accepted": counts["accepted"], "by_outcome": {o: counts[o] for o in OUTCOMES if counts[o]},
    }
    with (out / "selfcheck.jsonl").open("w") as f:
        for c in checks:
            f.write(json.dumps(asdict(c), sort_keys=True) + "\n")
    (out / "selfcheck.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
    (out / "selfcheck.md").write_text(markdown(summary, checks))
    journal.unlink(missing_ok=True)
    return summary


def _read_journal(path: Path, key: dict[str, Any]) -> dict[str, Check]:
    """Checks of an interrupted run with the same settings (anything else in the journal is ignored)."""
    done: dict[str, Check] = {}
    for row in Journal(path).rows():
        if row.pop("key", None) != key:
            continue
        row["rules"] = tuple(row.get("rules", ()))
        done[row["task_id"]] = Check(**row)
    return done


def _append_journal(path: Path, key: dict[str, Any], checks: list[Check]) -> None:
    Journal(path).append({**asdict(c), "key": key} for c in checks)


def markdown(summary: dict[str, Any], checks: list[Check]) -> str:
    """The table by outcome, with a reason per task."""
    lines = [f"# selfcheck: {summary['suite']}", "",
             f"device {summary['device']}, trials {summary['trials']}, static rules "
             f"{'strict' if summary['strict_rules'] else 'off (findings recorded only)'}", "",
             f"- files in the checkout: {summary['files']}",
             f"- imported (runnable): {summary['imported']}; excluded at import: {summary['excluded_at_import']}",
             f"- judgeable (files minus {', '.join(NOT_JUDGEABLE)}): {summary['judgeable']}",
             f"- accepted: {summary['accepted']}/{summary['files']} of all files, "
             f"{summary['accepted']}/{summary['judgeable']} of judgeable", "",
             "| outcome | tasks |", "|---|---|"]
    lines += [f"| {o} | {n} |" for o, n in summary["by_outcome"].items()]
    timed = sorted((c for c in checks if c.seconds is not None), key=lambda c: -(c.seconds or 0.0))
    if timed:
        lines += ["", f"Verifier time: {sum(c.seconds or 0.0 for c in timed):.0f} s over {len(timed)} answers "
                  "(summed over workers); slowest: " + ", ".join(f"{c.task_id} {c.seconds:.1f} s" for c in timed[:8])]
    for o in OUTCOMES:
        rows = [c for c in checks if c.outcome == o]
        if not rows:
            continue
        lines += ["", f"## {o} ({len(rows)})", "", "| task | answer | size | grads | reason |", "|---|---|---|---|---|"]
        for c in rows:
            reason = c.reason.replace("|", "\\|").replace("\n", " ")[:300]
            lines.append(f"| {c.task_id} | {c.answer} | {c.size} | {c.backward} | {reason} |")
    return "\n".join(lines) + "\n"


def print_table(summary: dict[str, Any]) -> str:
    """The console table; its last line is `accepted: N/M` (M: every file of the checkout)."""
    rows = [f"{o:<20} {n}" for o, n in summary["by_outcome"].items()]
    apart = summary["by_outcome"].get("uninformative", 0)
    return "\n".join([f"selfcheck {summary['suite']} on {summary['device']}: {summary['files']} files, "
                      f"{summary['imported']} imported, {summary['excluded_at_import']} excluded at import, "
                      f"{summary['judgeable']} judgeable" + (f" ({apart} uninformative, apart)" if apart else ""), *rows, f"accepted: {summary['accepted']}/{summary['files']}"])
