"""Executors of the batch stages: the local warm engine, or verifier actors on a Ray cluster.

    with using(ExecutorArguments(executor="ray", ray_address="auto")):
        build(cfg, out)          # every verify_batch of the stage now runs on the cluster

Ray is an optional extra (`pip install tritonforge[cluster]`); nothing here imports it unless the ray
executor is asked for.
"""

from rewards.executors.base import Executor, LocalExecutor, current, make_executor, using, verify_batch
from rewards.executors.options import EXECUTORS, ExecutorArguments

__all__ = ["EXECUTORS", "Executor", "ExecutorArguments", "LocalExecutor", "current", "make_executor", "using",
           "verify_batch"]
