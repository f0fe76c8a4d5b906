"""Reward functions for TRL's GRPOTrainer and the per-batch verification they share."""
