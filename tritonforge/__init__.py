"""tritonforge: train, verify, evaluate and release LLMs that write Triton kernels."""

__version__ = "0.1.0"
