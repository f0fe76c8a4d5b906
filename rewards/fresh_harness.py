"""Baseline for `tritonforge bench verify`: verify one candidate in a fresh Python process.

This is how KernelBench/TritonBench-style harnesses work (one interpreter start, torch + triton import,
reference and candidate loaded into the same process, compared there). It exists only to be measured
against the engine; it offers none of the engine's isolation. Prints "ok" or "fail: reason".

    python -m rewards.fresh_harness TASK.py CANDIDATE.py TRIALS
"""

from __future__ import annotations

import sys


def main() -> int:
    import torch

    from rewards.harness.module_loading import load_module
    from rewards.oracle.compare import compare_outputs, flatten

    task, cand, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        ref = load_module("ref_mod", task)
        new = load_module("cand_mod", cand)
        init = list(getattr(ref, "get_init_inputs", list)())
        torch.manual_seed(0)
        m_ref = ref.Model(*init).eval()
        torch.manual_seed(0)
        m_new = new.ModelNew(*init).eval()
        with torch.no_grad():
            for t in range(trials):
                torch.manual_seed(1 + t)
                inp = list(ref.get_inputs())
                want = flatten(m_ref(*[x.clone() for x in inp]))
                got = flatten(m_new(*[x.clone() for x in inp]))
                cmp = compare_outputs(want, got, None, None, f"trial {t}")
                if not cmp.ok:
                    print("fail:", cmp.reason)
                    return 0
    except Exception as e:
        print("fail:", type(e).__name__)
        return 0
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
