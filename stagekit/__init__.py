"""What every stage shares and imports from below: the user-error type, option and recipe parsing.

The lowest package of the tree: it imports none of the stages (rewards, data_pipeline, sft, grpo, eval) nor the
`tritonforge` command on top of them."""
