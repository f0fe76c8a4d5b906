"""Verification engine: code extraction, static rules, sandboxed execution, reward functions.

Public API (the one verifier every stage uses):

    from rewards import verify, verify_batch, VerifyConfig, VerifyResult, Status
    res = verify(reference_source, completion_or_code, VerifyConfig(device="cpu"))
"""

from rewards.contract.config import VerifyConfig
from rewards.contract.extract import completion_text, extract_code
from rewards.contract.prompt import SYSTEM_PROMPT, assistant_message, prompt_messages, sft_messages
from rewards.contract.task import Task, TaskError, check_reference
from rewards.contract.types import Finding, Status, VerifyResult
from rewards.engine.client import Engine, get_engine, shutdown_engines, verify, verify_batch

__all__ = [
    "SYSTEM_PROMPT", "Engine", "Finding", "Status", "Task", "TaskError", "VerifyConfig", "VerifyResult",
    "assistant_message", "check_reference", "completion_text", "extract_code", "get_engine", "prompt_messages",
    "sft_messages", "shutdown_engines", "verify", "verify_batch",
]
