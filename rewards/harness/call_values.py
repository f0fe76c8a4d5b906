"""A call's values on both sides of the judge: each call's own copies of its inputs (`fresh_inputs`), the tensors among
them (`input_tensors`), and what forward returned, left in its inputs and produced as input gradients, as
plain CPU data (`plain_outputs`, `clone_to_cpu`, `input_grads`) the judge loads with weights_only.

Apart from the candidate harness (`rewards.harness.child`) because the trusted reference process
(`rewards.oracle.reference_run`) copies its inputs and outputs the same way, so that both sides are judged
alike; this module knows nothing of the harness, the recorder or the channel. With `trusted=False` every walk
accepts only exact built-in types: a subclass's method or a key's `repr` would run candidate code after
forward, where no recorder watches.
"""

from __future__ import annotations

import collections
from typing import Any

import torch

PLAIN_KEYS = (str, int, float, bool, type(None))  # dict keys in a candidate's result: no code of its own
# Values an input may hold after forward besides tensors and containers (what `decode_payload` can give).
PLAIN_VALUES = (type(None), bool, int, float, complex, str, torch.dtype, torch.device)
# Bound once, before candidate code exists. The harness copies what forward returned and left in its inputs
# through these, never `t.detach()`: a tensor has a `__dict__` and `Tensor.detach` is a non-data
# descriptor, so `out.detach = f` (no audit event) would run the candidate's `f` there, after forward and
# unrecorded, and whatever `f` computed in torch would be copied as the answer.
_DETACH, _TENSOR_TO = torch.Tensor.detach, torch.Tensor.to
_EXACT_TENSORS = (torch.Tensor, torch.nn.Parameter)


def _copy_cpu(t: torch.Tensor) -> torch.Tensor:
    """A CPU copy of a tensor of an exact type (checked by the caller), no method looked up on `t`."""
    return _TENSOR_TO(_DETACH(t), "cpu", copy=True)


MAX_LEAVES = 4096  # tensors/scalars in one forward's result: far above any benchmark's, far below a DoS


def to_device(obj: Any, device: str) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return _rebuilt(obj, [to_device(o, device) for o in obj])
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj


def _rebuilt(seq: list | tuple, items: list[Any]) -> Any:
    """`seq`'s type holding `items`: a namedtuple takes them as fields, a list/tuple (or torch.Size) as one."""
    if type(seq) in (list, tuple):
        return type(seq)(items)
    return type(seq)(*items) if hasattr(seq, "_fields") else type(seq)(items)


def clone_to_cpu(obj: Any, trusted: bool = True) -> Any:
    """CPU copies of the tensors in `obj` (lists and tuples walked).

    `trusted=False` (a candidate's inputs after its forward): only exact tensor types and containers and
    the plain values inputs are made of. Forward can re-class an input tensor (torch's own
    `UninitializedTensorMixin.materialize` assigns `__class__` for whoever calls it) or put an object of
    its own into an input list or dict; the copy (a subclass's `__torch_function__`) or the pickling of the
    result (`__reduce_ex__`) would then run its code after forward, unrecorded."""
    if not trusted:
        return _clone_untrusted(obj, 0)
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if type(obj) in (tuple, torch.Size):  # kept as they are (both survive weights_only loading): a task's
        return type(obj)(clone_to_cpu(o) for o in obj)  # torch.Size input reached the candidate as a list
    if isinstance(obj, (list, tuple)):
        return [clone_to_cpu(o) for o in obj]
    return obj


def _clone_untrusted(obj: Any, depth: int) -> Any:
    t = type(obj)
    if depth > 32:
        raise TypeError("an input is nested too deeply")
    if t in _EXACT_TENSORS:
        return _copy_cpu(obj)
    if t in (list, tuple, torch.Size):  # torch.Size: a C type, as a task's input hands it
        return [_clone_untrusted(o, depth + 1) for o in obj]
    if t is dict and all(type(k) in PLAIN_KEYS for k in obj):
        return {k: _clone_untrusted(v, depth + 1) for k, v in obj.items()}
    if t in PLAIN_VALUES:
        return obj
    raise TypeError(f"forward left an input holding a {t.__name__}; inputs hold plain tensors and values")


def fresh_inputs(inp: list[Any], device: str) -> list[Any]:
    """A call's own copies of `inp`'s tensors, nested ones too (an input may be a list of tensors: a
    foreach-style in-place update). Cloning only the top level let a CPU reference write into the very
    tensors it keeps as the trial's inputs, which the candidate then received already updated."""
    def fresh(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.clone()
        if isinstance(x, (list, tuple, dict)) and not input_tensors(x):
            return x  # a torch.Size, a namedtuple of numbers: nothing to copy, and kept as it is
        if isinstance(x, (list, tuple)):
            return _rebuilt(x, [fresh(o) for o in x])
        if isinstance(x, dict):
            return {k: fresh(v) for k, v in x.items()}
        return x

    return to_device([fresh(x) for x in inp], device)


def input_tensors(obj: Any) -> list[torch.Tensor]:
    """The tensors among a call's inputs in a fixed order, nested ones included (a list of tensors updated
    in place is an answer as much as a top-level tensor is)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in input_tensors(o)]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in input_tensors(v)]
    return []


def sync_device(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _result_leaves(out: Any, trusted: bool) -> list[Any]:
    """The leaves of forward's result in judging order (dicts by key), uncopied: plain dense tensors and
    Python scalars. The one walk of a result, for its values (`plain_outputs`) and for its gradients
    (`input_grads`).

    Only exact built-in containers (tuple, list, dict or OrderedDict with str/int keys) are walked and only exact tensor
    types accepted: a subclass, or a key's `repr` while sorting, could run candidate code here, after
    forward, where no recorder watches it; a kernel's result is a dense tensor anyway."""
    leaves: list[Any] = []

    def walk(o: Any, depth: int) -> None:
        if depth > 32:
            raise TypeError("forward returned a structure nested too deeply")
        if len(leaves) > MAX_LEAVES:
            raise TypeError(f"forward returned more than {MAX_LEAVES} values")
        t = type(o)
        if t is torch.Tensor or t is torch.nn.Parameter:
            if o.layout != torch.strided:
                raise TypeError(f"forward returned a {o.layout} tensor; return a dense (strided) tensor")
            leaves.append(o)
        elif t in (tuple, list) or (trusted and isinstance(o, (tuple, list))):
            for x in o:
                walk(x, depth + 1)
        elif t is dict or t is collections.OrderedDict or (trusted and isinstance(o, dict)):
            # OrderedDict: a C type of the stdlib, its iteration and lookups run no code of the candidate's
            bad = next((k for k in o if type(k) not in PLAIN_KEYS), None) if not trusted else None
            if bad is not None:  # sorting calls repr(key): a key of the candidate's class would run its code
                raise TypeError(f"forward returned a dict keyed by {type(bad).__name__}; use str or int keys")
            # the keys are part of the answer: without this leaf {"a": .., "b": ..} passed for {"neg": .., "pos": ..}
            leaves.append("dict keys " + repr(sorted(o, key=repr)))
            for k in sorted(o, key=repr):
                walk(o[k], depth + 1)
        elif o is None or t in (bool, int, float, complex, str):
            leaves.append(o)
        elif isinstance(o, torch.Tensor):
            raise TypeError(f"forward returned a tensor subclass ({t.__name__}); return a plain tensor")
        else:
            raise TypeError(f"forward returned an unsupported value of type {t.__name__}")

    walk(out, 0)
    return leaves


def _is_tensor_leaf(o: Any) -> bool:
    return type(o) is torch.Tensor or type(o) is torch.nn.Parameter


def plain_outputs(out: Any, trusted: bool = False) -> list[Any]:
    """Forward's outputs as plain CPU data (a flat list of leaves) the judge loads with weights_only."""
    # not o.detach(): an instance attribute could shadow it
    return [_copy_cpu(o) if _is_tensor_leaf(o) else o for o in _result_leaves(out, trusted)]


def grad_leaves(dev_inp: list[Any], grad_idx: list[int]) -> None:
    """Make the inputs the task's test differentiates by (`grad_idx`, from the trusted reference) leaves
    that require grad, in place in `dev_inp`."""
    for i in grad_idx:
        x = dev_inp[i] if 0 <= i < len(dev_inp) else None
        if type(x) is torch.Tensor and x.is_floating_point():
            dev_inp[i] = x.detach().requires_grad_(True)


def input_grads(out: Any, dev_inp: list[Any], grad_idx: list[int], trusted: bool = False) -> list[Any]:
    """Gradients of forward's outputs with respect to the `grad_idx` inputs, as plain CPU values.

    The judge runs this, after forward's outputs and inputs were copied and outside the recorded forward:
    a backward that reduces with torch (`dy.sum(0)`, as the benchmarks' own autograd Functions do) is not
    a forward computed in torch, and a backward that writes into forward's results changes nothing judged.
    Each output gets a fixed pseudo-random cotangent (the same on both sides), so every element counts;
    an input no output depends on reads "no gradient" on both sides alike."""
    # The same walk as the values' (it already passed there): the float tensors that require grad.
    # requires_grad and dtype are attributes no instance entry can shadow.
    roots = [o for o in _result_leaves(out, trusted) if _is_tensor_leaf(o) and o.requires_grad
             and o.dtype.is_floating_point]
    leaves = [dev_inp[i] for i in grad_idx if 0 <= i < len(dev_inp) and type(dev_inp[i]) is torch.Tensor
              and dev_inp[i].requires_grad]
    if not roots or not leaves:
        return ["no gradient"] * len(grad_idx)
    cots = []
    for k, r in enumerate(roots):
        g = torch.Generator().manual_seed(1234 + k)
        cots.append(torch.randn(r.shape, generator=g, dtype=torch.float32).to(device=r.device, dtype=r.dtype))
    with torch.enable_grad():
        grads = torch.autograd.grad(roots, leaves, grad_outputs=cots, allow_unused=True)
    # A gradient may be the very tensor the candidate's backward returned: copied like forward's outputs.
    out: list[Any] = []
    for g in grads:
        if g is not None and not trusted and type(g) not in _EXACT_TENSORS:
            raise TypeError(f"backward produced a gradient of type {type(g).__name__}; return plain tensors")
        out.append(_copy_cpu(g) if g is not None else "no gradient")
    return out
