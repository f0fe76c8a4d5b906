"""One task rendered through every path must reach the model as the same text.

A model learns the exact token sequence SFT shows it. If eval, `generate`, GRPO or the corpus put the
system prompt, the user turn or the chat template together even slightly differently, the SFT model is
evaluated (and RL-trained) on prompts it never saw, and its accuracy silently drops. This test renders one
synthesized task through: the corpus builder's rows, SFT's tokenized training example (TRL SFTTrainer),
GRPO's prompt tokenization (TRL GRPOTrainer), the eval suite's item, the HF generation backend, and the
`generate` command's first turn, and compares them token for token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from data_pipeline.synth import synthesize


@pytest.fixture(scope="module")
def task():
    return synthesize(1, 0, seed=3, reasoning=False, compact=True)[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, task) -> Path:
    """A corpus written by the real writer from the real builder's row functions."""
    from data_pipeline.build import _sft_row, _task_row
    from data_pipeline.writer import write_dataset

    cand = {"sample_id": task.sample_id, "task_id": task.sample_id, "source": "synth", "reference": task.reference,
            "instruction": task.instruction, "split": "train", "difficulty": "1", "license": "Apache-2.0",
            "provenance": "test", "op_kind": task.op_kind, "signature": task.signature, "solution": task.solution,
            "reasoning": task.reasoning}
    verdict = {"verify_status": "ok", "verify_max_abs_err": 0.0, "verify_trials": 1, "verify_kernel_launches": 1,
               "verify_summary": "ok"}
    rows = {"sft": [_sft_row(cand, verdict)] * 2, "rl": [_task_row(cand, True)] * 2,
            "heldout": [_task_row({**cand, "split": "heldout"}, True)], "attempts": [],
            "indist": [_task_row({**cand, "split": "indist"}, True)]}
    out = tmp_path_factory.mktemp("consistency") / "corpus"
    write_dataset(out, "consistency", rows, {"stages": []})
    return out


def test_every_path_renders_the_same_prompt(tiny_model_dir: Path, corpus: Path, task, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from data_pipeline.backends import HFBackend, render_prompt
    from eval.generate import generate_kernel
    from eval.suites import load_suite_full
    from grpo.cli import parse as grpo_parse
    from grpo.train import build_trainer as grpo_trainer
    from rewards.contract.prompt import assistant_message, prompt_messages
    from sft.cli import parse as sft_parse
    from sft.train import build_trainer as sft_trainer

    expected = prompt_messages(task.reference, task.instruction)
    tok = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    gen_text = render_prompt(tok, expected)
    gen_ids = tok(gen_text, add_special_tokens=False).input_ids

    # corpus: the SFT conversation starts with exactly the prompt of the RL / held-out rows
    import datasets

    sft_rows = datasets.load_dataset("parquet", data_files=str(corpus / "data" / "sft-*.parquet"), split="train")
    rl_rows = datasets.load_dataset("parquet", data_files=str(corpus / "data" / "rl-*.parquet"), split="train")
    assert sft_rows[0]["messages"][:2] == expected == rl_rows[0]["prompt"]
    assert sft_rows[0]["messages"][2] == {"role": "assistant", "content": assistant_message(task.solution)}

    # eval: both held-out suites hand the model the same messages
    for spec in (f"heldout:{corpus}", f"heldout:{corpus / 'indist'}"):
        (item,) = load_suite_full(spec).items
        assert item.messages == expected, spec

    # HF backend (eval, generate, distillation): the text it tokenizes
    backend = HFBackend(str(tiny_model_dir), device="cpu", threads=1)
    assert render_prompt(backend.tokenizer, expected) == gen_text

    # generate: the first turn is the same format (its instruction is the user's, here the task's)
    seen: list = []

    class Spy:
        last_new_tokens = 0

        def generate(self, prompts, n, temperature, max_new_tokens, seed):  # noqa: ANN001
            seen.append(list(prompts[0]))  # copied: the loop appends feedback turns afterwards
            return [["no code"] * n for _ in prompts]

    generate_kernel(task.reference, Spy(), instruction=task.instruction, attempts=1, samples=1,
                    verify_fn=lambda pairs, cfg: [_fail() for _ in pairs])
    assert seen[0] == expected

    # SFT: the training example = generation prompt tokens + the answer (loss only on the answer + <|im_end|>)
    args = sft_parse(["--config", "tiny",
                      "--model_name_or_path", str(tiny_model_dir), "--corpus", str(corpus),
                      "--output_dir", str(tmp_path / "sft"), "--packing", "false", "--padding_free", "false",
                      "--max_samples", "2",
                      "--threads", "1"])
    trainer = sft_trainer(*args)
    ex = trainer.train_dataset[0]
    ids, labels = ex["input_ids"], ex["labels"]
    first = next(i for i, label in enumerate(labels) if label != -100)
    last = max(i for i, label in enumerate(labels) if label != -100)
    assert all(label != -100 for label in labels[first:last + 1])  # one contiguous target: the answer
    assert ids[:first] == gen_ids
    answer = tok.decode(ids[first:last + 1])
    assert answer == assistant_message(task.solution) + "<|im_end|>"  # answer + end marker, nothing else
    assert tok.decode(ids[last + 1:]).strip() == ""  # only the template's trailing newline is unlabeled

    # GRPO: TRL's own prompt tokenization of the rl split
    gargs = grpo_parse(["--config", "tiny",
                        "--model_name_or_path", str(tiny_model_dir), "--corpus", str(corpus),
                        "--output_dir", str(tmp_path / "grpo"), "--num_generations", "2",
                        "--per_device_train_batch_size", "2", "--threads", "1", "--use_vllm", "false"])
    gt = grpo_trainer(*gargs)
    prompt_ids, _, _ = gt._tokenize_prompts([rl_rows[0]["prompt"]])
    assert list(prompt_ids[0]) == gen_ids


def _fail():
    from rewards.contract.types import Status, VerifyResult

    return VerifyResult(status=Status.NO_CODE, correct=False)
