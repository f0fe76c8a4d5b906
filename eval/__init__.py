"""Benchmarks, metrics, reports, the kernel-generation loop and model release.

Modules: suites (task sources -> EvalItems), metrics (pure), run (generate -> verify -> journal),
report (JSON/Markdown/PNG, comparisons), generate (feedback-refinement loop), release (HF folder + card),
cli (the `eval`, `generate`, `release` subcommands). Everything verifies through rewards/ (one verifier).
"""
