"""The TritonBench value oracle's harness: a module tail whose class records the calls of a benchmark's
test once and replays them in `forward` (`Model` for the reference, `ModelNew` appended to candidates by
`with_harness`). Its static part is the source text of `data_pipeline/tritonbench_runtime.py`; only the
test's recorder and the dispatching class are generated here.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from data_pipeline.tritonbench_device import device_portable
from data_pipeline.tritonbench_split import SplitTest

# The static part: a real module (linted, tested), whose text from its first harness line on is appended.
_RUNTIME_FILE = Path(__file__).with_name("tritonbench_runtime.py")
_RUNTIME_START = "# ---- TritonBench harness (value oracle) ----\n"
_TEST_BODY_LINE = re.compile(r"^# ---- test body: .*\n", re.M)
_BACKWARD_LINE = re.compile(r"^_TB_BACKWARD = False\b.*$", re.M)

# The generated part: the benchmark's test and the recorder that runs it, then the class whose forward
# dispatches to the entry points.
_RECORDER = '''{test_body}


def _tb_record():
    _TB_LOG.clear()
    _TB_TENSORS.clear()
    _TB_OBJS.clear()
    {test_name}()
    return list(_TB_LOG), list(_TB_TENSORS)


'''

_CLASS = '''class {cls}(_tb_nn.Module):
    def __init__(self, *spec):
        super().__init__()
        # The reference's Model takes the calls its get_inputs just recorded (one run of the test fewer
        # per task); ModelNew takes the same list from the judge (get_candidate_init_inputs) or, where it
        # has no plain form, records its own, here, outside forward.
        self._tb_spec = {spec_init}
        self._tb_ops = _TBOps()

    def forward(self, *tensors):
        ops = self._tb_ops
        ops.start(tensors)
{spec_lazy}        for step in self._tb_spec:
            a, k = ops.args(step)
            kind, name, grid = step[0][0], step[0][1], step[3]
{dispatch}
            ops.run(step, fn, a, k)
        return ops.finish()
'''


@functools.cache
def _runtime() -> tuple[str, str]:
    """The runtime module's harness text, split where the test body goes."""
    text = _RUNTIME_FILE.read_text()
    text = text[text.index(_RUNTIME_START):]
    before, after = _TEST_BODY_LINE.split(text)
    return before, after.lstrip("\n")


def _template() -> str:
    before, after = _runtime()
    return "\n" + before + _RECORDER + after.rstrip("\n") + "\n\n\n" + _CLASS


_REFERENCE_TAIL = '''

def get_inputs():
    # The recorded tensors, then the trial's seed for random draws inside the replayed calls.
    tensors = _tb_record()[1]
    return tensors + [int(_tb_torch.randint(0, 1 << 62, (1,)))]


def get_init_inputs():
    return []


def get_candidate_init_inputs():
    # After the trials: the calls the test made, for the candidate's ModelNew (it need not run the test).
    try:
        return [_tb_encode(list(_TB_LOG))] if _TB_LOG else []
    except ValueError:
        return []
'''


# Only the reference's forward may record (ModelNew's forward must read as plain calls to the rules).
_SPEC_LAZY = """        if self._tb_spec is None:
            self._tb_spec = list(_TB_LOG) if _TB_LOG else _tb_record()[0]
"""


_SPEC_GIVEN = "_tb_decode(spec[0]) if spec else _tb_record()[0]"


def harness_source(split: SplitTest, cls: str) -> str:
    """A module tail defining `cls`, whose forward replays the recorded calls of the test."""
    lines = []
    for kind, names in (("func", split.entries.funcs), ("launch", split.entries.launches),
                        ("new", split.entries.classes)):
        for e in names:
            # A launch keeps the `kernel[grid](...)` call syntax, which is what the rules look for.
            target = f"lambda *a, **k: {e}[grid](*a, **k)" if kind == "launch" else e
            lines.append(f"            {'if' if not lines else 'elif'} kind == {kind!r} and name == {e!r}:\n"
                         f"                fn = {target}")
    lines.append("            " + ("else:" if lines else "if True:") + "\n                fn = ops.obj(step)")
    out, n = _BACKWARD_LINE.subn(f"_TB_BACKWARD = {split.backward!r}", _template(), count=1)
    if n != 1:
        raise RuntimeError(f"{_RUNTIME_FILE.name} lost its `_TB_BACKWARD = False` line")
    for key, val in (("{test_name}", split.test_name), ("{cls}", cls), ("{dispatch}", "\n".join(lines)),
                     ("{spec_init}", "None" if cls == "Model" else _SPEC_GIVEN),
                     ("{spec_lazy}", _SPEC_LAZY if cls == "Model" else ""),
                     ("{test_body}", split.test_body)):
        out = out.replace(key, val)  # not str.format: the harness is full of braces
    # Classes of the reference count as "the reference" for the rules, so each side gets its own classes.
    for c in ("_TBSlot", "_TBObjRef", "_TBObj", "_TBOps"):
        out = re.sub(rf"\b{c}\b", f"{c}{cls}", out)
    return out


def with_harness(code: str, harness: str) -> str:
    """Candidate code (wrapper functions, TritonBench style) made comparable and device-portable: device
    literals pointed at the present device, the `ModelNew` harness appended."""
    return device_portable(code).rstrip("\n") + "\n\n" + harness
