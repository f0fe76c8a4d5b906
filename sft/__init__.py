"""Supervised fine-tuning stage (TRL SFTTrainer): `sft.train.run_sft`, CLI in `sft.cli`."""
