"""The static rules' allow/deny lists: modules, attributes, builtins, torch calls and tensor methods.

Read by the rule bodies (`rewards.rules.forward_work`, `judge_evasion`, `kernel_bodies`) and the shared analysis (`rewards.rules.context`).
"""

from __future__ import annotations

# Modules a Triton candidate may import. Everything else (os, sys, subprocess, ctypes, socket, importlib,
# pickle, io, inspect, gc, ...) reaches outside the computation. `time` is allowed but warned about.
ALLOWED_IMPORT_ROOTS = frozenset({
    "torch", "triton", "math", "numpy", "typing", "typing_extensions", "functools", "itertools",
    "collections", "dataclasses", "abc", "enum", "numbers", "__future__", "warnings", "random", "time",
    "contextlib", "copy", "logging", "operator",
})
# Modules an attribute chain may pass through or end at (by the module's own `__name__`; a name ending in
# ".*" admits its submodules). Anything else reached as an attribute — `torch.os`, `typing.sys`,
# `random._os`, `torch.serialization` — is a module the candidate has no business with.
ALLOWED_MODULES = frozenset({
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.modules.*", "torch.nn.parameter",
    "torch.autograd", "torch.autograd.function", "torch.library", "torch.cuda", "torch.linalg", "torch.fft",
    "torch.special", "torch.types", "torch.amp", "torch.cuda.amp", "triton", "triton.language.*",
    "triton.language", "triton.runtime", "triton.runtime.jit", "triton.runtime.autotuner",
    "triton.runtime.errors", "triton.compiler", "triton.compiler.errors", "triton.backends",
    "math", "numpy", "numpy.random", "typing", "typing_extensions", "functools", "itertools", "collections",
    "collections.abc", "dataclasses", "abc", "enum", "numbers", "warnings", "random", "time", "contextlib",
    "copy", "logging", "operator", "torch.version", "torch.distributed", "torch.backends", "torch.backends.cuda",
    "torch.backends.cudnn",
})
# Named only for clearer messages: these are the ones that escape or inspect the harness.
ESCAPE_MODULES = frozenset({
    "os", "sys", "subprocess", "socket", "ctypes", "cffi", "multiprocessing", "threading", "_thread",
    "concurrent", "signal", "shutil", "pathlib", "importlib", "builtins", "gc", "inspect", "pickle",
    "marshal", "io", "urllib", "http", "requests", "asyncio", "resource", "pty", "mmap", "tempfile", "glob",
    "pdb", "code", "codeop", "posix", "faulthandler", "traceback", "weakref", "atexit", "fcntl",
})
# Submodules/functions of allowed packages that compile native code, load pickles or reach the disk.
FORBIDDEN_QUALIFIED = (
    "torch.utils.cpp_extension", "torch.hub", "torch.load", "torch.save", "torch.from_file",
    "torch.ops.load_library", "torch.classes", "torch.multiprocessing", "torch.distributed",
    "torch._C", "torch._dynamo", "torch._inductor", "numpy.load", "numpy.save", "numpy.fromfile",
    "numpy.memmap", "numpy.ctypeslib", "numpy.distutils", "triton.tools", "torch.serialization",
    "torch.utils", "torch.package", "torch.ops", "torch.overrides", "operator.attrgetter",
    "operator.methodcaller", "logging.FileHandler", "logging.handlers", "logging.config",
    "numpy.ndarray.tofile", "numpy.lib", "functools.update_wrapper", "typing.get_type_hints", "typing.ForwardRef",
    "typing._eval_type", "typing_extensions.get_type_hints", "typing_extensions.ForwardRef", "torch.library.Library",
    "torch.library.impl", "torch.library.register_kernel", "torch.library.define", "torch.library.fallthrough_kernel",
    "torch.library.register_torch_dispatch", "torch.library.register_vmap", "torch.library.register_autocast",
    "warnings.showwarning", "warnings.formatwarning", "logging.setLogRecordFactory", "logging.setLoggerClass",
)
# Attribute names that hand out frames or code objects (the audit hook sees some, not f_back/f_locals).
FRAME_ATTRS = frozenset({"f_back", "f_locals", "f_globals", "f_builtins", "f_code", "f_trace", "tb_frame", "tb_next",
                         "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "co_code", "co_consts"})
# Buffer/array protocols: an object offering one gives numpy (or anything) raw access to memory by address.
BUFFER_PROTOCOL_NAMES = frozenset({"__array_interface__", "__array_struct__", "__cuda_array_interface__", "__array__",
                                   "__dlpack__", "__dlpack_device__", "__buffer__", "__release_buffer__",
                                   "__array_function__", "__array_ufunc__", "__array_priority__", "__array_finalize__"})
# Builtins that execute strings, open files, or expose namespaces. `exit`/`quit` end the harness.
FORBIDDEN_BUILTINS = frozenset({
    "eval", "exec", "compile", "open", "__import__", "globals", "locals", "vars", "breakpoint", "exit",
    "quit", "help", "__builtins__", "__loader__", "__spec__", "memoryview",
    # Exceptions that bypass `except Exception` in the harness: raising them is an attempt to end the run.
    "SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException",
})
# Attribute names that are (private aliases of) escape modules, wherever they appear in a chain.
ESCAPE_ATTRS = frozenset(("os", "sys", "subprocess", "socket", "ctypes", "builtins", "gc", "inspect",
                                      "importlib", "io", "posix", "shutil", "pathlib", "signal", "threading",
                                      "thread", "multiprocessing", "pickle", "marshal", "mmap", "resource",
                                      "pty", "fcntl", "tempfile", "glob", "traceback", "weakref", "atexit",
                                      "imp", "code", "pdb", "faulthandler", "sysconfig", "site", "linecache",
                                      "tokenize", "zipimport", "runpy", "codecs", "ast", "dis"))
# Dunder attributes that are harmless; all others (__globals__, __subclasses__, __dict__, __code__,
# __class__, __builtins__, ...) are the raw material of sandbox escapes.
ALLOWED_DUNDERS = frozenset({"__init__", "__name__", "__qualname__", "__doc__", "__module__"})

# torch.* callables allowed on the forward path: allocation, dtype/device plumbing, shape helpers,
# autograd/no-grad context, and Triton interop. Any other torch.* call computes, so it is a fallback.
TORCH_ALLOWED = frozenset({
    "torch.empty", "torch.empty_like", "torch.empty_strided", "torch.zeros", "torch.zeros_like",
    # Random draws make data, they compute nothing from the inputs (the runtime record allows them too).
    "torch.randn", "torch.rand", "torch.randint", "torch.randn_like", "torch.rand_like", "torch.randint_like",
    "torch.manual_seed",
    "torch.ones", "torch.ones_like", "torch.full", "torch.full_like", "torch.arange", "torch.tensor",
    "torch.as_tensor", "torch.Size", "torch.device", "torch.dtype", "torch.finfo", "torch.iinfo",
    "torch.is_tensor", "torch.is_floating_point", "torch.get_default_dtype", "torch.no_grad",
    "torch.inference_mode", "torch.enable_grad", "torch.set_grad_enabled", "torch.is_grad_enabled",
    "torch.Tensor", "torch.float", "torch.promote_types", "torch.result_type", "torch.broadcast_shapes",
    "torch.cuda.current_device", "torch.cuda.get_device_properties", "torch.cuda.is_available",
    "torch.cuda.device", "torch.cuda.device_count", "torch.cuda.get_device_capability",
    "torch.cuda.synchronize", "torch.library.wrap_triton", "torch.library.triton_op",
    "torch.autograd.Function", "torch.nn.Parameter", "torch.nn.Module", "torch.jit.is_scripting",
    "torch.compiler.is_compiling", "torch.cuda.Event", "torch.squeeze", "torch.unsqueeze", "torch.reshape",
    "torch.flatten", "torch.unflatten", "torch.broadcast_to", "torch.numel", "torch.tensor_split",
    "torch.split", "torch.chunk", "torch.permute", "torch.transpose", "torch.t", "torch.narrow",
    "torch.select", "torch.movedim", "torch.swapaxes", "torch.unbind", "torch.cuda.current_stream", "torch.cuda.default_stream", "torch.cuda._DeviceGuard",
    "torch._C._cuda_getCurrentRawStream",
    "torch.cuda.set_device", "torch.cuda.current_blas_handle", "torch.get_device", "torch.as_strided",
    "torch.cat", "torch.stack", "torch.is_complex", "torch.set_default_dtype",
    "torch.distributed.get_world_size", "torch.distributed.get_rank", "torch.distributed.is_initialized",
    "torch.distributed.is_available", "torch.broadcast_tensors",
})
TORCH_DTYPES = frozenset({
    "float16", "float32", "float64", "bfloat16", "half", "float", "double", "int8", "int16", "int32",
    "int64", "uint8", "bool", "long", "int", "short", "complex64", "complex128", "float8_e4m3fn",
    "float8_e5m2", "uint16", "uint32", "uint64",
})
# Tensor methods that only allocate, convert, view or describe. On a value known to be a tensor, any
# other method computes. They also tell the tensor-tracking which results are still tensors.
TENSOR_METHODS_ALLOWED = frozenset({
    "view", "view_as", "reshape", "reshape_as", "contiguous", "t", "transpose", "permute", "size",
    "stride", "numel", "nelement", "dim", "ndimension", "to", "float", "half", "bfloat16", "double", "int",
    "long", "bool", "cpu", "cuda", "is_contiguous", "flatten", "unflatten", "unsqueeze", "squeeze",
    "expand", "expand_as", "clone", "detach", "data_ptr", "element_size", "storage_offset", "new_empty",
    "new_zeros", "new_ones", "new_full", "new_empty_strided", "fill_", "zero_", "copy_", "type", "type_as",
    "requires_grad_", "get_device", "narrow", "select", "split", "chunk", "unbind", "as_strided", "movedim",
    "swapaxes", "unsqueeze_", "squeeze_", "is_floating_point", "item", "dim_order", "untyped_storage",
    "new_tensor", "tensor_split", "broadcast_to", "is_cuda",
})
# Methods of a mapping (a dict input of tensors): `d.values()` hands out the tensors, it computes nothing. A
# tensor has no keys/items/get, and a sparse tensor's `.values()` is an accessor of its stored values.
MAPPING_METHODS = frozenset({"keys", "values", "items", "get"})
# Method names that compute when called on a tensor, used when the receiver's type is unknown.
# A trailing "_" (in-place variant) is stripped before the lookup.
TENSOR_METHODS_DENIED = frozenset({
    "matmul", "mm", "bmm", "addmm", "addbmm", "baddbmm", "addmv", "mv", "dot", "vdot", "inner", "outer",
    "einsum", "softmax", "log_softmax", "sum", "mean", "var", "std", "prod", "cumsum", "cumprod", "max",
    "min", "amax", "amin", "argmax", "argmin", "aminmax", "norm", "exp", "exp2", "log", "log2", "log10",
    "log1p", "expm1", "sqrt", "rsqrt", "sigmoid", "tanh", "relu", "gelu", "silu", "abs", "neg", "negative",
    "pow", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "where",
    "masked_fill", "sort", "argsort", "topk", "logsumexp", "erf", "erfc", "sin", "cos", "tan", "reciprocal",
    "square", "sign", "round", "floor", "ceil", "trunc", "frac", "matrix_power", "lerp", "addcmul",
    "addcdiv", "all", "any", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
    "logical_not", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "cross",
    "diag", "tril", "triu", "kthvalue", "median", "nansum", "nanmean", "scatter", "scatter_add",
    "scatter_reduce", "index_add", "index_copy", "index_fill", "gather", "index_select", "masked_select",
    "masked_scatter", "flip", "roll", "repeat", "repeat_interleave", "cummax", "cummin", "histc", "bincount",
    "unique", "nonzero", "softplus", "hardtanh", "elu", "leaky_relu", "mish", "var_mean", "std_mean",
    "logaddexp", "atan2", "hypot", "numpy", "tolist", "apply_", "map_", "conv1d", "conv2d", "linear",
    "layer_norm", "sigmoid_", "hardsigmoid", "hardswish", "selu", "celu", "renorm", "trace", "det",
    "inverse", "pinverse", "cholesky", "svd", "qr", "triangular_solve", "unfold", "tensordot", "kron",
    "logit", "xlogy", "nan_to_num", "sinh", "cosh", "asin", "acos", "atan", "sgn", "count_nonzero",
})
# numpy scalar types: `np.int64(n)` of Python numbers is scalar bookkeeping (a grid), not compute over tensors.
NUMPY_SCALAR_TYPES = frozenset({
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intp", "uintp", "float16",
    "float32", "float64", "half", "single", "double", "longlong", "ulonglong", "bool_",
})
# nn classes that hold no compute; every other torch.nn.* submodule would do the work when called.
NN_NON_COMPUTE = frozenset({"Parameter", "ParameterList", "ParameterDict", "Buffer", "Identity"})
# Library kernels that are not the candidate's own (a "Triton" solution calling triton.ops.matmul).
FOREIGN_KERNELS = ("triton.ops",)
# Side streams, threads and processes: work escapes the timed region or races the comparison.
STREAM_QUALIFIED = (
    "torch.cuda.Stream", "torch.cuda.stream", "torch.cuda.ExternalStream", "torch.cuda.set_stream",
    "torch.cuda.StreamContext",
    "torch.cuda.streams", "torch.Stream", "torch.cuda.graph", "torch.cuda.CUDAGraph", "threading",
    "_thread", "concurrent", "multiprocessing", "torch.multiprocessing", "asyncio",
)
TIMING_QUALIFIED = (
    "time", "torch.cuda.Event", "torch.cuda.synchronize", "torch.cuda.Event.elapsed_time",
    "triton.testing", "torch.utils.benchmark", "torch.cuda.set_sync_debug_mode",
)
