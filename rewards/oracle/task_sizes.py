"""The size rule that runs a KernelBench reference on CPU (the Triton interpreter): one rule, used by
`tritonforge eval --device cpu` (through `data_pipeline.kernelbench`, which re-exports it) and by
`tritonforge verify --kernelbench_cpu_size`. It lives here, below both, because `rewards` imports no other
stage of ours.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

SIZE_MIN = 32  # module-level integers below this are shapes' small parts (kernel 3, stride 2, dim=1): kept
SIZE_FLOOR = 16  # a size constant is never halved below this
CPU_BUDGET_ELEMS = 1 << 22  # inputs + parameters + outputs of one reference call (16 MiB of fp32)


@dataclass(frozen=True)
class Scaled:
    """A KernelBench source with its size constants reduced, and what was done (for the verdict/report)."""

    source: str
    factor: float  # elements before / after (1.0: unchanged)
    changes: tuple[tuple[str, int, int], ...] = ()  # (constant, old, new)
    elems_before: int | None = None
    elems_after: int | None = None
    fits: bool = True
    note: str = ""

    def describe(self) -> str:
        """One line for reports: which constants were reduced and by how much."""
        if not self.changes:
            return "full size" if self.fits else f"full size, over budget ({self.note})"
        ch = ", ".join(f"{n} {a}->{b}" for n, a, b in self.changes)
        return f"reduced x{self.factor:.0f} ({ch})" + ("" if self.fits else f"; still over budget ({self.note})")


def _int_value(node: ast.expr) -> int | None:
    """The value of an integer constant expression (`4096`, `2048 * 2`, `1 << 10`), else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _int_value(node.left), _int_value(node.right)
        if a is None or b is None:
            return None
        ops: dict[type, Any] = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                                ast.FloorDiv: lambda: a // b if b else None, ast.LShift: lambda: a << b if 0 <= b < 64 else None}
        fn = ops.get(type(node.op))
        return fn() if fn else None
    return None


def size_constants(source: str) -> dict[str, tuple[int, ...]]:
    """Module-level integer constants (and tuples of them) of a KernelBench source: name -> values."""
    out: dict[str, tuple[int, ...]] = {}
    for n in ast.parse(source).body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            v = n.value
            if isinstance(v, ast.Tuple):
                vals = [_int_value(e) for e in v.elts]
                if vals and all(x is not None for x in vals):
                    out[n.targets[0].id] = tuple(int(x) for x in vals if x is not None)
            else:
                x = _int_value(v)
                if x is not None:
                    out[n.targets[0].id] = (x,)
    return out


def rewrite_constants(source: str, values: dict[str, tuple[int, ...]]) -> str:
    """`source` with the named module-level constants set to `values` (line by line, comments kept)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for n in reversed(tree.body):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                and n.targets[0].id in values and n.end_lineno is not None:
            vals = values[n.targets[0].id]
            text = str(vals[0]) if not isinstance(n.value, ast.Tuple) else "(" + ", ".join(map(str, vals)) + ("," if len(vals) == 1 else "") + ")"
            first, last = n.lineno - 1, n.end_lineno - 1
            head = lines[first][: n.value.col_offset]
            tail = lines[last][n.value.end_col_offset or 0:]
            lines[first: last + 1] = [head + text + tail]
    return "".join(lines)


_PROBE = r'''
import json, sys, resource
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
import torch
def count(x):
    if isinstance(x, torch.Tensor):
        return x.numel()
    if isinstance(x, (list, tuple)):
        return sum(count(v) for v in x)
    if isinstance(x, dict):
        return sum(count(v) for v in x.values())
    return 0
out = []
for src in json.loads(sys.stdin.read()):
    try:
        ns = {"__name__": "tf_probe"}
        with torch.device("meta"):
            exec(compile(src, "reference.py", "exec"), ns)
            init = list(ns.get("get_init_inputs", lambda: [])())
            inputs = list(ns["get_inputs"]())
            model = ns["Model"](*init)
            n = count(inputs) + sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())
            try:
                with torch.no_grad():
                    n += count(model(*inputs))
            except Exception:
                pass  # an op without a meta kernel: inputs and parameters still count
        out.append(n)
    except Exception as e:
        out.append(f"{type(e).__name__}: {e}"[:200])
print(json.dumps(out))
'''


def probe_sizes(sources: list[str], timeout_s: float = 300.0) -> list[int | str]:
    """Elements (inputs + parameters + outputs) each KernelBench source's reference handles, measured on
    torch's meta device (shapes only: nothing is allocated or computed) in one throwaway subprocess with a
    4 GiB address-space cap. A string says why a source could not be probed."""
    import os
    import subprocess
    import sys

    if not sources:
        return []
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "PYTHONPATH", "OMP_NUM_THREADS"}}
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], input=json.dumps(sources), capture_output=True,
                              text=True, timeout=timeout_s, env=env)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as e:
        return [f"size probe failed: {type(e).__name__}"] * len(sources)
    return [r if isinstance(r, (int, str)) else str(r) for r in res]


def scale_kernelbench(sources: list[str], budget_elems: int = CPU_BUDGET_ELEMS, rounds: int = 40) -> list[Scaled]:
    """The documented size rule for running KernelBench references on CPU (the Triton interpreter).

    Rule: measure a reference's elements (inputs + parameters + outputs, `probe_sizes`); while over
    `budget_elems`, halve its largest module-level size constant (integers >= SIZE_MIN, in tuples too;
    never below SIZE_FLOOR), together with every constant of the same value (equal sizes are often a
    shape relation, e.g. predictions (batch, n) times targets (batch,) with batch == n), and measure again. Small integers (kernel sizes, strides, a reduction `dim`)
    are never touched, so the operator stays the same and only its extent shrinks. The result says which
    constants changed and the factor (elements before / after); tasks within budget are unchanged.
    """
    cur = list(sources)
    consts = [size_constants(s) for s in sources]
    vals = [dict(c) for c in consts]
    first = probe_sizes(cur)
    sizes: list[int | str] = list(first)
    active = [isinstance(n, int) and n > budget_elems for n in sizes]
    for _ in range(rounds):
        todo = [i for i, a in enumerate(active) if a]
        if not todo:
            break
        for i in todo:
            best: tuple[int, str, int] | None = None
            for name, vs in vals[i].items():
                for j, v in enumerate(vs):
                    if v >= SIZE_MIN and v // 2 >= SIZE_FLOOR and (best is None or v > best[0]):
                        best = (v, name, j)
            if best is None:
                active[i] = False
                continue
            v = best[0]
            for name in vals[i]:  # equal sizes move together: `batch == features` may be a shape relation
                vals[i][name] = tuple(x // 2 if x == v else x for x in vals[i][name])
            cur[i] = rewrite_constants(sources[i], {k: x for k, x in vals[i].items() if x != consts[i][k]})
        measured = probe_sizes([cur[i] for i in todo])
        for i, n in zip(todo, measured, strict=True):
            sizes[i] = n
            active[i] = active[i] and isinstance(n, int) and n > budget_elems
    out = []
    for i, src in enumerate(sources):
        before, after = first[i], sizes[i]
        changes = tuple((k, consts[i][k][j], vals[i][k][j]) for k in consts[i] for j in range(len(consts[i][k]))
                        if vals[i][k][j] != consts[i][k][j])
        if not isinstance(after, int):
            out.append(Scaled(src, 1.0, (), None, None, False, str(after)))
            continue
        b = before if isinstance(before, int) else after
        fits = after <= budget_elems
        note = "" if fits else f"{after} elements > budget {budget_elems}"
        if changes:
            header = (f"# tritonforge: sizes reduced for the CPU interpreter ({', '.join(f'{n} {a}->{c}' for n, a, c in changes)}; "
                      f"elements x{b / max(after, 1):.0f} fewer)\n")
            out.append(Scaled(header + cur[i], b / max(after, 1), changes, b, after, fits, note))
        else:
            out.append(Scaled(src, 1.0, (), b, after, fits, note))
    return out
