"""Block pointers (`tl.make_block_ptr` / `tl.advance` / block-pointer `tl.load` and `tl.store`) under the
Triton CPU interpreter, for Triton versions that removed them.

Why: Triton 3.9 (installed here and in CI) removed block pointers in favour of tensor descriptors, so
``tl.make_block_ptr`` raises ``NotImplementedError``. Benchmark code and model answers written for Triton
3.0-3.6 (what the GPU box runs) use them in ordinary matmul / attention kernels; on CPU those honest kernels
would be "unsupported" and left unjudged. Under the interpreter a block pointer is only bookkeeping over a
tensor of pointers, so this module rebuilds it on top of the pointer loads and stores the interpreter has:

* `make_block_ptr(base, shape, strides, offsets, block_shape, order)` returns a `BlockPointer` holding those
  values (offsets, shape and strides may be interpreter scalars); `tl.advance(bp, deltas)` and
  `bp.advance(deltas)` return a new one with the offsets moved.
* `tl.load(bp, boundary_check=dims, padding_option=...)` loads from
  ``base + sum_d (offset_d + arange(block_shape_d)) * stride_d`` with the mask
  ``0 <= offset_d + i_d < shape_d`` for the dims in `boundary_check` only, and ``other`` = NaN for
  ``"nan"``, else 0; `tl.store(bp, value, boundary_check=dims)` stores under the same mask.
* Checks and messages follow Triton 3.6's `semantic.py` (a kernel the GPU compiler rejects is rejected
  here too): int32 offsets, int64 shapes/strides, a permutation as `order`, no `mask`/`other` with a
  block pointer, `boundary_check` only with one, value and block element types equal on store, no NaN
  padding for integers, a bool base read as int8. `order` changes only the GPU layout, never values.

Loads and stores through ordinary pointers are passed to Triton's own builtins unchanged. The wrappers are
installed per kernel call, after the interpreter's own patching of `triton.language` (see `install`), so
they see interpreter tensors and are restored with everything else when the kernel returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Triton's own `load`/`store` builtins, captured at install (inside a kernel the module names are patched).
_ORIGINALS: dict[str, Any] = {}
_NO_MASK = "`mask` and `other` arguments cannot be specified for loading block pointers"
_LEGACY_LOAD = ("`padding_option` or `boundary_check` argument is not supported for loading a tensor of"
                "pointers or loading a scalar. Because the compiler does not know the boundary; please "
                "use block pointers (defined by `make_block_ptr`) instead")
_LEGACY_STORE = ("`boundary_check` argument is not supported for storing a tensor of pointers or storing a "
                 "scalar. Because the compiler does not know the boundary; please use block pointers "
                 "(defined by `make_block_ptr`) instead")


def block_pointers_removed() -> bool:
    """True when the installed Triton no longer has block pointers (calling the builtin says so)."""
    import triton.language as tl

    fn = getattr(tl.core, "make_block_ptr", None)
    if fn is None:
        return True
    try:
        fn(None, (), (), (), (), (), _semantic=object())
    except NotImplementedError:
        return True
    except Exception:  # a Triton that still has them fails on the dummy arguments instead
        return False
    return False


def _sem() -> Any:
    from triton.runtime import interpreter as itp

    return itp.interpreter_semantic


def _unwrap(x: Any) -> Any:
    import triton.language as tl

    return x.value if isinstance(x, tl.constexpr) else x


def _as_list(x: Any) -> list[Any]:
    """Triton accepts one value where it expects a list (`boundary_check=0`, `order=0`)."""
    x = _unwrap(x)
    return [_unwrap(e) for e in x] if hasattr(x, "__iter__") else [x]


def _check(cond: bool, msg: str) -> None:
    """Triton's own `assert`s, raised even under ``python -O`` (a kernel must fail the same way)."""
    if not cond:
        raise AssertionError(msg)


def _index(x: Any, wide: bool) -> Any:
    """Validate one shape/stride (`wide`, int64) or offset (int32) entry as Triton's `_convert_elem_to_ir_value`."""
    import triton.language as tl

    x = _unwrap(x)
    if isinstance(x, bool) or not isinstance(x, int | tl.tensor):
        raise AssertionError(f"Unsupported element type in shape/strides/offsets: {type(x)}")
    if isinstance(x, int):
        lo, hi = (-2**63, 2**63) if wide else (-2**31, 2**31)
        _check(lo <= x < hi, f"Block pointers only support {'64 bit `shape/strides`' if wide else '32 bit `offsets/block_shape`'}"
                             f", got a value {x} which is out of the range")
        return x
    _check(x.numel.value == 1, "Expected a scalar in shape/strides/offsets")
    _check(x.dtype.is_int(), "Expected an integer scalar type in shape/strides/offsets")
    _check(wide or x.dtype != tl.int64, "Block pointers only support 32 bit `offsets/block_shape`, add a "
                                        "`.to(tl.int32)` or use regular indexing for 64 bit support")
    return x


def _add(a: Any, b: Any) -> Any:
    """Offset plus delta: plain ints stay ints, anything else becomes interpreter arithmetic."""
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return _sem().add(a, b, True)


def _i64(x: Any) -> Any:
    import triton.language as tl

    sem = _sem()
    return sem.cast(sem.to_tensor(x), tl.int64)


class BlockPointer:
    """What `tl.make_block_ptr` returns under the interpreter: a description, turned into pointers on use."""

    __slots__ = ("base", "shape", "strides", "offsets", "block_shape", "order")

    def __init__(self, base: Any, shape: Sequence[Any], strides: Sequence[Any], offsets: Sequence[Any],
                 block_shape: Sequence[int], order: Sequence[int]) -> None:
        self.base = base
        self.shape = tuple(shape)
        self.strides = tuple(strides)
        self.offsets = tuple(offsets)
        self.block_shape = tuple(block_shape)
        self.order = tuple(order)

    @property
    def type(self) -> Any:
        """``pointer_type<block_type<elt, block_shape>>`` as on GPU, so ``bp.dtype.element_ty`` works."""
        import triton.language as tl

        return tl.pointer_type(tl.block_type(self.element_ty, list(self.block_shape)))

    @property
    def dtype(self) -> Any:
        """A pointer type is its own scalar type (kernels write ``b.to(p.dtype.element_ty)``)."""
        return self.type

    @property
    def element_ty(self) -> Any:
        return self.base.type.element_ty

    def advance(self, offsets: Any, _semantic: Any = None) -> BlockPointer:
        """`bp.advance(deltas)`: the method form of `tl.advance`."""
        return advance(self, offsets)

    def __repr__(self) -> str:
        return (f"BlockPointer(shape={self.shape}, strides={self.strides}, offsets={self.offsets}, "
                f"block_shape={self.block_shape}, order={self.order})")

    def pointers(self, boundary_check: Sequence[int]) -> tuple[Any, Any]:
        """(tensor of pointers over the block, in-bounds mask over `boundary_check` dims or None)."""
        import triton.language as tl

        sem = _sem()
        n = len(self.block_shape)
        linear, mask = None, None
        for d, (size, off, stride) in enumerate(zip(self.block_shape, self.offsets, self.strides, strict=True)):
            idx = sem.add(sem.cast(sem.arange(0, size), tl.int64), _i64(off), True)
            for axis in range(n):
                if axis != d:
                    idx = sem.expand_dims(idx, axis)
            term = sem.mul(idx, _i64(stride), True)
            linear = term if linear is None else sem.add(linear, term, True)
            if d in boundary_check:
                ok = sem.and_(sem.greater_equal(idx, sem.to_tensor(0)), sem.less_than(idx, _i64(self.shape[d])))
                mask = ok if mask is None else sem.and_(mask, ok)
        ptrs = sem.broadcast_impl_shape(sem.add(self.base, linear, True), list(self.block_shape))
        if mask is not None:
            mask = sem.broadcast_impl_shape(mask, list(self.block_shape))
        return ptrs, mask

    def canonical_boundary_check(self, boundary_check: Any) -> list[int]:
        """Triton's `_canonicalize_boundary_check`: sorted, distinct dims of this block."""
        if not _unwrap(boundary_check):
            return []
        dims = _as_list(boundary_check)
        for dim in dims:
            _check(isinstance(dim, int) and 0 <= dim < len(self.block_shape), f"boundary_check dim {dim} out of range")
        _check(len(dims) == len(set(dims)), "Duplicate dimension in `boundary_check`")
        return sorted(dims)


def make_block_ptr(base: Any, shape: Any, strides: Any, offsets: Any, block_shape: Any, order: Any,
                   _semantic: Any = None) -> BlockPointer:
    """`tl.make_block_ptr` with Triton 3.6's argument checks."""
    import triton.language as tl

    shape = [_index(x, True) for x in _as_list(shape)]
    strides = [_index(x, True) for x in _as_list(strides)]
    offsets = [_index(x, False) for x in _as_list(offsets)]
    base = _unwrap(base)
    if not isinstance(base, tl.tensor) or not base.type.is_ptr() or base.type.element_ty.is_block():
        raise ValueError("Expected `base` to be a pointer type (but not a block pointer type or others)")
    if base.type.element_ty == tl.int1:  # as on GPU: a bool block is read and written as int8
        base = _sem().cast(base, tl.pointer_type(tl.int8, base.type.address_space))
    block_shape = _as_list(block_shape)
    _check(all(isinstance(e, int) and not isinstance(e, bool) and -2**31 <= e < 2**31 for e in block_shape),
           "Expected a list of constant integers (`int32_t` range) in `block_shape`")
    order = _as_list(order)
    _check(sorted(order) == list(range(len(order))), "Expected a permutation of (0, 1, ..., len(order)-1) in order")
    _check(all(len(block_shape) == len(x) for x in (shape, strides, offsets, order)),
           "Expected shape/strides/offsets/block_shape to have the same length")
    tl.block_type(base.type.element_ty, block_shape)  # Triton's block-shape validation (powers of 2, size)
    return BlockPointer(base, shape, strides, offsets, block_shape, order)


def advance(base: Any, offsets: Any, _semantic: Any = None) -> BlockPointer:
    """`tl.advance`: a new block pointer, offsets moved by `offsets` (the old one is unchanged)."""
    if not isinstance(base, BlockPointer):
        raise TypeError(f"tl.advance expects a block pointer (from tl.make_block_ptr), got {type(base).__name__}")
    deltas = [_index(x, False) for x in _as_list(offsets)]
    _check(len(deltas) == len(base.offsets), f"tl.advance: {len(deltas)} offsets for a {len(base.offsets)}-d block")
    moved = [_add(o, d) for o, d in zip(base.offsets, deltas, strict=True)]
    return BlockPointer(base.base, base.shape, base.strides, moved, base.block_shape, base.order)


def load(pointer: Any, mask: Any = None, other: Any = None, boundary_check: Any = (), padding_option: Any = "",
         cache_modifier: Any = "", eviction_policy: Any = "", volatile: Any = False, _semantic: Any = None,
         **extra: Any) -> Any:
    """`tl.load` with Triton 3.6's signature: block pointers here, every other pointer to Triton unchanged."""
    kw = {"cache_modifier": cache_modifier, "eviction_policy": eviction_policy, "volatile": volatile, **extra}
    padding = _unwrap(padding_option)
    if not isinstance(pointer, BlockPointer):
        if padding or _unwrap(boundary_check):
            raise ValueError(_LEGACY_LOAD)
        return _ORIGINALS["load"](pointer, mask, other, _semantic=_sem(), **kw)
    if _unwrap(mask) is not None or _unwrap(other) is not None:
        raise ValueError(_NO_MASK)
    if padding not in ("", None, "zero", "nan"):
        raise ValueError(f"Padding option {padding} not supported")
    if pointer.element_ty.is_int() and padding == "nan":
        raise ValueError("Padding option `nan` is not supported for integer block pointers")
    ptrs, in_bounds = pointer.pointers(pointer.canonical_boundary_check(boundary_check))
    if in_bounds is None:
        return _ORIGINALS["load"](ptrs, _semantic=_sem(), **kw)
    fill = float("nan") if padding == "nan" else 0
    return _ORIGINALS["load"](ptrs, in_bounds, fill, _semantic=_sem(), **kw)


def store(pointer: Any, value: Any, mask: Any = None, boundary_check: Any = (), cache_modifier: Any = "",
          eviction_policy: Any = "", _semantic: Any = None, **extra: Any) -> Any:
    """`tl.store` with Triton 3.6's signature: block pointers here, every other pointer to Triton unchanged."""
    kw = {"cache_modifier": cache_modifier, "eviction_policy": eviction_policy, **extra}
    if not isinstance(pointer, BlockPointer):
        if _unwrap(boundary_check):
            raise ValueError(_LEGACY_STORE)
        return _ORIGINALS["store"](pointer, value, mask, _semantic=_sem(), **kw)
    if _unwrap(mask) is not None:
        raise ValueError(_NO_MASK)
    sem = _sem()
    block = list(pointer.block_shape)
    val = sem.to_tensor(_unwrap(value))
    if not val.type.is_block():
        val = sem.broadcast_impl_shape(val, block)
    _check(list(val.type.get_block_shapes()) == block,
           f"Block shape({block}) and value shape({list(val.type.get_block_shapes())}) mismatch")
    _check(pointer.element_ty == val.type.element_ty,
           f"Block element type({pointer.element_ty}) and value element type({val.type.element_ty}) mismatch")
    ptrs, in_bounds = pointer.pointers(pointer.canonical_boundary_check(boundary_check))
    return _ORIGINALS["store"](ptrs, val, in_bounds, _semantic=sem, **kw)


_WRAPPERS = {"make_block_ptr": make_block_ptr, "advance": advance, "load": load, "store": store}


def install() -> bool:
    """Emulate block pointers in every interpreted kernel call, if this Triton removed them. True if installed.

    Hooks `interpreter._patch_lang` (run at each kernel and device-function call): after the interpreter has
    pointed `triton.language` at its builtins, the four names are pointed at the wrappers above in the same
    patch scope, so the interpreter restores them when the kernel returns. The wrappers call Triton's
    original `load`/`store` builtins with the interpreter's semantic, exactly as the interpreter does.
    """
    if not block_pointers_removed():
        return False
    import triton.language as tl
    from triton.runtime import interpreter as itp

    _ORIGINALS.update(load=tl.core.load, store=tl.core.store)
    orig = itp._patch_lang

    def patch_lang(fn: Any) -> Any:
        scope = orig(fn)
        for lang in (tl, tl.core):
            for name, wrapper in _WRAPPERS.items():
                scope.set_attr(lang, name, wrapper)
        return scope

    itp._patch_lang = patch_lang
    return True
