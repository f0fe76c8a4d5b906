"""Lower a spec to a known-good Triton `ModelNew` (the synthesizer's own code generator).

Every family has one kernel template written the way a person writes Triton (masked loads, fp32
math, a row per program for row-wise ops, a tiled tl.dot for matmuls) and a few style knobs drawn from
`spec.style` (names, block sizes, grid spelling, a launcher helper or not, comments) so the corpus is
not one template repeated. Correctness does not depend on the knobs; the verifier checks every output.

ModelNew.forward only allocates (torch.empty*) and launches: no torch compute op, no fallback.
"""

from __future__ import annotations

import random

from data_pipeline.synth.graphs import NORMS, SOFTMAXES, Spec
from data_pipeline.synth.ops import Op, triton_expr
from data_pipeline.synth.reference import forward_args, init_block

HEADER = "import torch\nimport torch.nn as nn\nimport triton\nimport triton.language as tl\n"

_NAMES = (
    {"x": "x_ptr", "y": "y_ptr", "out": "out_ptr", "n": "n_elements", "B": "BLOCK_SIZE", "offs": "offsets",
     "mask": "mask", "pid": "pid", "v": "x"},
    {"x": "X", "y": "Y", "out": "Out", "n": "N", "B": "BLOCK", "offs": "offs", "mask": "m", "pid": "pid", "v": "v"},
    {"x": "in_ptr", "y": "other_ptr", "out": "output_ptr", "n": "numel", "B": "BLOCK_SIZE", "offs": "idx",
     "mask": "valid", "pid": "block_id", "v": "val"},
)


def _kernel_name(spec: Spec, rng: random.Random) -> str:
    parts = [o.name for o in spec.pre[:2]]
    if spec.core:
        parts.append(spec.core)
    if spec.family == "matmul":
        parts.insert(0, "linear" if spec.linear else "matmul")
        parts += ["bias"] if spec.bias else []
    parts += [o.name for o in spec.post[:2]]
    if spec.residual:
        parts.insert(0, "add")
    base = "_".join(parts[:4]) or "copy"
    return rng.choice([f"{base}_kernel", f"_{base}_kernel", f"fused_{base}_kernel" if len(parts) > 1 else f"{base}_kernel"])


def _ops(ops: tuple[Op, ...], var: str, other: str | None, indent: str) -> list[str]:
    return [f"{indent}{var} = {triton_expr(o, var, other)}" for o in ops]


# -- flat (elementwise / activation / broadcast) --------------------------------------------------


def _flat(spec: Spec, rng: random.Random, kname: str) -> tuple[list[str], list[str]]:
    nm = _NAMES[spec.style % len(_NAMES)]
    v, mask, offs = nm["v"], nm["mask"], nm["offs"]
    ptrs = [nm["x"]] + ([nm["y"]] if spec.binary_input else []) + (["bias_ptr"] if spec.bias else [])
    scalars = [nm["n"]] + (["n_cols"] if spec.bias else [])
    block = rng.choice([256, 512, 1024, 1024, 2048])
    k = ["@triton.jit", f"def {kname}({', '.join(ptrs + [nm['out']] + scalars)}, {nm['B']}: tl.constexpr):"]
    if rng.random() < 0.6:
        k.append("    # One program per contiguous chunk of the flattened tensor; the tail is masked off.")
    k += [f"    {nm['pid']} = tl.program_id(axis=0)",
          f"    {offs} = {nm['pid']} * {nm['B']} + tl.arange(0, {nm['B']})",
          f"    {mask} = {offs} < {nm['n']}",
          f"    {v} = tl.load({nm['x']} + {offs}, mask={mask}, other=0.0).to(tl.float32)"]
    other = None
    if spec.binary_input:
        other = "w" if v != "w" else "w2"
        k.append(f"    {other} = tl.load({nm['y']} + {offs}, mask={mask}, other=0.0).to(tl.float32)")
    if spec.bias:
        idx = f"{offs} % n_cols" if spec.bias == "row" else f"{offs} // n_cols"
        if rng.random() < 0.5:
            k.append("    # The bias is broadcast: " + ("one value per column." if spec.bias == "row" else "one value per row."))
        k.append(f"    b = tl.load(bias_ptr + {idx}, mask={mask}, other=0.0).to(tl.float32)")
        other = "b"
    k += _ops(spec.pre, v, other, "    ")
    k += _ops(spec.post, v, None, "    ")
    k.append(f"    tl.store({nm['out']} + {offs}, {v}.to({nm['out']}.dtype.element_ty), mask={mask})")

    launch_ptrs = ["x"] + (["y"] if spec.binary_input else []) + (
        ["self.bias"] if spec.bias == "row" else ["scale"] if spec.bias == "col" else [])
    launch_scalars = ["n"] + (["x.shape[-1]"] if spec.bias else [])
    f = ["out = torch.empty_like(x)", "n = x.numel()"]
    if spec.style % 2:
        f += [f"grid = lambda meta: (triton.cdiv(n, meta['{nm['B']}']),)",
              f"{kname}[grid]({', '.join(launch_ptrs + ['out'] + launch_scalars)}, {nm['B']}={block})"]
    else:
        f += [f"{nm['B']} = {block}", f"grid = (triton.cdiv(n, {nm['B']}),)",
              f"{kname}[grid]({', '.join(launch_ptrs + ['out'] + launch_scalars)}, {nm['B']}={nm['B']})"]
    return k, f + ["return out"]


# -- row-wise (softmax family, norms, row reductions) ----------------------------------------------


def _row(spec: Spec, rng: random.Random, kname: str) -> tuple[list[str], list[str]]:
    c = spec.core or ""
    reduces = c in ("sum", "mean", "max", "min", "logsumexp")
    ptrs = ["x_ptr"] + (["res_ptr"] if spec.residual else [])
    if c in NORMS and spec.affine:
        ptrs += ["w_ptr"] + (["b_ptr"] if c == "layernorm" else [])
    scal = ["n_cols", "stride_x"] + ([] if reduces else ["stride_out"]) + (["eps"] if c in NORMS else [])
    k = ["@triton.jit", f"def {kname}({', '.join(ptrs + ['out_ptr'] + scal)}, BLOCK_SIZE: tl.constexpr):"]
    if rng.random() < 0.6:
        k.append("    # One program per row; BLOCK_SIZE covers the whole row so the reduction stays in registers.")
    k += ["    row = tl.program_id(0)", "    cols = tl.arange(0, BLOCK_SIZE)", "    mask = cols < n_cols",
          "    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)"]
    if spec.residual:
        k += ["    r = tl.load(res_ptr + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)", "    x = x + r"]
    k += _ops(spec.pre, "x", None, "    ")
    neutral = {"max": '-float("inf")', "softmax": '-float("inf")', "log_softmax": '-float("inf")',
               "logsumexp": '-float("inf")', "min": 'float("inf")'}.get(c, "0.0")
    if spec.pre or spec.residual or neutral != "0.0":
        k.append(f"    x = tl.where(mask, x, {neutral})")
    if c in ("sum", "mean"):
        k.append("    y = tl.sum(x, axis=0)" + (" / n_cols" if c == "mean" else ""))
    elif c in ("max", "min"):
        k.append(f"    y = tl.{c}(x, axis=0)")
    elif c in SOFTMAXES:
        k += ["    row_max = tl.max(x, axis=0)", "    num = tl.exp(x - row_max)", "    den = tl.sum(num, axis=0)"]
        k.append({"softmax": "    y = num / den", "log_softmax": "    y = (x - row_max) - tl.log(den)",
                  "logsumexp": "    y = row_max + tl.log(den)"}[c])
    elif c == "layernorm":
        k += ["    mean = tl.sum(x, axis=0) / n_cols", "    diff = tl.where(mask, x - mean, 0.0)",
              "    var = tl.sum(diff * diff, axis=0) / n_cols",
              "    rstd = " + rng.choice(["1.0 / tl.sqrt(var + eps)", "tl.math.rsqrt(var + eps)"]), "    y = diff * rstd"]
        if spec.affine:
            k += ["    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)",
                  "    b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)", "    y = y * w + b"]
    elif c == "rmsnorm":
        k += ["    ms = tl.sum(x * x, axis=0) / n_cols", "    y = x * " + rng.choice(
            ["tl.math.rsqrt(ms + eps)", "(1.0 / tl.sqrt(ms + eps))"])]
        if spec.affine:
            k += ["    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)", "    y = y * w"]
    k += _ops(spec.post, "y", None, "    ")
    if reduces:
        k.append("    tl.store(out_ptr + row, y.to(out_ptr.dtype.element_ty))")
    else:
        k.append("    tl.store(out_ptr + row * stride_out + cols, y.to(out_ptr.dtype.element_ty), mask=mask)")

    if reduces:
        shape = "(x.shape[0], 1)" if spec.keepdim else "(x.shape[0],)"
        f = [f"out = torch.empty({shape}, device=x.device, dtype=x.dtype)"]
    else:
        f = ["out = torch.empty_like(x)"]
    f += ["n_rows, n_cols = x.shape", "BLOCK_SIZE = triton.next_power_of_2(n_cols)"]
    launch = ["x"] + (["residual"] if spec.residual else [])
    if c in NORMS and spec.affine:
        launch += ["self.weight"] + (["self.bias"] if c == "layernorm" else [])
    lscal = ["n_cols", "x.stride(0)"] + ([] if reduces else ["out.stride(0)"]) + (["self.eps"] if c in NORMS else [])
    warps = f", num_warps={rng.choice([1, 2, 4])}" if rng.random() < 0.4 else ""
    f.append(f"{kname}[(n_rows,)]({', '.join(launch + ['out'] + lscal)}, BLOCK_SIZE=BLOCK_SIZE{warps})")
    return k, f + ["return out"]


# -- column reductions (dim=0) --------------------------------------------------------------------


def _col(spec: Spec, rng: random.Random, kname: str) -> tuple[list[str], list[str]]:
    c = spec.core or "sum"
    init = {"max": '-float("inf")', "min": 'float("inf")'}.get(c, "0.0")
    k = ["@triton.jit",
         f"def {kname}(x_ptr, out_ptr, n_rows, n_cols, stride_row, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):"]
    if rng.random() < 0.6:
        k.append("    # Each program owns BLOCK_N columns and walks down the rows in BLOCK_M tiles.")
    k += ["    pid = tl.program_id(0)", "    cols = pid * BLOCK_N + tl.arange(0, BLOCK_N)", "    col_mask = cols < n_cols",
          f"    acc = tl.full([BLOCK_N], {init}, dtype=tl.float32)",
          "    for start in range(0, n_rows, BLOCK_M):", "        rows = start + tl.arange(0, BLOCK_M)",
          "        mask = (rows[:, None] < n_rows) & col_mask[None, :]",
          "        x = tl.load(x_ptr + rows[:, None] * stride_row + cols[None, :], mask=mask, other=0.0).to(tl.float32)"]
    k += _ops(spec.pre, "x", None, "        ")
    if spec.pre or init != "0.0":
        k.append(f"        x = tl.where(mask, x, {init})")
    k.append({"sum": "        acc += tl.sum(x, axis=0)", "mean": "        acc += tl.sum(x, axis=0)",
              "max": "        acc = tl.maximum(acc, tl.max(x, axis=0))",
              "min": "        acc = tl.minimum(acc, tl.min(x, axis=0))"}[c])
    if c == "mean":
        k.append("    acc = acc / n_rows")
    k.append("    tl.store(out_ptr + cols, acc.to(out_ptr.dtype.element_ty), mask=col_mask)")
    bm, bn = rng.choice([8, 16, 32]), rng.choice([16, 32, 64, 128])
    shape = "(1, n_cols)" if spec.keepdim else "(n_cols,)"
    f = ["n_rows, n_cols = x.shape", f"out = torch.empty({shape}, device=x.device, dtype=x.dtype)",
         f"BLOCK_M, BLOCK_N = {bm}, {bn}", "grid = (triton.cdiv(n_cols, BLOCK_N),)",
         f"{kname}[grid](x, out, n_rows, n_cols, x.stride(0), BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N)", "return out"]
    return k, f


# -- matmul with epilogue --------------------------------------------------------------------------


def _matmul(spec: Spec, rng: random.Random, kname: str) -> tuple[list[str], list[str]]:
    bias = spec.bias is not None
    k = ["@triton.jit", f"def {kname}(", "    a_ptr, b_ptr," + (" bias_ptr," if bias else "") + " c_ptr,",
         "    M, N, K,", "    stride_am, stride_ak,", "    stride_bk, stride_bn,", "    stride_cm, stride_cn,",
         "    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,", "):"]
    if rng.random() < 0.6:
        k.append("    # Classic tiled GEMM: each program computes one BLOCK_M x BLOCK_N tile of C, accumulating in fp32.")
    k += ["    pid_m = tl.program_id(0)", "    pid_n = tl.program_id(1)",
          "    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)", "    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)",
          "    offs_k = tl.arange(0, BLOCK_K)",
          "    a_ptrs = a_ptr + offs_m[:, None] * stride_am + offs_k[None, :] * stride_ak",
          "    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_n[None, :] * stride_bn",
          "    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)",
          "    for k0 in range(0, K, BLOCK_K):",
          "        a = tl.load(a_ptrs, mask=(offs_m[:, None] < M) & (offs_k[None, :] + k0 < K), other=0.0)",
          "        b = tl.load(b_ptrs, mask=(offs_k[:, None] + k0 < K) & (offs_n[None, :] < N), other=0.0)",
          "        # ieee keeps fp32 accuracy on GPUs that would otherwise use TF32.",
          '        acc += tl.dot(a, b, input_precision="ieee")',
          "        a_ptrs += BLOCK_K * stride_ak", "        b_ptrs += BLOCK_K * stride_bk"]
    if bias:
        k += ["    bias = tl.load(bias_ptr + offs_n, mask=offs_n < N, other=0.0)", "    acc = acc + bias[None, :]"]
    if spec.post and rng.random() < 0.5:
        k.append("    # Epilogue fused into the tile before it is written out.")
    k += _ops(spec.post, "acc", None, "    ")
    k += ["    c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn",
          "    tl.store(c_ptrs, acc, mask=(offs_m[:, None] < M) & (offs_n[None, :] < N))"]
    bm, bn, bk = rng.choice([16, 32]), rng.choice([16, 32, 64]), rng.choice([16, 32])
    if spec.linear:
        f = ["w = self.linear.weight", "M, K = x.shape", "N = w.shape[0]",
             "out = torch.empty((M, N), device=x.device, dtype=x.dtype)"]
        a, b, bstr = "x", "w", "w.stride(1), w.stride(0)"
        bias_arg = "self.linear.bias, " if bias else ""
        astr = "x.stride(0), x.stride(1)"
    else:
        f = ["M, K = a.shape", "N = b.shape[1]", "out = torch.empty((M, N), device=a.device, dtype=a.dtype)"]
        a, b, bstr = "a", "b", "b.stride(0), b.stride(1)"
        bias_arg = "self.bias, " if bias else ""
        astr = "a.stride(0), a.stride(1)"
    f += [f"grid = (triton.cdiv(M, {bm}), triton.cdiv(N, {bn}))",
          f"{kname}[grid](", f"    {a}, {b}, {bias_arg}out,", "    M, N, K,", f"    {astr},", f"    {bstr},",
          "    out.stride(0), out.stride(1),", f"    BLOCK_M={bm}, BLOCK_N={bn}, BLOCK_K={bk},", ")", "return out"]
    return k, f


# -- assembly ---------------------------------------------------------------------------------------


def render_solution(spec: Spec, rng: random.Random, helper_ok: bool = True) -> str:
    """The known-good ModelNew source for `spec`.

    `helper_ok=False` never writes the launcher-helper variant (the draw is still made, so the rest of the
    sample is unchanged): compact answers keep one shape of code, which a small model learns faster; the
    tiny SFT's commonest failure was a helper named like its kernel, shadowing it.
    """
    kname = _kernel_name(spec, rng)
    gen = {"flat": _flat, "row": _row, "col": _col, "matmul": _matmul}[spec.family]
    kernel, fwd = gen(spec, rng, kname)
    params, body, _ = init_block(spec)
    args = forward_args(spec)
    out = [HEADER, ""] + kernel + ["", ""]
    helper = rng.random() < 0.35 and helper_ok
    if helper:
        hname = kname.strip("_").removesuffix("_kernel")
        hargs = args + (["module"] if any("self." in ln for ln in fwd) else [])
        out.append(f"def {hname}({', '.join(hargs)}):")
        out.append('    """Allocate the output and launch the kernel."""' if rng.random() < 0.5 else "")
        out += [f"    {ln.replace('self.', 'module.')}" for ln in fwd]
        out += ["", ""]
    out += ["class ModelNew(nn.Module):"]
    if rng.random() < 0.5:
        out.append('    """Same computation as Model, done in a Triton kernel."""\n')
    out.append(f"    def __init__(self{''.join(', ' + p for p in params)}):")
    out += [f"        {b}" for b in body]
    out += ["", f"    def forward(self, {', '.join(args)}):"]
    if helper:
        call_args = args + (["self"] if any("self." in ln for ln in fwd) else [])
        out.append(f"        return {hname}({', '.join(call_args)})")
    else:
        out += [f"        {ln}" for ln in fwd]
    text = "\n".join(line for line in out if line is not None)
    return text.replace("\n    \n", "\n").rstrip() + "\n"


def plan_text(spec: Spec, rng: random.Random) -> str:
    """A short, truthful explanation of the kernel design (the reasoning part of the SFT answer)."""
    if spec.family == "flat":
        what = ("The whole computation is element-wise" + (" with a broadcast bias" if spec.bias else "")
                + ", so one kernel over the flattened tensor does it in a single pass: each program loads a "
                "block of elements, applies every op in registers (in fp32) and writes the result once.")
    elif spec.family == "row":
        core = spec.core or ""
        what = (f"The {core.replace('_', '-')} needs a full row, and rows are short, so I launch one program per "
                "row with a power-of-two block covering it; the reduction stays in registers and "
                + ("the surrounding element-wise ops are fused into the same pass." if spec.pre or spec.post
                   or spec.residual else "the row is read and written exactly once."))
        if core in SOFTMAXES:
            what += " Subtracting the row max before exp keeps it numerically stable."
    elif spec.family == "col":
        what = ("Reducing over dim 0 means walking down columns: each program owns a block of columns and "
                "accumulates tiles of rows in fp32, so every element is read once.")
    else:
        what = ("A tiled GEMM with tl.dot: each program computes one output tile, accumulating over K in fp32; "
                + ("the bias and the activation are applied to the tile before it is stored, which saves a "
                   "round trip through memory." if spec.post or spec.bias else "masks handle ragged edges."))
    lead = rng.choice(["", "Plan: ", "Approach: "])
    return lead + what


def compact_solution(code: str) -> str:
    """The same solution without comment lines, docstrings and blank-line runs (a shorter answer to learn).

    Only whole-line comments and one-line docstrings are removed (the generator writes no other kind), so
    the code itself is untouched and still verifies.
    """
    out: list[str] = []
    for line in code.splitlines():
        s = line.strip()
        if s.startswith("#") or (s.startswith('"""') and s.endswith('"""') and len(s) >= 6):
            continue
        if not s and out and (not out[-1].strip() or out[-1].rstrip().endswith(":")):
            continue
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"
