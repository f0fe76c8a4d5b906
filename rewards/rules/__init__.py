"""Static rules: AST checks run on a candidate before any of it executes (trusted side, never executes it)."""
