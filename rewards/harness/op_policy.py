"""What the runtime record judges by: the op policy (which ATen ops a Triton wrapper may run, which tensor
methods are refused, how many scalar reads a forward may make) and whose code a frame is (the candidate's,
or torch/Triton/the harness's).

Apart from the recorder (`rewards.harness.guard`) because everything in the candidate process asks these
questions: the recorder's modes, the launch counter (`rewards.harness.launch_counter`), the process-wide
guards (`rewards.harness.process_guards`) and the audit hook (`rewards.harness.audit`). It holds plain data and
frame walks only, and imports nothing of the harness.
"""

from __future__ import annotations

from typing import Any

CAND_MODULE = "tf_candidate"

# ATen ops (overload packet names) a Triton wrapper may execute: allocation, views, copies, dtype and
# device moves, metadata and scalar bookkeeping. Everything else computes.
ALLOWED_ATEN = frozenset({
    # allocation / fill with constants
    "empty", "empty_like", "empty_strided", "empty_permuted", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like", "new_full", "fill",
    "fill_", "zero", "zero_", "arange", "scalar_tensor", "lift_fresh", "lift_fresh_copy", "resize_",
    "resize", "set_", "set",
    # views and layout
    "view", "_unsafe_view", "reshape", "_reshape_alias", "as_strided", "expand", "permute", "transpose",
    "t", "squeeze", "unsqueeze", "squeeze_", "unsqueeze_", "select", "slice", "narrow", "split",
    "split_with_sizes", "tensor_split", "chunk", "unbind", "unflatten", "flatten", "view_as", "movedim",
    "alias", "detach", "detach_", "contiguous", "expand_as", "broadcast_to", "swapaxes", "transpose_",
    "t_", "conj", "resolve_conj", "resolve_neg", "_conj", "real", "view_as_real", "view_as_complex",
    # copies and moves
    "clone", "copy", "copy_", "_to_copy", "to", "_copy_from", "_copy_from_and_resize", "cat", "stack",
    "_has_compatible_shallow_copy_type", "record_stream",
    # random draws: noise cannot compute a deterministic answer (random tasks are labelled nondeterministic)
    "randn", "rand", "randint", "randperm", "normal", "normal_", "uniform", "uniform_", "bernoulli",
    "bernoulli_", "random_", "randn_like", "rand_like", "randint_like", "exponential_", "geometric_",
    # metadata and scalars
    "sym_size", "sym_stride", "sym_numel", "sym_storage_offset", "is_contiguous", "_local_scalar_dense",
    "size", "stride", "numel", "dim", "is_same_size", "is_nonzero",
})
# Tensor methods (torch-function level) that move data out of torch where no op can see it.
DENIED_FUNCTIONS = frozenset({
    "tolist", "numpy", "__array__", "__array_wrap__", "__dlpack__", "untyped_storage", "storage",
    "_typed_storage", "__reduce_ex__", "__setstate__", "_make_subclass", "register_hook",
    # printing a tensor reads every value with the recorder's modes disabled (torch._tensor_str)
    "__repr__", "__str__", "__format__",
})
# Refused only when the candidate's own code calls them (Triton's launcher needs them).
DENIED_FROM_CANDIDATE = frozenset({"data_ptr", "storage_offset_ptr", "_cdata"})
# Scalar reads (`.item()`, `float(t)`, `int(t)`) per forward, counted in bytes read: enough for lengths and
# flags, and a tiny share (1/16) of the bytes the task hands forward, so that no answer can be read out and
# computed in Python. Bytes, not reads: a uint8 input viewed as complex128 gives 16 elements per `.item()`.
MAX_SCALAR_READS = 64  # four-byte reads at most (32 eight-byte ones)
MIN_SCALAR_READS = 2  # eight-byte reads at least (two Python numbers, whatever the task's size)
MAX_SCALAR_BYTES = 4 * MAX_SCALAR_READS
MIN_SCALAR_BYTES = 8 * MIN_SCALAR_READS
SCALAR_BYTES_PER_INPUT_BYTE = 1 / 16
# Tensor methods that hand host code a view of a tensor's memory (numpy arrays, DLPack capsules, storages
# and their addresses). Refused to the candidate's code at every stage, not only in forward: a view made at
# import or in `__init__` of a buffer that forward's kernels fill is a host-side compute engine.
HOST_VIEWS = frozenset({"numpy", "__array__", "__dlpack__", "untyped_storage", "storage", "_typed_storage"})


def _is_candidate_frame(f: Any) -> bool:
    return f.f_globals.get("__name__") == CAND_MODULE or f.f_code.co_filename == "candidate.py"


def candidate_since(frame: Any, mark: Any) -> bool:
    """Whether a frame of the candidate's lies between `frame` and the older frame `mark` (the candidate's
    code runs inside the region `mark` opened). A mark no longer on the stack counts as candidate code."""
    f = frame
    while f is not None and f is not mark:
        if _is_candidate_frame(f):
            return True
        f = f.f_back
    return f is None


def candidate_on_stack(frame: Any) -> bool:
    """Whether the candidate's code is anywhere below `frame` (it asked for this, directly or through a
    helper: numpy's `asarray` calls `Tensor.__array__` from a torch frame on the candidate's behalf)."""
    f = frame
    while f is not None:
        if _is_candidate_frame(f):
            return True
        f = f.f_back
    return False


def scalar_read_budget(inputs: Any) -> int:
    """Bytes of scalar reads one forward may make: a tiny share of the bytes of the task's inputs (a length, a
    flag), between MIN_SCALAR_BYTES and MAX_SCALAR_BYTES. 64 reads were a whole solution of a 32+32-element
    dot product; 64 reads of complex128 views were all 1024 bytes of a uint8 input."""
    import torch

    def nbytes(o: Any) -> int:
        if isinstance(o, torch.Tensor):
            return o.numel() * o.element_size()
        if isinstance(o, (list, tuple)):
            return sum(nbytes(x) for x in o)
        if isinstance(o, dict):
            return sum(nbytes(x) for x in o.values())
        return 0

    return max(MIN_SCALAR_BYTES, min(MAX_SCALAR_BYTES, int(nbytes(inputs) * SCALAR_BYTES_PER_INPUT_BYTE)))


_TRUSTED_ROOTS = frozenset({"torch", "triton", "rewards"})


def initiator(frame: Any) -> str | None:
    """Who asked for what happens in `frame`: walking outwards past standard-library and other helper
    frames (functools, typing, logging, numpy... act on someone's behalf), the first frame that is the
    candidate's ("candidate") or torch/triton/the harness ("trusted"); None when neither is on the stack."""
    root = initiator_root(frame)
    return None if root is None else ("candidate" if root == CAND_MODULE else "trusted")


def initiator_root(frame: Any) -> str | None:
    """Like `initiator`, but names the deciding party: CAND_MODULE, or "torch" / "triton" / "rewards"."""
    f = frame
    while f is not None:
        name = f.f_globals.get("__name__", "") or ""
        if _is_candidate_frame(f):
            return CAND_MODULE
        root = name.split(".")[0]
        if root in _TRUSTED_ROOTS:
            return root
        f = f.f_back
    return None
