"""Inductor extraction (GPU): torch.compile a reference, capture Inductor's Triton, make it a ModelNew.

Switches on by itself only when CUDA is present (Inductor emits Triton for GPUs only); on CPU the
build logs "skipped: no CUDA" and this yields nothing. The text transformation (`to_model_new`) is
pure string work and is unit-tested on CPU against a captured output fixture.

What the transformation handles: the `async_compile.triton('name', '''src''')` kernels (Inductor's
decorators and helper calls rewritten to plain `tl`), buffer allocations, `reinterpret_tensor`, and
kernel launches whose grid is rebuilt from the kernel's numel arguments with fixed block sizes.
Samples whose `call()` uses `extern_kernels` (cuBLAS mm, convolutions) are dropped, or kept with a tag
when `inductor_keep_extern` is set (they then fail the verifier's no-torch-compute rule anyway unless
rewritten). Anything else it does not understand raises `Unsupported` and the sample is skipped.
"""

from __future__ import annotations

import ast
import hashlib
import re
import textwrap
from collections.abc import Callable
from typing import Any

from data_pipeline.config import DataConfig


class Unsupported(ValueError):
    """Inductor output this transformation does not lower (the sample is skipped, with this reason)."""


def should_run(mode: str, device: str) -> tuple[bool, str]:
    if mode == "off":
        return False, "off"
    if device != "cuda":
        return False, "skipped: no CUDA"
    return True, "on"


_KERNEL = re.compile(r"^(\w+) = async_compile\.triton\('(\w+)', '''(.*?)''', device_str='\w+'\)", re.S | re.M)
_HELPERS = {
    "triton_helpers.maximum": "tl.maximum", "triton_helpers.minimum": "tl.minimum",
    "triton_helpers.promote_to_tensor": "", "tl_math.exp": "tl.exp", "tl_math.log": "tl.log",
    "tl_math.abs": "tl.abs", "tl_math.sin": "tl.sin", "tl_math.cos": "tl.cos", "libdevice.sqrt": "tl.sqrt",
    "libdevice.rsqrt": "tl.math.rsqrt", "libdevice.erf": "tl.math.erf", "libdevice.exp": "tl.exp",
    "libdevice.log": "tl.log", "tl.sigmoid": "tl.sigmoid",
}
_REDUCE = {"triton_helpers.max2": "tl.max", "triton_helpers.min2": "tl.min"}
BLOCKS = {"XBLOCK": 64, "YBLOCK": 64}


def _clean_kernel(src: str) -> str:
    """Keep `@triton.jit def ...`, drop Inductor's imports/heuristics decorators, map helpers to `tl`."""
    m = re.search(r"^@triton\.jit\s*\ndef .*", src, re.S | re.M)
    if not m:
        raise Unsupported("kernel without @triton.jit")
    body = m.group(0)
    for old, new in {**_HELPERS, **_REDUCE}.items():
        body = body.replace(old + "(", (new + "(") if new else "(")
    left = re.findall(r"\b(triton_helpers|tl_math|libdevice|triton_heuristics)\.\w+", body)
    if left:
        raise Unsupported(f"helper {left[0]} has no plain-tl equivalent here")
    return body.rstrip() + "\n"


def _kernel_params(src: str) -> list[str]:
    fn = ast.parse(src).body[0]
    if not isinstance(fn, ast.FunctionDef):
        raise Unsupported("kernel is not a function")
    return [a.arg for a in fn.args.args]


def _launch(name: str, params: list[str], args: list[str]) -> list[str]:
    """Rebuild a launch: positional runtime args, then constexpr block sizes and a grid over numels."""
    consts = [p for p in params if p.isupper() or p.endswith("BLOCK")]
    runtime = [p for p in params if p not in consts]
    if len(args) < len(runtime):
        raise Unsupported(f"launch of {name} passes {len(args)} args for {len(runtime)} params")
    by = dict(zip(runtime, args, strict=False))
    x = by.get("xnumel", "1")
    meta: list[str] = []
    grid = f"(triton.cdiv({x}, {BLOCKS['XBLOCK']}),)" if "XBLOCK" in consts else "(1,)"
    for c in consts:
        if c == "XBLOCK":
            meta.append(f"XBLOCK={BLOCKS['XBLOCK'] if x != '1' else 1}")
        elif c in ("RBLOCK", "R0_BLOCK"):
            r = by.get("rnumel", by.get("r0_numel", "1"))
            meta.append(f"{c}=triton.next_power_of_2({r})")
        elif c == "YBLOCK":
            y = by.get("ynumel", "1")
            grid = f"(triton.cdiv({y}, {BLOCKS['YBLOCK']}), triton.cdiv({x}, {BLOCKS['XBLOCK']}))"
            meta.append(f"YBLOCK={BLOCKS['YBLOCK']}")
        else:
            raise Unsupported(f"constexpr {c} of {name}")
    return [f"{name}[{grid}]({', '.join(args[: len(runtime)] + meta)})"]


def _call_body(code: str, kernels: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(input names in order, forward body lines) from Inductor's `def call(args)`."""
    tree = ast.parse(code)
    call = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "call"), None)
    if call is None:
        raise Unsupported("no call(args) in the output code")
    inputs: list[str] = []
    lines: list[str] = []

    def walk(stmts: list[ast.stmt]) -> None:
        for s in stmts:
            if isinstance(s, ast.With):
                walk(s.body)
                continue
            src = ast.unparse(s)
            if isinstance(s, ast.Assign) and isinstance(s.value, ast.Name) and s.value.id == "args":
                target = s.targets[0]
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                inputs.extend(ast.unparse(n) for n in names)
                continue
            if src.startswith(("args.clear", "assert_size_stride", "assert_alignment", "torch.cuda.set_device",
                               "del ")) or "get_raw_stream" in src:
                continue
            if "extern_kernels" in src:
                raise Unsupported("extern_kernels")
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute) \
                    and s.value.func.attr == "run" and isinstance(s.value.func.value, ast.Name):
                name = s.value.func.value.id
                if name not in kernels:
                    raise Unsupported(f"launch of unknown kernel {name}")
                lines.extend(_launch(name, kernels[name], [ast.unparse(a) for a in s.value.args]))
                continue
            if isinstance(s, ast.Return):
                val = s.value
                if isinstance(val, ast.Tuple) and len(val.elts) == 1:
                    lines.append(f"return {ast.unparse(val.elts[0])}")
                else:
                    lines.append(src)
                continue
            src = re.sub(r"\bempty_strided_cuda\(([^;]*?), (torch\.\w+)\)",
                         r"torch.empty_strided(\1, dtype=\2, device='cuda')", src)
            src = src.replace("reinterpret_tensor(", "torch.as_strided(")
            lines.append(src)

    walk(call.body)
    return inputs, lines


def _init_source(reference: str) -> list[str]:
    """The reference Model's __init__, copied so ModelNew owns the same parameters in the same order."""
    tree = ast.parse(reference)
    model = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"), None)
    init = next((n for n in (model.body if model else []) if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
                None)
    if init is None:
        return ["    def __init__(self):", "        super().__init__()"]
    return ["    " + ln for ln in textwrap.dedent(ast.get_source_segment(reference, init) or "").splitlines()]


def to_model_new(output_code: str, reference: str, n_params: int) -> str:
    """Turn Inductor's output module into a standalone ModelNew source.

    `reference` supplies the constructor (copied); `n_params` is how many leading `call` args are the
    module's parameters, which torch.compile lifts to graph inputs (bound from `self.parameters()`).
    """
    found = _KERNEL.findall(output_code)
    if not found:
        raise Unsupported("no Triton kernels in the output code")
    kernels = {var: _clean_kernel(src).replace(f"def {name}(", f"def {var}(") for var, name, src in found}
    params = {var: _kernel_params(src) for var, src in kernels.items()}
    inputs, body = _call_body(output_code, params)
    out = ["import torch", "import torch.nn as nn", "import triton", "import triton.language as tl", "", ""]
    for src in kernels.values():
        out += [src, ""]
    out += ["", "class ModelNew(nn.Module):", *_init_source(reference), "",
            f"    def forward(self, {', '.join(inputs[n_params:])}):"]
    if n_params:
        out.append(f"        {', '.join(inputs[:n_params])}{',' if n_params == 1 else ''} = list(self.parameters())")
    out += ["        " + ln for ln in "\n".join(body).splitlines()]
    return "\n".join(out) + "\n"


def capture(reference: str) -> tuple[str, int]:
    """Compile the reference's Model with Inductor on CUDA and return (output code, number of parameters)."""
    import torch
    from torch._inductor.utils import run_and_get_code

    ns: dict[str, Any] = {}
    exec(compile(reference, "<reference>", "exec"), ns)  # trusted: our own / imported task references
    model = ns["Model"](*ns.get("get_init_inputs", list)()).cuda().eval()
    inputs = [x.cuda() if hasattr(x, "cuda") else x for x in ns["get_inputs"]()]
    torch._dynamo.reset()
    with torch.no_grad():
        _, codes = run_and_get_code(torch.compile(model, backend="inductor"), *inputs)
    return codes[0], len(list(model.parameters()))


def extract(task: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """One task's Inductor candidate record, or None and why it was skipped (runs where the executor puts it:
    this process, or a GPU task on the Ray cluster)."""
    try:
        code, n_params = capture(task["reference"])
        solution = to_model_new(code, task["reference"], n_params)
    except Unsupported as e:
        return None, str(e).split(" ")[0]
    except Exception as e:  # a reference Inductor cannot compile: skip it, count it
        return None, type(e).__name__
    sid = hashlib.sha256((task["reference"] + solution).encode()).hexdigest()[:12]
    return {**task, "sample_id": f"inductor-{sid}", "source": f"inductor:{task['source']}", "solution": solution,
            "reasoning": "This is the fused kernel schedule Inductor generates for the module, written "
                         "out as a standalone module.", "provenance": f"torch.compile of {task['task_id']}"}, None


def candidates(tasks: list[dict[str, Any]], cfg: DataConfig, log: Callable[[str], None]) -> tuple[list[dict], list[str]]:
    """Inductor-derived candidate records for up to `inductor_max_tasks` tasks (GPU only), one task per
    reference on the active executor (`--executor ray`: spread over the cluster's GPUs)."""
    from rewards.executors import current

    chosen = tasks[: cfg.inductor_max_tasks]
    out: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    for record, why in current().map_tasks(extract, chosen, use_gpu=True):
        if record is not None:
            out.append(record)
        else:
            skipped[str(why)] = skipped.get(str(why), 0) + 1
    note = f"inductor: {len(out)} candidates from {len(chosen)} tasks, skipped {skipped}"
    log(f"[data] {note}")
    return out, [note]


__all__ = ["Unsupported", "candidates", "capture", "extract", "should_run", "to_model_new"]
