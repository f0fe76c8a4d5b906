"""Code that runs inside forked sandbox children. Two roles:

* reference process (one per task group, trusted task code, forked before any candidate code exists
  anywhere in its ancestry): draws the trial inputs, runs `Model`, keeps the outputs in its own memory,
  and later compares each candidate's saved outputs against them. Reference outputs never touch disk.
* candidate process (one per candidate, isolated by `rewards.isolation`): loads the candidate file,
  builds `ModelNew`, runs it on the saved inputs while counting launches of kernels defined in the
  candidate, saves outputs + post-call inputs, and reports how it went in `result.json`.

The candidate's report is trusted only for what cannot make it pass: correctness is decided by the
reference process from the saved tensors.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

import torch

CAND_MODULE = "tf_candidate"
REF_MODULE = "tf_reference"
INPUTS_FILE = "inputs.pt"
OUTPUTS_FILE = "outputs.pt"
RESULT_FILE = "result.json"
COMPILE_ERRORS = {"CompilationError", "CompileTimeAssertionFailure", "UnsupportedLanguageConstruct", "PTXASError", "OutOfResources"}


def load_module(name: str, path: str) -> Any:
    """Import a source file under a fixed module name.

    Triton reads kernel source through `inspect`/linecache, so the file's lines are put in linecache
    under the path as given. The path may be relative: in a candidate process /tmp is covered by a
    private tmpfs, and only the cwd still reaches the real directory.
    """
    import linecache
    import types

    with open(path) as f:
        src = f.read()
    linecache.cache[path] = (len(src), None, src.splitlines(True), path)
    mod = types.ModuleType(name)
    mod.__file__ = path
    sys.modules[name] = mod
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod


def _to(obj: Any, device: str) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(o, device) for o in obj)
    return obj


def _clone_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, (list, tuple)):
        return [_clone_cpu(o) for o in obj]
    return obj


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


# --------------------------------------------------------------------------------------------- reference
class ReferenceRun:
    """Holds the reference outputs for one task group and judges candidates against them."""

    def __init__(self, ref_path: str, group_dir: str, seed: int, trials: int, device: str) -> None:
        from rewards.compare import flatten

        torch.set_num_threads(1)
        mod = load_module(REF_MODULE, ref_path)
        get_init = getattr(mod, "get_init_inputs", lambda: [])
        torch.manual_seed(seed)
        init_inputs = list(get_init())
        torch.manual_seed(seed)
        model = mod.Model(*init_inputs).to(device).eval()
        self.device = device
        self.model = model
        self.inputs: list[list[Any]] = []
        self.outputs: list[list[torch.Tensor]] = []
        self.post_inputs: list[list[Any]] = []
        for t in range(trials):
            torch.manual_seed(seed + 1 + t)
            inp = list(mod.get_inputs())
            self.inputs.append(_clone_cpu(inp))
        torch.save(
            {"init_inputs": _clone_cpu(init_inputs), "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
             "inputs": self.inputs, "seed": seed},
            os.path.join(group_dir, INPUTS_FILE),
        )
        os.chmod(os.path.join(group_dir, INPUTS_FILE), 0o644)
        with torch.no_grad():
            for inp in self.inputs:
                dev_inp = _to([x.clone() if isinstance(x, torch.Tensor) else x for x in inp], device)
                out = model(*dev_inp)
                _sync(device)
                self.outputs.append([o.detach().cpu() for o in flatten(out)])
                self.post_inputs.append(_clone_cpu(dev_inp))

    def time_reference(self, warmup: int, reps: int, lock_dir: str | None) -> tuple[float | None, str | None]:
        if self.device != "cuda":
            return None, None
        from rewards.timing import time_cuda

        inp = _to(self.inputs[0], "cuda")
        with torch.no_grad():
            return time_cuda(lambda: self.model(*inp), warmup, reps, lock_dir)

    def time_compiled_reference(self, warmup: int, reps: int, lock_dir: str | None) -> float | None:
        """torch.compile baseline (Inductor), timed like eager; None where compilation fails."""
        if self.device != "cuda":
            return None
        from rewards.timing import time_cuda

        try:
            compiled = torch.compile(self.model)
            inp = _to(self.inputs[0], "cuda")
            with torch.no_grad():
                compiled(*inp)  # compile outside the timed region
                ms, _ = time_cuda(lambda: compiled(*inp), warmup, reps, lock_dir)
            return ms
        except Exception:
            return None

    def judge(self, outputs_path: str, atol: float | None, rtol: float | None) -> dict[str, Any]:
        """Compare a candidate's saved outputs. weights_only=True: the file is untrusted data."""
        import io

        from rewards.compare import compare_outputs
        from rewards.isolation import read_untrusted

        try:
            raw = read_untrusted(outputs_path, 1 << 31)
            if raw is None:
                raise FileNotFoundError("missing, not a regular file, or too large")
            data = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
            outs, posts = data["outputs"], data["post_inputs"]
        except Exception as e:  # malformed/missing file written by the candidate's process
            return {"ok": False, "max_abs_err": None, "reason": f"unreadable candidate outputs ({type(e).__name__})"}
        if len(outs) != len(self.outputs) or len(posts) != len(self.post_inputs):
            return {"ok": False, "max_abs_err": None, "reason": "candidate reported a different number of trials"}
        worst = 0.0
        for t, (ref_o, cand_o) in enumerate(zip(self.outputs, outs, strict=True)):
            cmp = compare_outputs(ref_o, cand_o, atol, rtol, f"trial {t} output")
            if not cmp.ok:
                return {"ok": False, "max_abs_err": cmp.max_abs_err, "reason": cmp.reason}
            worst = max(worst, cmp.max_abs_err or 0.0)
        for t, (ref_p, cand_p) in enumerate(zip(self.post_inputs, posts, strict=True)):
            ref_t = [x for x in ref_p if isinstance(x, torch.Tensor)]
            cmp = compare_outputs(ref_t, [x for x in cand_p if isinstance(x, torch.Tensor)], 0.0, 0.0, f"trial {t} input")
            if not cmp.ok:
                return {"ok": False, "max_abs_err": worst, "reason": "candidate mutated its inputs: " + cmp.reason}
        return {"ok": True, "max_abs_err": worst, "reason": ""}


# --------------------------------------------------------------------------------------------- candidate
class LaunchCounter:
    """Counts launches of @triton.jit kernels whose source lives in the candidate module.

    Patched on the classes (JITFunction.run, InterpretedFunction.run), so kernels defined anywhere in the
    candidate, wrapped by autotune/heuristics or not, are seen, on GPU and under the interpreter alike.
    """

    def __init__(self) -> None:
        self.count = 0
        self.failed_in_kernel = False  # an exception escaped a candidate kernel launch (build/JIT errors)
        self._install()

    def _install(self) -> None:
        from triton.runtime import jit as _jit

        classes = [_jit.JITFunction]
        try:
            from triton.runtime.interpreter import InterpretedFunction

            classes.append(InterpretedFunction)
        except ImportError:
            pass
        counter = self
        for cls in classes:
            orig = cls.run

            def run(self, *args, __orig=orig, **kwargs):  # noqa: ANN001
                fn = getattr(self, "fn", None)
                mine = getattr(fn, "__module__", None) == CAND_MODULE
                if mine and not kwargs.get("warmup", False):
                    counter.count += 1
                try:
                    return __orig(self, *args, **kwargs)
                except BaseException:
                    counter.failed_in_kernel = counter.failed_in_kernel or mine
                    raise

            cls.run = run


# Under the interpreter a bad kernel body (unknown tl function, wrong arity, bad constexpr) surfaces as an
# ordinary Python error raised inside the launch; on GPU the same code raises CompilationError.
_KERNEL_BUILD_ERRORS = (NameError, AttributeError, TypeError, AssertionError, SyntaxError)


def _classify(exc: BaseException, stage: str, in_kernel: bool) -> str:
    names = {c.__name__ for c in type(exc).__mro__}
    if names & COMPILE_ERRORS:
        return "compile_error"
    if isinstance(exc, (MemoryError, SystemExit, KeyboardInterrupt)):
        return "runtime_error"
    if stage == "load":
        return "compile_error"  # the module itself does not import
    if "InterpreterError" in names and exc.__cause__ is not None:
        exc = exc.__cause__  # the interpreter wraps what the kernel body raised
    if in_kernel and isinstance(exc, _KERNEL_BUILD_ERRORS):
        return "compile_error"
    return "runtime_error"


def _write_result(payload: dict[str, Any]) -> None:
    with open(RESULT_FILE, "w") as f:
        json.dump(payload, f)


def run_candidate(device: str, time_gpu: bool, warmup: int, reps: int, lock_dir: str | None) -> None:
    """Body of the candidate process (cwd = its private dir). Always ends in os._exit."""
    stage = "load"
    counter: LaunchCounter | None = None
    try:
        torch.set_num_threads(1)
        data = torch.load(os.path.join("..", INPUTS_FILE), map_location="cpu", weights_only=True)
        counter = LaunchCounter()
        mod = load_module(CAND_MODULE, "candidate.py")
        if not hasattr(mod, "ModelNew"):
            _write_result({"status": "compile_error", "error_type": "MissingModelNew", "log": "candidate defines no ModelNew"})
            os._exit(0)
        stage = "init"
        torch.manual_seed(data["seed"])
        model = mod.ModelNew(*data["init_inputs"])
        state = data["state_dict"]
        try:
            mine = model.state_dict()
            if set(mine) == set(state) and all(mine[k].shape == state[k].shape for k in state):
                model.load_state_dict(state)
        except Exception:
            pass
        model = model.to(device).eval()
        stage = "forward"
        outputs, posts, launches = [], [], []
        from rewards.compare import flatten

        with torch.no_grad():
            for inp in data["inputs"]:
                dev_inp = _to([x.clone() if isinstance(x, torch.Tensor) else x for x in inp], device)
                if device == "cuda":  # poison the caching allocator so unwritten outputs read as NaN
                    torch.empty(64 * 1024 * 1024, dtype=torch.float32, device="cuda").fill_(float("nan"))
                before = counter.count
                out = model(*dev_inp)
                _sync(device)
                launches.append(counter.count - before)
                outputs.append([o.detach().cpu() for o in flatten(out)])
                posts.append(_clone_cpu(dev_inp))
        cand_ms, method = None, None
        if device == "cuda" and time_gpu and all(launches):
            from rewards.timing import time_cuda

            stage = "timing"
            inp = _to(data["inputs"][0], "cuda")
            with torch.no_grad():
                cand_ms, method = time_cuda(lambda: model(*inp), warmup, reps, lock_dir)
        torch.save({"outputs": outputs, "post_inputs": posts}, OUTPUTS_FILE)
        _write_result({"status": "ran", "launches": launches, "cand_ms": cand_ms, "timing_method": method})
    except BaseException as e:  # the candidate's own failure, including SystemExit/KeyboardInterrupt
        tb = traceback.format_exc()
        status = _classify(e, stage, bool(counter and counter.failed_in_kernel))
        try:
            _write_result({"status": status, "error_type": type(e).__name__, "stage": stage, "log": tb[-6000:]})
        except BaseException:
            os._exit(3)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
    os._exit(0)
