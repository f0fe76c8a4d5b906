"""The one chat prompt shared by corpus, SFT, GRPO, eval and the CLI.

system: what the model is and the output contract; user: the reference source plus instruction;
assistant: optional reasoning, then exactly one fenced python block with `class ModelNew`.
Changing this text changes every stage at once, which is the point.
"""

from __future__ import annotations

SYSTEM_PROMPT = (
    "You are an expert GPU kernel engineer. You rewrite PyTorch modules as Triton kernels. "
    "Answer with a short reasoning, then one ```python code block that defines `class ModelNew(nn.Module)` "
    "with the same constructor arguments and forward signature as `Model`. Its forward must launch at "
    "least one `@triton.jit` kernel defined in your code to do the computation; do not call PyTorch "
    "compute operators (matmul, softmax, torch.nn.functional, ...) as a fallback."
)

USER_TEMPLATE = (
    "{instruction}\n\n"
    "Reference PyTorch module (inputs come from `get_inputs()`, constructor arguments from "
    "`get_init_inputs()`):\n\n```python\n{reference}\n```\n\n"
    "Write `ModelNew`, an equivalent module whose computation runs in your own Triton kernels."
)


def user_message(reference: str, instruction: str) -> str:
    return USER_TEMPLATE.format(instruction=instruction.strip(), reference=reference.strip("\n"))


def prompt_messages(reference: str, instruction: str) -> list[dict[str, str]]:
    """System + user messages: the generation prompt (TRL conversational `prompt` column)."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_message(reference, instruction)},
    ]


def assistant_message(code: str, reasoning: str | None = None) -> str:
    """The assistant turn: optional reasoning, then exactly one python block."""
    block = f"```python\n{code.strip(chr(10))}\n```"
    return f"{reasoning.strip()}\n\n{block}" if reasoning and reasoning.strip() else block


def sft_messages(reference: str, instruction: str, code: str, reasoning: str | None = None) -> list[dict[str, str]]:
    """A full conversation for SFT (TRL `messages` column)."""
    return [*prompt_messages(reference, instruction), {"role": "assistant", "content": assistant_message(code, reasoning)}]
