"""Synthesizer: deterministic, all op kinds, held-out combinations disjoint, solutions verify."""

from __future__ import annotations

import ast

from data_pipeline.synth import OP_KINDS, make_sample, synthesize
from rewards import VerifyConfig, verify_batch

ALLOWED_IMPORTS = {"torch", "torch.nn", "triton", "triton.language", "math"}


def test_deterministic_and_extendable() -> None:
    a = synthesize(30, 5, seed=3)
    b = synthesize(30, 5, seed=3)
    assert [s.sample_id for s in a] == [s.sample_id for s in b]
    assert make_sample(3, 7)[0] == make_sample(3, 7)[0]
    assert synthesize(30, 5, seed=4)[0].sample_id != a[0].sample_id


def test_covers_every_op_kind_and_holds_out_combinations() -> None:
    samples = synthesize(300, 30, seed=0)
    assert {s.op_kind for s in samples} == set(OP_KINDS)
    train = {s.signature for s in samples if s.split == "train"}
    held = {s.signature for s in samples if s.split == "heldout"}
    assert held and not (train & held)
    assert {s.difficulty for s in samples} == {1, 2, 3}


def test_solutions_follow_the_candidate_contract() -> None:
    for s in synthesize(120, 10, seed=1):
        tree = ast.parse(s.solution)
        imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert imports <= ALLOWED_IMPORTS, imports
        assert not any(isinstance(n, (ast.ImportFrom, ast.Try)) for n in ast.walk(tree))
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ModelNew")
        fwd = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "forward")
        called = {ast.unparse(c.func) for c in ast.walk(fwd) if isinstance(c, ast.Call)}
        torch_calls = {c for c in called if c.startswith(("torch.", "F."))}
        assert torch_calls <= {"torch.empty", "torch.empty_like"}, torch_calls
        assert "@triton.jit" in s.solution


def test_one_of_each_kind_verifies() -> None:
    picked: dict[str, object] = {}
    for s in synthesize(200, 0, seed=5):
        picked.setdefault(s.op_kind, s)
    samples = list(picked.values())
    res = verify_batch([(s.reference, s.solution) for s in samples], VerifyConfig(device="cpu", trials=1, workers=2))
    bad = [(s.signature, r.summary()) for s, r in zip(samples, res, strict=True) if not r.correct]
    assert not bad, bad


def test_indist_split_holds_unseen_instances_of_train_combinations() -> None:
    from data_pipeline.synth import synthesize

    out = synthesize(120, 6, seed=1, n_indist=12)
    by = {k: [s for s in out if s.split == k] for k in ("train", "heldout", "indist")}
    assert len(by["train"]) == 120 and len(by["heldout"]) == 6 and len(by["indist"]) == 12
    train_sigs = {s.signature for s in by["train"]}
    assert all(s.signature in train_sigs for s in by["indist"])  # seen combination
    assert not {s.signature for s in by["heldout"]} & train_sigs  # unseen combination
    assert not {s.reference for s in by["indist"]} & {s.reference for s in by["train"]}  # unseen instance
    # Without indist nothing is rerouted: the same stream as a draw that never asks for it.
    assert [s.sample_id for s in synthesize(40, 2, seed=1)] == [s.sample_id for s in synthesize(40, 2, seed=1, n_indist=0)]


def test_compact_answers_are_shorter_and_still_verify() -> None:
    from data_pipeline.synth import synthesize
    from rewards import VerifyConfig, verify_batch

    full = synthesize(12, 0, seed=2)
    short = synthesize(12, 0, seed=2, reasoning=False, compact=True)
    assert [s.reference for s in full] == [s.reference for s in short]  # same tasks
    assert all(not s.reasoning and "#" not in s.solution and '"""' not in s.solution for s in short)
    from rewards.contract.prompt import assistant_message

    def answers(samples):  # noqa: ANN001, ANN202
        return sum(len(assistant_message(s.solution, s.reasoning)) for s in samples)

    assert answers(short) < 0.85 * answers(full)
    assert sum(len(s.solution) for s in short) < sum(len(s.solution) for s in full)
    res = verify_batch([(s.reference, s.solution) for s in short[:4]], VerifyConfig(device="cpu", trials=1, workers=2))
    assert all(r.correct for r in res), [r.summary() for r in res]
