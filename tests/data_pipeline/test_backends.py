"""Generation backends: hf on the tiny model, openai against a local stub server, bad names."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from data_pipeline.backends import BackendError, GenerationBackend, HFBackend, make_backend

PROMPT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]


def test_unknown_kind_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="hf, openai, vllm"):
        make_backend("nope", "x")


def test_hf_backend_shapes_greedy_and_seeded(tiny_model_dir) -> None:
    b = make_backend("hf", str(tiny_model_dir), device="cpu", batch_size=2)
    assert isinstance(b, HFBackend) and isinstance(b, GenerationBackend)
    prompts = [PROMPT, [{"role": "user", "content": "Another, longer prompt to force padding."}], PROMPT]
    greedy = b.generate(prompts, n=2, temperature=0.0, max_new_tokens=5, seed=0)
    assert len(greedy) == 3 and all(len(c) == 2 for c in greedy)
    assert greedy[0][0] == greedy[0][1]  # greedy copies
    assert greedy[0] == greedy[2]  # same prompt, same output regardless of batch position (left padding)
    s1 = b.generate(prompts[:1], n=3, temperature=1.0, max_new_tokens=5, seed=7)
    s2 = b.generate(prompts[:1], n=3, temperature=1.0, max_new_tokens=5, seed=7)
    assert s1 == s2 and len(s1[0]) == 3


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if body["model"] == "missing":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "no such model"}')
            return
        k = min(body["n"], 2)  # a server that caps n at 2: the backend must ask again
        choices = [
            {"index": i, "message": {"role": "assistant", "content": f"ans{i}-{body['seed']}"}}
            for i in range(k)
        ]
        data = json.dumps({"choices": choices}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a) -> None:  # keep pytest output clean
        pass


@pytest.fixture()
def stub_server():
    srv = HTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Handler.requests.clear()
    yield f"http://127.0.0.1:{srv.server_port}/v1"
    srv.shutdown()
    srv.server_close()


def test_openai_backend_against_local_server(stub_server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    b = make_backend("openai", "teacher", base_url=stub_server)
    out = b.generate([PROMPT, PROMPT], n=3, temperature=0.7, max_new_tokens=16, seed=5)
    assert [len(c) for c in out] == [3, 3]
    r = _Handler.requests[0]
    assert r["path"] == "/v1/chat/completions" and r["auth"] == "Bearer sk-test"
    assert r["messages"] == PROMPT and r["max_tokens"] == 16 and r["temperature"] == 0.7 and r["n"] == 3
    assert _Handler.requests[1]["n"] == 1  # asked again for the one missing completion


def test_openai_backend_http_error_is_clear(stub_server) -> None:
    b = make_backend("openai", "missing", base_url=stub_server, api_key="")
    with pytest.raises(BackendError, match="HTTP 404"):
        b.generate([PROMPT], n=1, temperature=0.0, max_new_tokens=4, seed=0)


def test_vllm_missing_is_clear() -> None:
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match="pip install"):
            make_backend("vllm", "x")
    else:  # pragma: no cover - GPU boxes with the extra
        pytest.skip("vllm installed")


def test_auto_backend_is_vllm_when_installed_else_hf(tiny_model_dir, monkeypatch) -> None:
    import data_pipeline.backends as b

    monkeypatch.setattr(b, "vllm_available", lambda: False)
    got = make_backend("auto", str(tiny_model_dir), device="cpu", threads=1, enforce_eager=True)  # vLLM-only kw dropped
    assert isinstance(got, HFBackend) and got.name == "hf"

    made: list = []

    class FakeVLLM:
        name = "vllm"

        def __init__(self, model, **kw):  # noqa: ANN001
            made.append(kw)

    monkeypatch.setattr(b, "vllm_available", lambda: True)
    monkeypatch.setattr(b, "VLLMBackend", FakeVLLM)
    got = make_backend("auto", str(tiny_model_dir), device="cpu", threads=1, batch_size=4)
    assert isinstance(got, FakeVLLM) and made == [{"device": "cpu"}]  # HF-only kw dropped

    class BrokenVLLM:
        def __init__(self, model, **kw):  # noqa: ANN001
            raise RuntimeError("no CPU support compiled in")

    monkeypatch.setattr(b, "VLLMBackend", BrokenVLLM)
    assert isinstance(make_backend("auto", str(tiny_model_dir), device="cpu", threads=1), HFBackend)  # fallback


def test_hf_counts_tokens_and_ignore_eos_forces_length(tiny_model_dir) -> None:
    b = make_backend("hf", str(tiny_model_dir), device="cpu", batch_size=4, threads=1)
    out = b.generate([PROMPT, PROMPT], n=2, temperature=1.0, max_new_tokens=6, seed=0, ignore_eos=True)
    assert [len(o) for o in out] == [2, 2] and b.last_new_tokens == 2 * 2 * 6


def test_threads_explicit_env_and_bad_value(monkeypatch) -> None:
    import torch

    from data_pipeline.threads import ENV, measure_threads, pick_threads

    old = torch.get_num_threads()
    try:
        assert pick_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv(ENV, "1")
        assert pick_threads("auto") == 1
        monkeypatch.delenv(ENV)
        speeds = measure_threads([1])
        assert speeds[1] > 0
        with pytest.raises(ValueError, match="threads"):
            pick_threads("many")
    finally:
        torch.set_num_threads(old)


def test_bench_generate_hf_only_prints_tokens_and_speedup_line(tiny_model_dir, monkeypatch, capsys) -> None:
    """Without vLLM the bench still measures HF (best probed setting) and says why the speedup is n/a."""
    import data_pipeline.bench_generate as bg
    from tritonforge.cli import main

    monkeypatch.setattr(bg, "vllm_available", lambda: False)
    rc = main(["bench", "generate", "--device", "cpu", "--model", str(tiny_model_dir), "--prompts", "2", "--n", "2",
               "--max_new_tokens", "8", "--probe_tokens", "2", "--hf_threads", "1", "--hf_dtypes", "float32"])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 1 and out[-1] == "speedup_vs_hf: n/a"
    assert out[0].startswith("hf: ") and "tok/s" in out[0] and "32 tokens" in out[0]
    assert "setup_vllm_cpu.sh" in out[1]


def test_bench_generate_speedup_line_with_a_fake_vllm(tiny_model_dir, monkeypatch, capsys) -> None:
    import data_pipeline.bench_generate as bg
    from tritonforge.cli import main

    monkeypatch.setattr(bg, "bench_vllm", lambda *a, **k: bg.Measurement("vllm", 1e9, 32, 1e-7, 1.0, {"dtype": "x"}))
    rc = main(["bench", "generate", "--device", "cpu", "--model", str(tiny_model_dir), "--prompts", "2", "--n", "2",
               "--max_new_tokens", "8", "--probe_tokens", "2", "--hf_threads", "1", "--hf_dtypes", "float32"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert rc == 0 and last.startswith("speedup_vs_hf: ") and float(last.split()[1]) > 1


def test_bench_generate_bad_input_is_one_line(capsys) -> None:
    from tritonforge.cli import main

    assert main(["bench", "generate", "--hf_dtypes", "int3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --hf_dtypes")
