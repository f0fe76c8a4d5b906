"""Static rules: named AST checks that run on a candidate before any of it executes.

Why static rules at all: the execution check proves the output is right, not *how* it was computed. A
candidate that calls `torch.softmax` in forward is "correct" but teaches the policy nothing about Triton,
and a candidate that imports `os` or patches `torch.allclose` is trying to get out of the test. Every rule
walks the `ast` (never regexes over the source, so a `//` or a string cannot fool it) and has a one-line
`reason`, in the spirit of KernelBench's `kernel_static_checker.py`.

Fatal findings fail the rule gate (`VerifyResult.rule_ok`, `rule_reward`) and, with
`VerifyConfig.strict_rules`, stop the candidate before it runs (status rule_violation):

  rule                     fatal  why
  no_modelnew              yes    nothing to run or compare
  no_triton_kernel         yes    the task is to write a Triton kernel
  kernel_not_launched      no     advisory: the runtime launch record decides (helpers, base classes and
                                  `Cls.apply` aliases launch kernels the AST cannot follow)
  torch_compute_fallback   yes    a PyTorch/numpy op (or nn submodule) does the work instead of the kernel
                                  (the runtime op record catches the paths the AST cannot see)
  try_except_fallback      yes    a failing kernel must fail, not silently fall back to torch
  monkeypatch              yes    patching torch/triton/builtins/Model can fake the comparison or timing
  subclass_reference       yes    inheriting from or calling the reference is not a solution
  forbidden_import         yes    OS, process, network, reflection and dynamic-code access have no place in a kernel;
                                  attribute chains may only reach modules on `ALLOWED_MODULES` (`torch.os` is os)
  threads_streams          yes    side streams and threads make timing and synchronisation lie
  timing_tamper            mixed  patching timers is fatal; merely using `time`/CUDA events is a warning
  caching_outputs          no     heuristic warning; the runtime check (fresh inputs every trial) is the defence
  bool_op_on_tensors       yes    `and`/`or`/`not` on block values in a jit body: element-wise on the GPU,
                                  a truth test of the block on the CPU interpreter (use `&`, `|`, `~`)

`torch.ops.<ns>.<name>` is admitted only for an operator the candidate registers itself with
`torch.library.triton_op`/`custom_op` (never in a namespace torch registers operators in, such as `aten`); its
body is then followed as part of forward. Annotated assignments bind like assignments (`ModelNew: Any = Impl`).

Imports are an allowlist (`ALLOWED_IMPORT_ROOTS`): anything else is forbidden_import. Dynamic attribute
access is normalised first (`getattr(x, "name")` is read as `x.name`); a non-literal `getattr`/`setattr`
name is forbidden because it makes every other rule blind. Static rules are a filter, not a security
boundary: the sandbox (rewards/sandbox/zygote.py + rewards/sandbox/isolation.py) contains code that slips through.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

from rewards.contract.types import Finding
from rewards.rules import forward_work, judge_evasion, kernel_bodies  # noqa: F401  (register every rule in RULES, in this order)
from rewards.rules.context import MAX_FINDINGS_PER_RULE, RULES, GetattrToAttribute, build_context

__all__ = ["RULES", "check_rules", "fatal_findings", "parse_error"]


def parse_error(code: str) -> str | None:
    """One-line description of why `code` does not parse, or None when it does."""
    try:
        ast.parse(code)
    except SyntaxError as e:
        return f"SyntaxError: {e.msg} (line {e.lineno})"
    except (ValueError, TypeError) as e:  # e.g. source with NUL bytes
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'unparsable source'}"
    except (RecursionError, MemoryError) as e:
        return f"{type(e).__name__}: source too deeply nested to parse"
    return None


def check_rules(code: str, reference: str | None = None, rules: Sequence[str] | None = None) -> tuple[Finding, ...]:
    """Run the selected rules (all by default) over `code`; never raises except for unknown rule names.

    Unparsable code yields no findings (the caller reports syntax errors through `parse_error`). A rule
    that itself fails on a hostile input reports a finding instead of passing: the gate fails closed.
    """
    if rules is None:
        selected = list(RULES.values())
    else:
        unknown = [r for r in rules if r not in RULES]
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; valid rules: {sorted(RULES)}")
        selected = [RULES[r] for r in rules]
    try:
        tree = GetattrToAttribute().visit(ast.parse(code))
        ctx = build_context(tree, reference)
    except (SyntaxError, ValueError, TypeError):
        return ()
    except Exception as e:  # RecursionError/MemoryError on pathological input: fail closed
        return tuple(Finding(r.name, f"rule could not be checked ({type(e).__name__})", None, r.fatal)
                     for r in selected if r.fatal)
    out: list[Finding] = []
    for r in selected:
        seen: set[tuple] = set()
        try:
            for item in r.check(ctx):
                msg, line = item[0], item[1]
                fatal = item[2] if len(item) > 2 else r.fatal
                if (msg, line) in seen:
                    continue
                seen.add((msg, line))
                out.append(Finding(rule=r.name, message=msg, line=line, fatal=fatal))
                if len(seen) >= MAX_FINDINGS_PER_RULE:
                    break
        except Exception as e:
            if r.fatal:
                out.append(Finding(r.name, f"rule could not be checked ({type(e).__name__})", None, True))
    return tuple(out)


def fatal_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The findings that fail the gate."""
    return tuple(f for f in findings if f.fatal)
