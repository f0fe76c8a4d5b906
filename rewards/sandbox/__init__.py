"""The sandbox: the warm zygote, per-candidate supervisors, process isolation (namespaces, rlimits, seccomp,
cgroups) and the sandbox directories. Moves processes and bytes; the oracle and the harness do the judging."""
