"""Static rules: every rule fires on its cheat and stays quiet on honest Triton code (no execution here)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rewards.rules.apply import RULES, check_rules, fatal_findings, parse_error

HERE = Path(__file__).resolve().parents[1]  # tests/rewards: tasks, candidates, adversarial
CANDIDATES = HERE / "candidates"
HONEST = sorted(p for p in CANDIDATES.glob("*.py"))

HEADER = """\
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)
"""


def cand(body: str, header: str = HEADER) -> str:
    """An otherwise honest candidate whose ModelNew is `body` (dedented)."""
    return header + "\n\n" + textwrap.dedent(body)


HONEST_FORWARD = """\
class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
        return out
"""


def rules_hit(code: str, fatal_only: bool = True) -> set[str]:
    return {f.rule for f in check_rules(code) if f.fatal or not fatal_only}


# --- honest code ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [p for p in HONEST if p.stem.endswith(("_ok", "_wrong"))], ids=lambda p: p.stem)
def test_honest_candidates_have_no_findings(path: Path) -> None:
    assert check_rules(path.read_text()) == ()


def test_honest_template_is_clean() -> None:
    assert check_rules(cand(HONEST_FORWARD)) == ()


def test_registry_has_reasons_and_contract_names() -> None:
    expected = {"no_modelnew", "no_triton_kernel", "kernel_not_launched", "torch_compute_fallback",
                "try_except_fallback", "monkeypatch", "subclass_reference", "forbidden_import",
                "threads_streams", "timing_tamper", "caching_outputs"}
    assert expected <= set(RULES)
    for r in RULES.values():
        assert r.reason and "\n" not in r.reason
    assert not RULES["caching_outputs"].fatal and RULES["forbidden_import"].fatal


def test_rule_selection_and_unknown_names() -> None:
    code = cand("class Other(nn.Module):\n    pass\n")
    assert {f.rule for f in check_rules(code, rules=["no_modelnew"])} == {"no_modelnew"}
    with pytest.raises(ValueError, match="valid rules"):
        check_rules(code, rules=["no_such_rule"])


@pytest.mark.parametrize("code", ["def f(:\n", "\x00", "(" * 300 + ")" * 300, "", "   \n", "x = 1\n" * 3])
def test_never_raises_on_garbage(code: str) -> None:
    findings = check_rules(code)
    assert isinstance(findings, tuple)


def test_parse_error() -> None:
    assert parse_error(HONEST_FORWARD) is None
    msg = parse_error("def f(:\n    pass\n")
    assert msg and msg.startswith("SyntaxError") and "\n" not in msg
    assert parse_error("x = '\x00'") is None or "\n" not in parse_error("x = '\x00'")
    assert check_rules("def f(:\n") == ()


# --- one positive (fires) and one negative (quiet) case per rule ------------------------------------

FIRES: list[tuple[str, str]] = [
    ("no_modelnew", cand("class Model2(nn.Module):\n    pass\n")),
    ("no_triton_kernel", "import torch\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x\n"),
    ("no_triton_kernel", "import triton\ndef k(x):\n    pass\n"),
    ("kernel_not_launched", cand("class ModelNew(nn.Module):\n    def forward(self, x):\n        return x\n")),
    ("kernel_not_launched", cand("""\
        def unused(x):
            k[(1,)](x, x, 1, BLOCK=16)

        class ModelNew(nn.Module):
            def forward(self, x):
                return x.clone()
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            def forward(self, x):
                out = torch.empty_like(x)
                k[(1,)](x, out, 1, BLOCK=16)
                return torch.softmax(x, dim=-1)
        """)),
    ("torch_compute_fallback", cand("""\
        import torch.nn.functional as F
        class ModelNew(nn.Module):
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return F.relu(x)
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            def forward(self, a, b):
                k[(1,)](a, a, 1, BLOCK=16)
                return a @ b
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            def forward(self, x, y):
                k[(1,)](x, x, 1, BLOCK=16)
                return x + y
        """)),
    ("torch_compute_fallback", cand("""\
        def helper(t):
            return t.exp().sum(-1)
        class ModelNew(nn.Module):
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return helper(x)
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return self.lin(x)
        """)),
    ("torch_compute_fallback", cand("""\
        sm = getattr(torch, "softmax")
        class ModelNew(nn.Module):
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return sm(x, -1)
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            @torch.compile
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return x
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return torch.ops.aten.relu(x)
        """)),
    ("try_except_fallback", cand("""\
        class ModelNew(nn.Module):
            def forward(self, x):
                out = torch.empty_like(x)
                try:
                    k[(1,)](x, out, 1, BLOCK=16)
                except Exception:
                    out = x.clone()
                return out
        """)),
    ("monkeypatch", cand("torch.allclose = lambda *a, **k: True\n" + HONEST_FORWARD)),
    ("monkeypatch", cand("torch.Tensor.__eq__ = lambda a, b: True\n" + HONEST_FORWARD)),
    ("monkeypatch", cand("setattr(torch, 'allclose', lambda *a, **k: True)\n" + HONEST_FORWARD)),
    ("monkeypatch", cand("T = torch.Tensor\nT.sub = lambda a, b: a\n" + HONEST_FORWARD)),
    ("monkeypatch", cand("class Fake(torch.Tensor):\n    pass\n" + HONEST_FORWARD)),
    ("subclass_reference", cand("class ModelNew(Model):\n    pass\n")),
    ("subclass_reference", cand("""\
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.ref = Model()
            def forward(self, x):
                k[(1,)](x, x, 1, BLOCK=16)
                return self.ref(x)
        """)),
    ("forbidden_import", cand("import os\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("from subprocess import run\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("import numpy.ctypeslib\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("m = __import__('o' + 's')\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("exec('print(1)')\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("name = 'sys'\nm = getattr(__builtins__, name)\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("g = k.__globals__\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("subs = ().__class__.__base__.__subclasses__()\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("from torch.utils.cpp_extension import load_inline\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("f = open('/etc/passwd')\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("import requests_toolbelt\n" + HONEST_FORWARD)),
    ("threads_streams", cand("s = torch.cuda.Stream()\n" + HONEST_FORWARD)),
    ("threads_streams", cand("import threading\n" + HONEST_FORWARD)),
    ("timing_tamper", cand("import time\ntime.perf_counter = lambda: 0.0\n" + HONEST_FORWARD)),
]


@pytest.mark.parametrize(("rule_name", "code"), FIRES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(FIRES)])
def test_rule_fires(rule_name: str, code: str) -> None:
    # kernel_not_launched is advisory since the runtime launch record decides; it must still be reported.
    hits = rules_hit(code, fatal_only=rule_name != "kernel_not_launched")
    assert rule_name in hits, (hits, check_rules(code))


QUIET: list[tuple[str, str]] = [
    ("no_modelnew", cand(HONEST_FORWARD)),
    ("no_triton_kernel", cand("from triton import jit\n\n@jit\ndef k2(x):\n    pass\n" + HONEST_FORWARD)),
    ("no_triton_kernel", "import triton as t\n@t.autotune(configs=[], key=[])\n@t.jit\ndef k(x):\n    pass\n"),
    ("kernel_not_launched", cand("""\
        def launch(x):
            out = torch.empty_like(x)
            k[(1,)](x, out, x.numel(), BLOCK=16)
            return out
        class ModelNew(nn.Module):
            def forward(self, x):
                return self._go(x)
            def _go(self, x):
                return launch(x)
        """)),
    ("torch_compute_fallback", cand("""\
        class ModelNew(nn.Module):
            def __init__(self, n: int):
                super().__init__()
                self.conv = nn.Conv2d(3, 3, 3)  # kept only for its weights
                self.w = nn.Parameter(torch.randn(n) * 0.1)
            def forward(self, x, dim: int = -1):
                x = x.contiguous().view(-1, x.shape[-1]).to(torch.float32)
                out = torch.empty((x.shape[0], x.shape[1] * 1), device=x.device, dtype=x.dtype)
                n = x.numel()
                grid = (triton.cdiv(n, 64) + dim * 0,)
                k[grid](x, out, n, BLOCK=64)
                return out.reshape(x.shape).t().contiguous().T
        """)),
    ("try_except_fallback", cand("try:\n    import numpy as np\nexcept ImportError:\n    np = None\n" + HONEST_FORWARD)),
    ("monkeypatch", cand("""\
        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = 2.0
                setattr(self, "bias", None)
            def forward(self, x):
                out = torch.empty_like(x)
                k[(1,)](x, out, 1, BLOCK=16)
                return out
        """)),
    ("subclass_reference", cand(
        "class Model(nn.Module):\n    def forward(self, x):\n        return torch.relu(x)\n\n" + HONEST_FORWARD)),
    ("forbidden_import", cand("import math\nfrom typing import Optional\nimport functools\n" + HONEST_FORWARD)),
    ("threads_streams", cand(HONEST_FORWARD)),
]


@pytest.mark.parametrize(("rule_name", "code"), QUIET, ids=[f"{r}-{i}" for i, (r, _) in enumerate(QUIET)])
def test_rule_quiet(rule_name: str, code: str) -> None:
    assert rule_name not in rules_hit(code, fatal_only=False), check_rules(code)


def test_strings_and_comments_do_not_fool_the_rules() -> None:
    code = cand('DOC = "import os; torch.softmax(x) // eval(1)"\n# import subprocess\n' + HONEST_FORWARD)
    assert fatal_findings(check_rules(code)) == ()


def test_timing_use_is_a_warning_not_fatal() -> None:
    code = cand("import time\nT0 = time.perf_counter()\n" + HONEST_FORWARD)
    fs = [f for f in check_rules(code) if f.rule == "timing_tamper"]
    assert fs and not any(f.fatal for f in fs)


def test_caching_outputs_is_a_warning() -> None:
    code = cand("""\
        class ModelNew(nn.Module):
            def forward(self, x):
                if getattr(self, "cache", None) is None:
                    out = torch.empty_like(x)
                    k[(1,)](x, out, 1, BLOCK=16)
                    self.cache = out
                return self.cache
        """)
    fs = [f for f in check_rules(code) if f.rule == "caching_outputs"]
    assert fs and not any(f.fatal for f in fs)
    assert fatal_findings(check_rules(code)) == ()


def test_findings_carry_line_numbers() -> None:
    code = cand("import os\n" + HONEST_FORWARD)
    f = next(f for f in check_rules(code) if f.rule == "forbidden_import")
    assert f.line == code.splitlines().index("import os") + 1


def test_reference_classes_count_as_reference() -> None:
    ref = "import torch.nn as nn\nclass Block(nn.Module):\n    pass\nclass Model(nn.Module):\n    pass\n"
    code = cand(HONEST_FORWARD.replace("out = torch.empty_like(x)", "out = torch.empty_like(x)\n        Block()"))
    assert "subclass_reference" in {f.rule for f in check_rules(code, reference=ref)}
    assert "subclass_reference" not in {f.rule for f in check_rules(cand(HONEST_FORWARD), reference=ref)}


@pytest.mark.parametrize("stored", [
    "self.f = lambda t: torch.softmax(t, -1)",  # a lambda kept on the module
    "self.f = _helper",  # a module function kept as data
])
def test_callables_stored_as_data_are_followed(stored: str) -> None:
    code = cand(f"""\
        def _helper(t):
            return torch.softmax(t, -1)


        class ModelNew(nn.Module):
            def __init__(self):
                super().__init__()
                {stored}

            def forward(self, x):
                out = torch.empty_like(x)
                k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
                return self.f(out)
        """)
    assert "torch_compute_fallback" in rules_hit(code)


def test_module_level_lambda_is_followed() -> None:
    code = cand("""\
        SOFTMAX = lambda t: torch.softmax(t, -1)  # noqa: E731


        class ModelNew(nn.Module):
            def forward(self, x):
                out = torch.empty_like(x)
                k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
                return SOFTMAX(out)
        """)
    assert "torch_compute_fallback" in rules_hit(code)


# --- module attribute chains and the patterns real benchmark code uses -----------------------------------

@pytest.mark.parametrize("chain", ["torch.os.system('x')", "random._os.urandom(4)", "typing.sys.modules",
                                   "contextlib.os.getcwd()", "torch.serialization.load('f')",
                                   "functools.reduce.__globals__", "collections.abc.sys"])
def test_escape_modules_reached_as_attributes_are_forbidden(chain: str) -> None:
    header = HEADER + "import random\nimport typing\nimport contextlib\nimport functools\nimport collections.abc\n"
    body = f"""\
    class ModelNew(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = {chain}

        def forward(self, x):
            out = torch.empty_like(x)
            k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
            return out
    """
    assert "forbidden_import" in rules_hit(cand(body, header)), chain


def test_view_helpers_and_benchmark_idioms_are_not_fallbacks() -> None:
    header = HEADER + "import logging\nimport operator\n"
    body = """\
    log = logging.getLogger(__name__)


    class ModelNew(nn.Module):
        def forward(self, x):
            x2 = torch.reshape(torch.squeeze(x.unsqueeze(0), 0), (-1,))
            y = torch.flatten(torch.broadcast_to(x2, x2.shape)).contiguous()
            n = torch.numel(y)
            parts = torch.tensor_split(y, 1)
            out = y.new_empty(y.shape)
            stream = torch.cuda.current_stream if torch.cuda.is_available() else None
            raw = torch._C._cuda_getCurrentRawStream(0) if torch.cuda.is_available() else None
            noise = torch.randn(4) if torch.cuda.is_available() else torch.rand_like(y)
            a, _ = torch.broadcast_tensors(parts[0], parts[0])
            k[(triton.cdiv(n, 64),)](a, out, operator.mul(n, 1), BLOCK=64)
            return out.view_as(x)
    """
    assert rules_hit(cand(body, header)) == set()


def test_relaunch_on_out_of_resources_is_advisory() -> None:
    header = HEADER + "from triton.runtime.errors import OutOfResources\n"
    body = """\
    class ModelNew(nn.Module):
        def forward(self, x):
            out = torch.empty_like(x)
            try:
                k[(triton.cdiv(x.numel(), 128),)](x, out, x.numel(), BLOCK=128)
            except OutOfResources:
                k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
            return out
    """
    found = check_rules(cand(body, header))
    assert [f.fatal for f in found if f.rule == "try_except_fallback"] == [False]


def test_static_not_launched_is_only_advisory() -> None:
    body = """\
    class Helper:
        def __init__(self, kern):
            self.kern = kern

        def go(self, x, out):
            self.kern[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)


    class ModelNew(nn.Module):
        def __init__(self):
            super().__init__()
            self.h = Helper(k)

        def forward(self, x):
            out = torch.empty_like(x)
            self.h.go(x, out)
            return out
    """
    assert rules_hit(cand(body)) == set()


def test_pathological_source_is_a_syntax_error() -> None:
    from rewards.contract.config import VerifyConfig
    from rewards.engine.client import static_check

    deep = cand(HONEST_FORWARD) + "x = " + "-" * 200000 + "1\n" + "y = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    _, early, _ = static_check("```python\n" + deep + "```", VerifyConfig(device="cpu"))
    assert early is not None and early.status.value == "syntax_error"


# --------------------------------------------------------------------- honest patterns the rules must accept
TRITON_OP = """\
@torch.library.triton_op("tfunit::copy", mutates_args=())
def copy(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    torch.library.wrap_triton(k)[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
    return out{extra}


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.ops.tfunit.copy{suffix}(x)
"""


@pytest.mark.parametrize("suffix", ["", ".default"])
def test_own_triton_op_called_through_torch_ops_is_admitted(suffix: str) -> None:
    assert rules_hit(cand(TRITON_OP.format(extra="", suffix=suffix))) == set()


def test_own_op_registered_without_decorator_is_admitted() -> None:
    body = TRITON_OP.replace('@torch.library.triton_op("tfunit::copy", mutates_args=())\n', "").format(
        extra='\n\n\ncopy_op = torch.library.triton_op("tfunit::copy", mutates_args=())(copy)', suffix="")
    assert rules_hit(cand(body)) == set()


def test_torch_compute_in_own_op_body_is_followed_through_torch_ops() -> None:
    """The op's body is on the forward path when forward reaches it through torch.ops."""
    body = TRITON_OP.format(extra="", suffix="").replace("out = torch.empty_like(x)", "out = torch.relu(x)")
    findings = [f for f in check_rules(cand(body)) if f.fatal]
    assert [f.rule for f in findings] == ["torch_compute_fallback"], findings
    assert "torch.relu" in findings[0].message


@pytest.mark.parametrize("call", [
    "torch.ops.aten.relu(x)",  # torch's own operator
    "torch.ops.tfother.copy(x)",  # an operator the candidate did not register
    "torch.ops.load_library('x.so')",
])
def test_other_torch_ops_stay_refused(call: str) -> None:
    body = TRITON_OP.format(extra="", suffix="").replace("return torch.ops.tfunit.copy(x)", f"return {call}")
    assert rules_hit(body_code := cand(body)) & {"forbidden_import", "torch_compute_fallback"}, check_rules(body_code)


def test_op_registered_in_a_torch_namespace_is_not_the_candidates() -> None:
    body = TRITON_OP.format(extra="", suffix="").replace("tfunit::copy", "aten::copy").replace(
        "torch.ops.tfunit.copy", "torch.ops.aten.copy")
    assert "forbidden_import" in rules_hit(cand(body))


ANNOTATED = """\
class _Impl(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x){compute}
        k[(triton.cdiv(x.numel(), 64),)](x, out, x.numel(), BLOCK=64)
        return out


ModelNew: {annotation} = _Impl
"""


@pytest.mark.parametrize("annotation", ["type[nn.Module]", "Any", "'type[nn.Module]'"])
def test_modelnew_bound_by_annotated_assignment(annotation: str) -> None:
    header = "from typing import Any\n" + HEADER
    assert rules_hit(cand(ANNOTATED.format(compute="", annotation=annotation), header)) == set()
    cheat = ANNOTATED.format(compute="\n        x = torch.relu(x)", annotation=annotation)
    assert rules_hit(cand(cheat, header)) == {"torch_compute_fallback"}


def test_annotation_without_value_binds_nothing() -> None:
    body = ANNOTATED.format(compute="", annotation="type[nn.Module]").replace(" = _Impl", "")
    assert "no_modelnew" in rules_hit(cand(body))


def test_annotated_assignments_are_followed_like_assignments() -> None:
    """A callable held by an annotated module global and an nn layer bound with an annotation in __init__
    are seen as on the forward path."""
    held = """\
    SM: object = lambda t: torch.softmax(t, -1)

    class ModelNew(nn.Module):
        def forward(self, x):
            out = torch.empty_like(x)
            k[(1,)](SM(x), out, 1, BLOCK=16)
            return out
    """
    layer = """\
    class ModelNew(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin: nn.Module = nn.Linear(4, 4)

        def forward(self, x):
            out = torch.empty_like(x)
            k[(1,)](self.lin(x), out, 1, BLOCK=16)
            return out
    """
    assert "torch_compute_fallback" in rules_hit(cand(held))
    assert "torch_compute_fallback" in rules_hit(cand(layer))


NUMPY_GRID = """\
import numpy as np


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        blocks = {grid}
        k[(int(blocks),)](x, out, n, BLOCK=64)
        return out
"""


@pytest.mark.parametrize("grid", ["np.int64(n + 63) // np.int64(64)", "np.int32(n // 64 + 1)",
                                  "np.float64(n) / 64", "np.intp(x.shape[0])"])
def test_numpy_scalars_of_python_ints_are_not_compute(grid: str) -> None:
    assert rules_hit(cand(NUMPY_GRID.format(grid=grid))) == set()


@pytest.mark.parametrize("grid", ["np.int64(x)", "np.float32(x[0])", "np.maximum(n, 64)", "np.asarray(x).sum()",
                                  "np.int64(np.asarray(x).max())", "np.float32([v for v in x])",
                                  "np.int64(*x)"])
def test_numpy_over_tensor_data_stays_refused(grid: str) -> None:
    assert "torch_compute_fallback" in rules_hit(cand(NUMPY_GRID.format(grid=grid)))


DICT_INPUT = """\
class ModelNew(nn.Module):
    def forward(self, d):
        out = torch.zeros_like(d["a"])
        for {loop}:
            k[(1,)]({arg}, out, 1, BLOCK=16){compute}
        return out
"""


@pytest.mark.parametrize(("loop", "arg"), [("t in d.values()", "t"), ("key in d.keys()", "d[key]"),
                                           ("key, t in d.items()", "t"), ("key in d", "d.get(key)")])
def test_mapping_methods_of_a_dict_input_are_not_tensor_compute(loop: str, arg: str) -> None:
    assert rules_hit(cand(DICT_INPUT.format(loop=loop, arg=arg, compute=""))) == set()


def test_compute_over_dict_values_stays_refused() -> None:
    code = cand(DICT_INPUT.format(loop="t in d.values()", arg="t", compute="\n            out = out + d['a']"))
    assert "torch_compute_fallback" in rules_hit(code)
