"""`tritonforge release`: a Hugging Face model folder with a model card that carries the eval table.

The folder is complete on its own: merged weights (the ones `data_pipeline.models.resolve_weights` says
the checkpoint folder means: a LoRA run's merged/, else a PEFT adapter merged into its base, so users need
no peft), the tokenizer with its chat template (the prompt format is part of the model),
generation_config.json, and README.md. It is written to a temporary sibling and renamed into place, so an
interrupted release never leaves a half-written folder that looks valid. Pushing happens only on request.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from data_pipeline.models import resolve_weights
from eval.report import eval_table, load_run
from rewards.contract.prompt import SYSTEM_PROMPT, USER_TEMPLATE
from stagekit.errors import UserError

# What the verifier behind every reported number does NOT cover (kept in sync with rewards/ docs).
SANDBOX_LIMITS = (
    "The sandbox is a process boundary with resource limits, not a security boundary: a determined "
    "attacker with a kernel or driver exploit is out of scope. Run untrusted models' kernels on machines you can wipe.",
    "Side channels inside one kernel launch (e.g. reading uninitialised GPU memory that happens to hold the "
    "reference's results from an earlier allocation) are not ruled out by the output checks.",
    "GPU-resident data of other processes on the same device is protected only by the driver, not by tritonforge.",
    "Correctness is checked on a few random input draws at the task's shapes and dtypes; kernels can still be "
    "wrong for other shapes, strides, dtypes or edge values (NaN/Inf, empty tensors).",
    "Timing on a shared or thermally throttled GPU is noisy; speedups are medians against eager PyTorch on the "
    "machine that ran the eval and are flagged above an implausibility threshold, not audited by hand.",
    "Static rules (AST) catch known reward hacks (torch compute fallback, unlaunched kernels, try/except "
    "fallbacks, monkeypatching); novel hacks that pass both rules and execution checks are not excluded.",
    "On CPU, kernels run in Triton's interpreter: a kernel verified there may still fail to compile or be slow on a GPU.",
)

INTENDED_USE = (
    "Rewriting PyTorch `nn.Module`s (KernelBench convention: `class Model`, `get_inputs()`, "
    "`get_init_inputs()`) as Triton kernels (`class ModelNew`), inside a generate-verify-refine loop such as "
    "`tritonforge generate`. Every output must be verified (numerically, against the reference) before use; "
    "the model's text alone is not a correctness guarantee. Not intended for general chat."
)


class ReleaseError(UserError):
    """A release that cannot be made (message is one line)."""


def load_merged(ckpt: Path) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, info) of the weights `resolve_weights` says `ckpt` means: a LoRA run's merged/, an
    adapter merged into its base in memory, or a full checkpoint as is. `info` describes the adapter, if any."""
    from transformers import AutoTokenizer

    weights = resolve_weights(ckpt)
    if weights.kind not in ("merged", "adapter", "checkpoint"):
        raise ReleaseError(f"{ckpt}: not a model checkpoint (no config.json or adapter_config.json)")
    info: dict[str, Any] = {"checkpoint": str(ckpt), "adapter": weights.adapter is not None}
    if weights.adapter is not None:
        cfg = weights.adapter
        info.update(base_model=cfg.get("base_model_name_or_path"), peft_type=cfg.get("peft_type"),
                    lora_r=cfg.get("r"), lora_alpha=cfg.get("lora_alpha"))
    model = weights.load()
    tok_src = weights.tokenizer_path
    try:
        tok = AutoTokenizer.from_pretrained(str(tok_src))
    except Exception as e:
        raise ReleaseError(f"cannot load a tokenizer from {tok_src}: {type(e).__name__}: {e}") from None
    if not getattr(tok, "chat_template", None):
        raise ReleaseError(f"tokenizer at {tok_src} has no chat template; the prompt format would be lost")
    return model, tok, info


def training_notes(ckpt: Path) -> list[str]:
    """Markdown lines about training, from whatever lies next to the checkpoint (never invented)."""
    lines: list[str] = []
    ckpts = sorted(ckpt.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1)
    for d in (ckpt, *ckpts[-1:], ckpt.parent):  # a trainer's final save has no state; its last checkpoint does
        state = d / "trainer_state.json"
        if state.is_file():
            s = json.loads(state.read_text())
            lines.append(f"- Trainer state ({state.parent.name}): global step {s.get('global_step')}, "
                         f"epoch {s.get('epoch')}, max steps {s.get('max_steps')}.")
            logs = [h for h in s.get("log_history", []) if "loss" in h or "reward" in h]
            if logs:
                last = logs[-1]
                keys = [k for k in ("loss", "reward", "rewards/exec_reward/mean", "learning_rate") if k in last]
                lines.append("- Last logged: " + ", ".join(f"{k} = {last[k]:.4g}" for k in keys if isinstance(last[k], (int, float))) + ".")
            break
    for d in (ckpt, ckpt.parent):
        for name in ("training_args.json", "tritonforge_run.json", "run.json"):
            p = d / name
            if p.is_file():
                lines.append(f"- Settings from `{name}`:\n\n```json\n{p.read_text().strip()[:3000]}\n```")
        for p in sorted(d.glob("*.yaml"))[:3]:
            lines.append(f"- Recipe `{p.name}`:\n\n```yaml\n{p.read_text().strip()[:3000]}\n```")
    if not lines:
        lines.append("- No trainer state or recipe was found next to the checkpoint; see the project's stagekit/recipes/.")
    return lines


def model_card(info: dict[str, Any], runs: list[dict[str, Any]], ckpt: Path, name: str) -> str:
    base = info.get("base_model")
    lora = (f"LoRA adapter (r={info.get('lora_r')}, alpha={info.get('lora_alpha')}) merged into `{base}`."
            if info.get("adapter") else "Full checkpoint.")
    example_user = USER_TEMPLATE.format(instruction="{instruction}", reference="{reference}")
    eval_md = eval_table(runs) if runs else "_No eval report was given._\n"
    detail = ""
    for r in runs:
        m = r["metrics"]
        detail += (f"\n- `{r['label']}` on `{r.get('settings', {}).get('suite')}`: status breakdown "
                   + ", ".join(f"{k} {v}" for k, v in m.get("by_status", {}).items())
                   + f"; timing {'on (GPU)' if m.get('timed') else 'off (CPU, speedups not measured)'}.")
    base_meta = f"base_model: {base}\n" if base and not str(base).startswith("/") else ""
    return f"""---
library_name: transformers
pipeline_tag: text-generation
license: apache-2.0
{base_meta}tags:
- triton
- gpu-kernels
- code-generation
- tritonforge
---

# {name}

A language model that rewrites PyTorch modules as Triton GPU kernels, trained with the tritonforge
recipe (AutoTriton: verified-data SFT, then GRPO with rule x execution rewards).

## Intended use

{INTENDED_USE}

## Prompt format

Use the tokenizer's chat template with exactly these messages (the same format was used in training).

System message:

```text
{SYSTEM_PROMPT}
```

User message (`{{instruction}}` is a sentence such as "Replace the PyTorch operators in Model with custom
Triton kernels."; `{{reference}}` is the full PyTorch source):

````text
{example_user}
````

The answer is short reasoning followed by one ```` ```python ```` block defining `class ModelNew(nn.Module)`.
Verify it before use, e.g. `tritonforge generate my_module.py --model <this folder>`.

## Training

- Checkpoint: `{ckpt.name}`. {lora}
{chr(10).join(training_notes(ckpt))}

## Evaluation

Every number comes from running the generated kernels in tritonforge's sandbox against the PyTorch
reference (several random input draws; outputs compared as tensors). pass@k uses the unbiased estimator;
fast_p counts correct samples faster than p x eager PyTorch (GPU only); hack rate counts completions that
would pass execution but break the kernel rules (e.g. computing with torch instead of Triton).

{eval_md}{detail}

## Limitations

- Small models produce many non-verifying kernels; always use a verifier such as `tritonforge generate`.
{chr(10).join('- ' + s for s in SANDBOX_LIMITS)}
"""


def release(
    ckpt: str | Path, report_dirs: list[str | Path], out: str | Path, push: str | None = None,
    name: str | None = None, max_new_tokens: int = 2048,
) -> Path:
    """Write the release folder atomically; optionally push it to the Hub. Returns the folder."""
    from transformers import GenerationConfig

    ckpt, out = Path(ckpt), Path(out)
    if not ckpt.is_dir():
        raise ReleaseError(f"{ckpt}: no such checkpoint folder")
    runs = [load_run(d) for d in report_dirs]
    model, tok, info = load_merged(ckpt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        gen = GenerationConfig.from_model_config(model.config)
        gen.max_new_tokens = max_new_tokens
        gen.do_sample, gen.temperature, gen.top_p = True, 0.7, 0.95
        gen.eos_token_id = tok.eos_token_id if gen.eos_token_id is None else gen.eos_token_id
        gen.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        gen.save_pretrained(str(tmp))
        (tmp / "README.md").write_text(model_card(info, runs, ckpt, name or out.name))
        if out.exists():  # replace a previous release only once the new one is complete
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if push:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(push, exist_ok=True)
        api.upload_folder(folder_path=str(out), repo_id=push, commit_message="tritonforge release")
    return out
