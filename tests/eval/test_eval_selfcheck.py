"""`eval selfcheck` and the TritonBench value oracle, on small files written in TritonBench-G's format
(tests/eval/fixtures/tritonbench_oracle): a module-level `f = Cls.apply` entry with a backward test, a
test that launches a kernel directly and writes in place, an expected exception, an nn.Module built in
the test, a test that compares nothing, a random kernel, a wrapper that draws its own random data, an object
built in the test and passed on to another call, and a file without a separator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.cli import main
from eval.selfcheck import classify
from eval.suites import load_suite_full
from rewards.contract.types import Finding, Status, VerifyResult

FIX = Path(__file__).parent / "fixtures" / "tritonbench_oracle"
SUITE = f"tritonbench-g:{FIX}"


def test_selfcheck_classifies_every_file_and_ends_with_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sc"
    # Rules off: this test is about the importer + oracle path; rule false rejections are listed separately.
    assert main(["eval", "selfcheck", "--suite", SUITE, "--device", "cpu", "--out", str(out), "--no_strict_rules"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1] == "accepted: 5/8"
    rows = {r["task_id"]: r for r in map(json.loads, (out / "selfcheck.jsonl").read_text().splitlines())}
    assert {k: r["outcome"] for k, r in rows.items()} == {
        "tritonbench_g-scale_alias": "accepted",  # alias entry; gradients compared
        "tritonbench_g-inplace_launch": "accepted",  # direct launch, in-place outputs, expected exception
        "tritonbench_g-rowsum_module": "accepted",  # nn.Module built and called in the test
        "tritonbench_g-random_wrapper": "accepted",  # torch.randn inside the wrapper: seeded per trial
        "tritonbench_g-config_object": "accepted",  # object passed on to a call, its attribute read
        "tritonbench_g-random_drop": "nondeterministic",
        "tritonbench_g-returns_nothing": "compares_nothing",
        "tritonbench_g-no_separator": "excluded",
    }
    assert rows["tritonbench_g-scale_alias"]["backward"] == "yes"
    assert rows["tritonbench_g-rowsum_module"]["backward"] == "forward only"
    assert "no '#####' line" in rows["tritonbench_g-no_separator"]["reason"]
    summary = json.loads((out / "selfcheck.json").read_text())
    assert summary["files"] == 8 and summary["imported"] == 7 and summary["judgeable"] == 5
    md = (out / "selfcheck.md").read_text()
    assert "## nondeterministic (1)" in md and "accepted: 5/8 of all files, 5/5 of judgeable" in md


def _items() -> dict[str, object]:
    return {it.task_id: it for it in load_suite_full(SUITE, device="cpu").items}


def _code(name: str) -> str:
    return (FIX / f"data/TritonBench_G_v1/{name}.py").read_text().split("#" * 60)[0]


def test_oracle_rejects_subtly_wrong_candidates_and_accepts_honest_rewrites() -> None:
    from rewards import VerifyConfig, verify_batch

    items = _items()
    scale, inplace, rowsum, rand, config = (items[f"tritonbench_g-{n}"] for n in (
        "scale_alias", "inplace_launch", "rowsum_module", "random_wrapper", "config_object"))
    cases = [
        # wrong gradient, right forward: caught because the test runs backward
        (scale, _code("scale_alias").replace("return _launch(g.contiguous(), ctx.s), None",
                                             "return _launch(g.contiguous(), 2.0 * ctx.s), None"), "mismatch"),
        # in place: a different but honest float formula passes with the output tolerances (not atol=0)
        (inplace, _code("inplace_launch").replace("tl.load(x_ptr + offs, mask=m) + 1.0",
                                                  "(tl.load(x_ptr + offs, mask=m) * 3.0 + 3.0) / 3.0"), "ok"),
        # in place, off by 1e-3: rejected
        (inplace, _code("inplace_launch").replace("+ 1.0, mask=m)", "+ 1.001, mask=m)"), "mismatch"),
        # a call the test expects to raise no longer raises
        (inplace, _code("inplace_launch").replace('raise ValueError("add_one_ takes 1-D tensors")', "return None"),
         "mismatch"),
        # the module's weight ignored: rejected
        (rowsum, _code("rowsum_module").replace("tl.sum(x, axis=0) * w", "tl.sum(x, axis=0)"), "mismatch"),
        # random data drawn inside the wrapper: the same draws pass; other draws (or a fixed seed) do not
        (rand, _code("random_wrapper"), "ok"),
        (rand, _code("random_wrapper").replace("torch.randn((size_m, d_head)", "torch.rand((size_m, d_head)"),
         "mismatch"),
        (rand, _code("random_wrapper").replace("    matrix = torch.randn(",
                                               "    torch.manual_seed(0)\n    matrix = torch.randn("), "mismatch"),
        # the object's attribute ignored: rejected
        (config, _code("config_object").replace("config.scale, BLOCK", "2.0, BLOCK"), "mismatch"),
    ]
    cfg = VerifyConfig(device="cpu", workers=2, seed=3, trials=1, strict_rules=False)
    res = verify_batch([(it.task.reference, it.candidate(f"```python\n{code}\n```")) for it, code, _ in cases], cfg)
    assert [r.status.value for r in res] == [want for _, _, want in cases], [r.summary() + r.log[-300:] for r in res]


def test_classify_outcomes() -> None:
    ok = VerifyResult(status=Status.OK, correct=True)
    assert classify(ok) == ("accepted", "")
    flagged = VerifyResult(status=Status.MISMATCH, extra=(("reference_nondeterministic", True),))
    assert classify(flagged)[0] == "nondeterministic"
    interp = VerifyResult(status=Status.RUNTIME_ERROR, log="NotImplementedError: inline_asm not supported in interpreter mode")
    assert classify(interp)[0] == "unsupported_on_cpu"
    ref = VerifyResult(status=Status.INFRA_ERROR, log="reference process exited 1\nTraceback...\nKeyError: 'x'")
    assert classify(ref) == ("reference_failed", "KeyError: 'x'")
    slow = VerifyResult(status=Status.INFRA_ERROR, log="reference process ran past its time limit (600 s, reference_timeout_s) and was killed\n")
    assert classify(slow)[0] == "timeout"
    oom = VerifyResult(status=Status.INFRA_ERROR, log="reference process was killed by SIGKILL\n")  # not by the zygote
    assert classify(oom)[0] == "reference_failed" and "out of memory" in classify(oom)[1]
    gpu_fault = VerifyResult(status=Status.RUNTIME_ERROR, device="cuda",
                             log='File "torch/cuda/__init__.py"\ntorch.AcceleratorError: CUDA error: an illegal memory access')
    assert classify(gpu_fault)[0] == "candidate_failed"  # on a GPU a CUDA error is the code's, not the interpreter's
    rule = VerifyResult(status=Status.RULE_VIOLATION, rule_findings=(Finding("forbidden_import", "imports `logging`"),))
    assert classify(rule) == ("rule_rejected", "forbidden_import: imports `logging`")
    mism = VerifyResult(status=Status.MISMATCH, log="trial 0 output[0]: 3 of 10 elements outside")
    assert classify(mism, "x = tl.load(p)")[0] == "mismatch"
    assert classify(mism, "keep = tl.rand(seed, offs) > p")[0] == "nondeterministic"


def test_selfcheck_bad_suite_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "selfcheck", "--suite", "tritonbench-g:/no/such/dir", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_selfcheck_resumes_from_its_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A killed self-check keeps what it judged: a rerun with the same settings takes those checks from the
    journal (here one planted entry, which a real run would have judged `accepted`) and judges the rest."""
    out = tmp_path / "sc"
    out.mkdir()
    key = {"suite": SUITE, "device": "cpu", "strict_rules": False, "trials": 1}
    planted = {"task_id": "tritonbench_g-scale_alias", "outcome": "mismatch", "reason": "planted by the test",
               "answer": "shipped solution", "size": "", "backward": "yes", "status": "mismatch", "rules": []}
    stale = {**planted, "task_id": "tritonbench_g-rowsum_module", "key": {**key, "device": "cuda"}}
    (out / "selfcheck.partial.jsonl").write_text(json.dumps({**planted, "key": key}) + "\n" + json.dumps(stale) + "\n{cut")
    assert main(["eval", "selfcheck", "--suite", SUITE, "--device", "cpu", "--out", str(out), "--no-strict-rules"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "accepted: 4/8"
    rows = {r["task_id"]: r for r in map(json.loads, (out / "selfcheck.jsonl").read_text().splitlines())}
    assert rows["tritonbench_g-scale_alias"]["reason"] == "planted by the test"  # from the journal, not re-run
    assert rows["tritonbench_g-rowsum_module"]["outcome"] == "accepted"  # another device's entry was ignored
    assert len(rows) == 8 and not (out / "selfcheck.partial.jsonl").exists()


def test_shipped_solutions_with_the_harness_pass_the_strict_static_rules() -> None:
    """The harness is appended to every candidate, so it must itself pass the rules a model's code meets
    (a `getattr(obj, name)` proxy, say, would sink every TritonBench task at once)."""
    from rewards.rules.apply import check_rules, fatal_findings

    for name, it in _items().items():
        if it.solution and name != "tritonbench_g-no_separator":
            assert not fatal_findings(check_rules(it.solution, it.task.reference)), name


def test_selfcheck_lists_uninformative_tasks_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A task whose outputs ignore its inputs (all zeros here) is flagged by the judge's probe and kept out of the
    judgeable denominator, in the files and in the printed summary."""
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    here = Path(__file__).parents[1] / "rewards" / "tasks"
    for name in ("zeros_out", "relu"):
        (tasks / f"{name}.py").write_text((here / f"{name}.py").read_text())
    out = tmp_path / "sc"
    assert main(["eval", "selfcheck", "--suite", f"folder:{tasks}", "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = {r["task_id"]: r for r in map(json.loads, (out / "selfcheck.jsonl").read_text().splitlines())}
    assert rows["zeros_out"]["outcome"] == "uninformative" and "all zeros" in rows["zeros_out"]["reason"]
    assert rows["relu"]["outcome"] == "accepted"
    summary = json.loads((out / "selfcheck.json").read_text())
    assert summary["judgeable"] == 1 and summary["files"] == 2
    assert "(1 uninformative, apart)" in printed and "uninformative" in (out / "selfcheck.md").read_text()


def test_classify_uninformative() -> None:
    flagged = VerifyResult(status=Status.OK, correct=True, extra=(("uninformative", "outputs all zeros pass the oracle"),))
    assert classify(flagged) == ("uninformative", "outputs all zeros pass the oracle")
