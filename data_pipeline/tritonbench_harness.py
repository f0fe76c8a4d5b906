"""The TritonBench value oracle's harness: template text for a module tail whose class records the calls
of a benchmark's test once and replays them in `forward` (`Model` for the reference, `ModelNew` appended
to candidates by `with_harness`).
"""

from __future__ import annotations

import re

from data_pipeline.tritonbench_device import device_portable
from data_pipeline.tritonbench_split import SplitTest

_HARNESS = '''
# ---- TritonBench harness (value oracle) ----
# The test function runs outside forward (in __init__ / get_inputs) only to record every call of the entry
# points with its arguments; forward then replays those calls on (copies of) the tensors it is given and
# returns every result: return values (tensors, numbers, nested containers), tensors the call wrote in
# place, and whether a call raised where the test expects it to. Where the test runs backward, the tensors
# it differentiates by come in requiring grad and the judge adds their gradients, outside forward.
# Randomness inside an entry point (a wrapper that draws its own `torch.randn` data) is reproducible: each
# replayed call starts from a seed derived from the trial's secret seed (the last input), the same on both
# sides and unknown before the trial.
import torch
import torch as _tb_torch
import torch.nn as _tb_nn

_TB_DEVICE = "cuda" if _tb_torch.cuda.is_available() else "cpu"
_TB_BACKWARD = {backward}
_TB_LOG = []
_TB_TENSORS = []
_TB_OBJS = []


class _TBSlot:
    def __init__(self, index, grad):
        self.index = index
        self.grad = grad


class _TBObjRef:
    def __init__(self, index):
        self.index = index


class _TBObj:
    """Stands for an object the test built from the code (an nn.Module, say): its calls are recorded."""

    def __init__(self, index, obj):
        self._tb_index = index
        self._tb_obj = obj

    def __call__(self, *args, **kwargs):
        return _tb_record_call(("call", self._tb_index), self._tb_obj, args, kwargs)


def _tb_real(value):
    """The objects themselves where the test passes a recorded object on to another call."""
    if isinstance(value, _TBObj):
        return value._tb_obj
    if isinstance(value, list):
        return [_tb_real(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_real(v) for v in value)
    if isinstance(value, dict):
        return {k: _tb_real(v) for k, v in value.items()}
    return value


def _tb_template(value, memo):
    if isinstance(value, _tb_torch.Tensor):
        if id(value) not in memo:
            grad = bool(_TB_BACKWARD and value.requires_grad and value.is_floating_point())
            _TB_TENSORS.append(value.detach().clone().requires_grad_(grad))
            memo[id(value)] = _TBSlot(len(_TB_TENSORS) - 1, grad)
        return memo[id(value)]
    if isinstance(value, _TBObj):
        return _TBObjRef(value._tb_index)
    if isinstance(value, list):
        return [_tb_template(v, memo) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_template(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: _tb_template(v, memo) for k, v in value.items()}
    return value


def _tb_changed(before, after):
    if before.shape != after.shape or before.dtype != after.dtype:
        return True
    a, b = before.detach(), after.detach()
    same = a == b
    if a.is_floating_point() or a.is_complex():
        same = same | (_tb_torch.isnan(a) & _tb_torch.isnan(b))
    return not bool(same.all())


def _tb_record_call(key, fn, args, kwargs, extra=None):
    memo = {}
    entry = [key, _tb_template(list(args), memo), _tb_template(dict(kwargs), memo), extra, False, []]
    _TB_LOG.append(entry)
    live = {id(v): v for v in _tb_leaves([list(args), dict(kwargs)], []) if isinstance(v, _tb_torch.Tensor)}
    try:
        result = fn(*_tb_real(list(args)), **_tb_real(dict(kwargs)))
    except Exception:
        entry[4] = True  # the test expects this call to raise (it caught the exception)
        raise
    # Arguments the call wrote in place are outputs too (an `out=` buffer, a kernel's output pointer).
    entry[5] = sorted(slot.index for i, slot in memo.items()
                      if isinstance(slot, _TBSlot) and i in live and _tb_changed(_TB_TENSORS[slot.index], live[i]))
    return result


def _tb_call(name, fn, *args, **kwargs):
    return _tb_record_call(("func", name), fn, args, kwargs)


def _tb_launch(name, kernel, grid, *args, **kwargs):
    return _tb_record_call(("launch", name), kernel[grid], args, kwargs, grid)


def _tb_new(name, cls, *args, **kwargs):
    obj = _tb_record_call(("new", name, len(_TB_OBJS)), cls, args, kwargs)
    _TB_OBJS.append(obj)
    return _TBObj(len(_TB_OBJS) - 1, obj)


{test_body}


def _tb_record():
    _TB_LOG.clear()
    _TB_TENSORS.clear()
    _TB_OBJS.clear()
    {test_name}()
    return list(_TB_LOG), list(_TB_TENSORS)


_TB_DTYPES = {str(d).rsplit(".", 1)[-1]: d for d in (
    _tb_torch.float16, _tb_torch.bfloat16, _tb_torch.float32, _tb_torch.float64, _tb_torch.int8, _tb_torch.int16,
    _tb_torch.int32, _tb_torch.int64, _tb_torch.uint8, _tb_torch.bool, _tb_torch.complex64, _tb_torch.complex128,
    _tb_torch.float8_e4m3fn, _tb_torch.float8_e5m2)}
_TB_DTYPE_NAMES = {d: n for n, d in _TB_DTYPES.items()}


def _tb_encode(value):
    """A recorded call list as plain data (lists, str-keyed dicts, numbers, strings): it travels to the
    candidate in the judge's inputs file, which is read with weights_only. ValueError where a value has no
    plain form (a grid lambda, say): the candidate then records the calls itself."""
    # Exact types only: a numpy scalar is a float subclass, and one in the inputs file would stop the
    # weights_only load of the whole task; a shape stays a torch.Size.
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is _tb_torch.Size:
        return {"tb": "size", "v": [int(v) for v in value]}
    if isinstance(value, _TBSlot):
        return {"tb": "slot", "i": value.index, "g": value.grad}
    if isinstance(value, _TBObjRef):
        return {"tb": "obj", "i": value.index}
    if isinstance(value, _tb_torch.dtype) and value in _TB_DTYPE_NAMES:
        return {"tb": "dtype", "v": _TB_DTYPE_NAMES[value]}
    if type(value) is list:
        return [_tb_encode(v) for v in value]
    if type(value) is tuple:
        return {"tb": "tuple", "v": [_tb_encode(v) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"tb": "dict", "k": list(value), "v": [_tb_encode(v) for v in value.values()]}
    raise ValueError(type(value).__name__)


def _tb_decode(value):
    if isinstance(value, list):
        return [_tb_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value["tb"]
    if tag == "slot":
        return _TBSlot(value["i"], value["g"])
    if tag == "obj":
        return _TBObjRef(value["i"])
    if tag == "dtype":
        return _TB_DTYPES[value["v"]]
    if tag == "tuple":
        return tuple(_tb_decode(v) for v in value["v"])
    if tag == "size":
        return _tb_torch.Size(value["v"])
    return dict(zip(value["k"], [_tb_decode(v) for v in value["v"]]))


def _tb_fill(value, tensors, objs):
    if isinstance(value, _TBSlot):
        return tensors[value.index]
    if isinstance(value, _TBObjRef):
        return objs[value.index]
    if isinstance(value, list):
        return [_tb_fill(v, tensors, objs) for v in value]
    if isinstance(value, tuple):
        return tuple(_tb_fill(v, tensors, objs) for v in value)
    if isinstance(value, dict):
        return {k: _tb_fill(v, tensors, objs) for k, v in value.items()}
    return value


def _tb_leaves(value, out):
    """Tensors, numbers and strings of a result, in a fixed order (dicts by key order)."""
    if isinstance(value, _tb_torch.Tensor):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _tb_leaves(v, out)
    elif isinstance(value, dict):
        for k in value:
            _tb_leaves(value[k], out)
    elif isinstance(value, (bool, int, float, complex)):
        out.append(value)
    elif type(value).__module__ == "numpy" and hasattr(value, "dtype"):
        import numpy as _tb_np
        out.append(_tb_torch.from_numpy(_tb_np.array(value, copy=True)))
    return out


class _TBOps:
    """The replay's bookkeeping, kept off ModelNew.forward so the static rules read forward as what it is:
    plain calls of the candidate's entry points (copies, gradients and expected raises are the judge's)."""

    def __init__(self):
        self.tensors, self.objs, self.outs = [], {}, []

    def start(self, tensors):
        # Copies: a call that writes its arguments in place is judged by what it wrote (an output, with
        # the output tolerances), while the inputs the judge handed in stay as they were.
        *tensors, self.seed = tensors
        self.tensors = [t.clone() if isinstance(t, _tb_torch.Tensor) else t for t in tensors]
        self.objs, self.outs, self.step = {}, [], 0

    def args(self, step):
        return _tb_fill(step[1], self.tensors, self.objs), _tb_fill(step[2], self.tensors, self.objs)

    def obj(self, step):
        return self.objs[step[0][1]]

    def run(self, step, fn, a, k):
        key, raised = step[0], step[4]
        self.step += 1
        _tb_torch.manual_seed((int(self.seed) + self.step) % (1 << 62))
        if raised:
            try:
                fn(*a, **k)
            except Exception:
                self.outs.append(True)  # raised, as the benchmark's test expects
            else:
                self.outs.append(False)
            return
        with _tb_torch.enable_grad():  # an entry point may run autograd itself (an optimizer step)
            res = fn(*a, **k)
        if key[0] == "new":
            self.objs[key[2]] = res
            return
        # Not detached: the judge differentiates these where the test runs backward (and copies them).
        self.outs += _tb_leaves(res, [])
        self.outs += [self.tensors[i] for i in step[5]]

    def finish(self):
        if not self.outs:
            raise RuntimeError("TritonBench harness: the test compares nothing (no recorded call returned or wrote a value)")
        return tuple(self.outs)


class {cls}(_tb_nn.Module):
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
    out = _HARNESS
    for key, val in (("{test_name}", split.test_name), ("{cls}", cls), ("{dispatch}", "\n".join(lines)),
                     ("{backward}", repr(split.backward)), ("{spec_init}", "None" if cls == "Model" else _SPEC_GIVEN),
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
