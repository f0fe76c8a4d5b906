"""GRPO stage with sandboxed execution rewards (TRL GRPOTrainer): `grpo.train.run_grpo`, CLI in `grpo.cli`."""
