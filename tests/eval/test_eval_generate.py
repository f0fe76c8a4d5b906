"""The generate -> verify -> feedback loop, with fake backends (and the real sandbox where cheap)."""

from __future__ import annotations

from pathlib import Path

from eval.cli import main
from eval.generate import generate_kernel, run_generate
from rewards import Status, VerifyConfig, VerifyResult

CFG = VerifyConfig(device="cpu", workers=2, seed=0, trials=2)


def fenced(code: str) -> str:
    return f"I will write a Triton kernel.\n\n```python\n{code}```\n"


def test_generate_uses_the_shared_feedback_builder() -> None:
    """One feedback format for GRPO, eval and generate: generate must not grow its own builder again."""
    import eval.generate as gen
    from rewards.contract import feedback
    from rewards.contract.types import Status, VerifyResult

    assert gen.refinement_turn is feedback.refinement_turn
    res = VerifyResult(status=Status.SYNTAX_ERROR, log="SyntaxError: invalid syntax")
    answer, reply = gen.refinement_turn("def f(:", res)
    assert answer == {"role": "assistant", "content": "def f(:"}
    assert reply == {"role": "user", "content": feedback.feedback_message(res)}


def test_refinement_loop_feeds_error_back(triton_examples: dict[str, str], scripted_backend) -> None:
    """The fake model cheats first; it only writes the real kernel after reading the rule finding."""
    seen: list[str] = []

    def respond(messages: list[dict], i: int) -> str:
        last = messages[-1]["content"]
        if messages[-1]["role"] == "user" and "Verification failed" in last:
            seen.append(last)
            return fenced(triton_examples["relu_sol"])
        return fenced(triton_examples["relu_cheat"])

    backend = scripted_backend(respond)
    out = generate_kernel(triton_examples["relu_ref"], backend, attempts=3, samples=2, config=CFG)
    assert out.verified and out.turns == 2
    assert "relu_kernel[" in (out.code or "")
    assert seen and "rule_violation" in seen[0] and "torch.relu" in seen[0], seen
    # the second turn continued the same conversation: system, user, assistant, user(feedback)
    assert [m["role"] for m in backend.calls[1][0]] == ["system", "user", "assistant", "user"]
    assert "verified" in out.report()


def test_nothing_verifies_exit_1(tmp_path: Path, triton_examples: dict[str, str], scripted_backend) -> None:
    ref = tmp_path / "relu.py"
    ref.write_text(triton_examples["relu_ref"])
    fake = [VerifyResult(Status.RUNTIME_ERROR, log="IndexError: out of range", error_type="IndexError")]
    backend = scripted_backend(lambda m, i: fenced("x = 1\n"))
    code, out = run_generate(ref, backend, out=tmp_path / "k.py", attempts=2, samples=1, config=CFG,
                             verify_fn=lambda pairs, cfg: fake * len(pairs))
    assert code == 1 and not out.verified and not (tmp_path / "k.py").exists()
    assert "NOT verified" in out.report() and "IndexError" in out.report()
    assert "IndexError: out of range" in backend.calls[1][0][-1]["content"]


def test_verified_kernel_written(tmp_path: Path, triton_examples: dict[str, str], scripted_backend) -> None:
    ref = tmp_path / "vecadd.py"
    ref.write_text(triton_examples["vecadd_ref"])
    backend = scripted_backend(lambda m, i: fenced(triton_examples["vecadd_sol"]))
    code, out = run_generate(ref, backend, attempts=1, samples=1, config=CFG, report_path=tmp_path / "r.json")
    assert code == 0 and out.verified
    written = (tmp_path / "vecadd_triton.py").read_text()
    assert "class ModelNew" in written and "add_kernel" in written
    assert (tmp_path / "r.json").is_file()


def test_cli_bad_reference_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    assert main(["generate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "class Model" in err[0]
    assert main(["generate", str(tmp_path / "missing.py")]) == 2
