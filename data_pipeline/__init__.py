"""Corpus building: task sources -> candidate solutions -> verify (rewards) -> dedup/decontam -> HF dataset.

Entry points: `data_pipeline.build.build(config, out_dir)` and the `tritonforge data` CLI
(`data_pipeline.cli.register`). Every sample goes through `rewards.verify_batch`: there is no second verifier.
"""

from data_pipeline.errors import DataError

__all__ = ["DataError"]
