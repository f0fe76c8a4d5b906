"""The loop of a task group's reference process (forked by the zygote, trusted, never runs candidate code).

It loads the reference once, times it on CUDA when asked, says "ready", then judges each candidate's
outputs file on request until told to exit. One process per group keeps the reference's outputs and the
secret trial inputs out of every candidate's address space.
"""

from __future__ import annotations

import json
import os

from rewards.contract.config import VerifyConfig


def reference_main(gdir: str, seed: int, trials: int, cfg: VerifyConfig, req_r: int, resp_w: int, lock_dir: str) -> int:
    """Serve judge requests (JSON lines on req_r) with verdicts (JSON lines on resp_w); the exit code."""
    from rewards.oracle.reference_run import ReferenceRun

    device = cfg.device
    ref = ReferenceRun(os.path.join(gdir, "reference.py"), gdir, seed, trials, device)
    ref_ms, method, compiled_ms = None, None, None
    if device == "cuda" and cfg.time_gpu:
        ref_ms, method = ref.time_reference(cfg.timing_warmup, cfg.timing_reps, lock_dir)
        if cfg.compile_baseline:
            compiled_ms = ref.time_compiled_reference(cfg.timing_warmup, cfg.timing_reps, lock_dir)
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB on Linux
    os.write(resp_w, (json.dumps({"event": "ready", "ref_ms": ref_ms, "timing_method": method,
                                  "ref_compiled_ms": compiled_ms, "nondeterministic": ref.nondeterministic,
                                  "candidate_mb": ref.candidate_bytes >> 20, "peak_mb": peak_mb}) + "\n").encode())
    buf = b""
    while True:
        data = os.read(req_r, 1 << 16)
        if not data:
            return 0
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            msg = json.loads(line)
            if msg.get("op") == "exit":
                return 0
            out = ref.judge(msg["path"], msg.get("sha256"), cfg.atol, cfg.rtol)
            os.write(resp_w, (json.dumps({"event": "judged", **out}) + "\n").encode())
