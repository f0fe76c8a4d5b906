"""Device portability of TritonBench code: its hard-coded GPU device pointed at the device present.

Applied to a benchmark's test harness (`data_pipeline.tritonbench_split`), its code and candidates
(`data_pipeline.tritonbench_harness.with_harness`); on a GPU it changes nothing.
"""

from __future__ import annotations

import ast
import re

_DEVICE_PROLOGUE = ('import torch as _tb_torch0\n'
                    '_TB_DEVICE = "cuda" if _tb_torch0.cuda.is_available() else "cpu"  # tritonforge: device shim\n')


class _CudaToDevice(ast.NodeTransformer):
    """TritonBench hard-codes the GPU ('cuda', 'cuda:0', `.cuda()`, `t.is_cuda`); point it at the device present.

    On a GPU `_TB_DEVICE` is "cuda", so this changes nothing there; on CPU it lets the interpreter run
    the same code. Applied to the test harness, the benchmark's code, and candidates (EvalItem.candidate).
    """

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and re.fullmatch(r"cuda(:\d+)?", node.value):
            return ast.copy_location(ast.Name(id="_TB_DEVICE", ctx=ast.Load()), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """`t.is_cuda` (asserted by wrappers before a launch) -> "t is on the device we run on"."""
        self.generic_visit(node)
        if node.attr == "is_cuda" and isinstance(node.ctx, ast.Load):
            dev_type = ast.Attribute(value=ast.Attribute(value=node.value, attr="device", ctx=ast.Load()), attr="type",
                                     ctx=ast.Load())
            cmp = ast.Compare(left=dev_type, ops=[ast.Eq()], comparators=[ast.Name(id="_TB_DEVICE", ctx=ast.Load())])
            return ast.copy_location(cmp, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "cuda" and not node.keywords and len(node.args) <= 1 \
                and not (isinstance(f.value, ast.Name) and f.value.id in {"torch", "_tb_torch", "_tb_torch0"}):
            to = ast.Attribute(value=f.value, attr="to", ctx=ast.Load())
            return ast.copy_location(ast.Call(to, [ast.Name("_TB_DEVICE", ast.Load())], []), node)
        return node


def device_portable(code: str) -> str:
    """`code` with GPU device literals replaced by `_TB_DEVICE` (and its definition prepended).

    Code that does not parse is returned unchanged (the verifier reports the syntax error itself)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    new = ast.unparse(ast.fix_missing_locations(_CudaToDevice().visit(tree)))
    return _DEVICE_PROLOGUE + new + "\n"
