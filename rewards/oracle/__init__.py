"""The oracle: the trusted reference process that draws trial inputs, runs the reference, calibrates tolerances
(float64 shadow) and compares a candidate's outputs. Never loads candidate code."""
