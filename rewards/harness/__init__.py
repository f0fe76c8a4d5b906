"""The harness that runs inside the candidate's sandboxed process: loading code, moving tensors, the runtime op
record and guards, the audit hook, the CPU compile check against a GPU target, and GPU timing.

Everything here runs beside untrusted code, so nothing here decides a verdict: the trusted side reads what it
reports (`runtime_findings` turns the record into findings on the trusted side)."""
