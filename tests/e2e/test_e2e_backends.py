"""End to end over LSP against loopback TGI, OpenAI-compatible, Ollama and llama.cpp servers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Starter, clean_env, inline, logged, open_doc, shown, wait_for
from fake_backends import KINDS, FakeBackend
from hf_server import Fault
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

SOURCE = "def add(a, b):\n    \n"
PATHS = {
    ("tgi", True): "/generate_stream",
    ("tgi", False): "/generate",
    ("openai", True): "/v1/completions",
    ("openai", False): "/v1/completions",
    ("ollama", True): "/api/generate",
    ("ollama", False): "/api/generate",
    ("llamacpp", True): "/infill",
    ("llamacpp", False): "/infill",
}
MODELS = {"tgi": "bigcode/starcoder2-3b", "openai": "bigcode/starcoder2-3b",
          "ollama": "starcoder2:3b", "llamacpp": "starcoder2-3b"}


def settings_for(server: FakeBackend, **extra: Any) -> dict[str, Any]:
    url = server.base_url + ("/v1" if server.kind == "openai" else "")
    return {"backend": server.kind, "url": url, "model": MODELS[server.kind],
            "context": {"includeFilePath": False}, **extra}


def length_of(kind: str, body: dict[str, Any]) -> Any:
    return {
        "tgi": lambda: body["parameters"]["max_new_tokens"],
        "openai": lambda: body["max_tokens"],
        "ollama": lambda: body["options"]["num_predict"],
        "llamacpp": lambda: body["n_predict"],
    }[kind]()


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("kind", KINDS)
async def test_completion_end_to_end(start: Starter, kind: str, stream: bool) -> None:
    with FakeBackend(kind, "return a + b\n\ndef sub(a, b):\n    return a - b\n") as server:
        client = await start(settings_for(server, stream=stream,
                                          parameters={"temperature": 0.3, "top_k": 20,
                                                      "repetition_penalty": 1.05}))
        uri = open_doc(client, SOURCE)
        items = await inline(client, uri, 1, 4)
        assert [i.insert_text for i in items] == ["return a + b"]

        (sent,) = server.generation_requests()
        body = sent.body
        assert sent.path == PATHS[(kind, stream)]
        assert length_of(kind, body) == 160
        fim_prompt = "<fim_prefix>def add(a, b):\n    <fim_suffix>\n<fim_middle>"
        if kind == "tgi":
            assert body["inputs"] == fim_prompt
            p = body["parameters"]
            assert (p["temperature"], p["top_k"], p["repetition_penalty"]) == (0.3, 20, 1.05)
            assert p["details"] is True and p["return_full_text"] is False
            assert p["truncate"] == 4096 - 160 and len(p["stop"]) <= 4
            assert "max_time" not in p and "num_return_sequences" not in p
        elif kind == "openai":
            assert body["prompt"] == fim_prompt and "suffix" not in body
            assert body["model"] == MODELS[kind] and body["stream"] is stream
            assert (body["temperature"], body["top_k"], body["repetition_penalty"]) == (
                0.3, 20, 1.05)
        elif kind == "ollama":
            assert (body["prompt"], body["suffix"]) == ("def add(a, b):\n    ", "\n")
            assert body["stream"] is stream and body["model"] == MODELS[kind]
            options = body["options"]
            assert (options["temperature"], options["top_k"], options["repeat_penalty"]) == (
                0.3, 20, 1.05)
        else:
            assert (body["input_prefix"], body["input_suffix"]) == ("def add(a, b):\n    ", "\n")
            assert (body["temperature"], body["top_k"], body["repeat_penalty"]) == (0.3, 20, 1.05)
            assert body["stream"] is stream


@pytest.mark.parametrize("kind", KINDS)
async def test_a_single_line_completion_asks_the_server_to_stop_at_the_newline(
    start: Starter, kind: str
) -> None:
    with FakeBackend(kind, "b\n" + "x = 1\n" * 40, chunk_delay=0.01) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, "total = add(a, ) + c\n")
        items = await inline(client, uri, 0, 15)
        assert [i.insert_text for i in items] == ["b"]
        body = server.generation_requests()[0].body
        stops = {"tgi": lambda: body["parameters"]["stop"], "openai": lambda: body["stop"],
                 "ollama": lambda: body["options"]["stop"], "llamacpp": lambda: body["stop"]}
        assert "\n" in stops[kind]()
        assert length_of(kind, body) == 24


@pytest.mark.parametrize("kind", KINDS)
async def test_cancelling_closes_the_stream(start: Starter, kind: str) -> None:
    with FakeBackend(kind, "return a + b\n" * 50, chunk_delay=0.2) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
        pending = asyncio.ensure_future(client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me"))
        await wait_for(lambda: server.active == 1)
        await asyncio.sleep(0.3)  # a few chunks arrive
        client.cancel_request(types.CancelParams(id="cancel-me"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, 5)
        await wait_for(lambda: server.active == 0 and server.closed_early == 1)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_error_event_mid_stream_keeps_what_arrived(start: Starter, kind: str) -> None:
    with FakeBackend(kind, "return a + b + c + d\n") as server:
        server.stream_fault("error_event", after_tokens=3)
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        items = await inline(client, uri, 1, 4)
        assert items and "return a" in items[0].insert_text
        await wait_for(lambda: logged(client, "the stream broke after"))
        assert logged(client, "simulated failure during generation")
        # a partial answer is not cached: the next request asks again
        await inline(client, uri, 1, 4)
        assert len(server.generation_requests()) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_a_stream_cut_mid_event_keeps_what_arrived(start: Starter, kind: str) -> None:
    with FakeBackend(kind, "return a + b + c + d\n") as server:
        server.stream_fault("cut", after_tokens=3)
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        items = await inline(client, uri, 1, 4)
        assert items and items[0].insert_text.startswith("return a")
        await wait_for(lambda: logged(client, "the stream broke after"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        pytest.param(lambda kind: Fault.status(
            401, {"error": {"message": "Invalid API key", "type": "AuthenticationError"}}
            if kind in ("openai", "llamacpp") else {"error": "Unauthorized"}),
            "invalid or missing token", id="401"),
        pytest.param(lambda kind: Fault.html(502), "HTML page", id="502-html"),
        pytest.param(lambda kind: Fault.malformed(), '"generated_text": "abc', id="malformed"),
        pytest.param(lambda kind: Fault.drop(), "no answer from", id="dropped"),
    ],
)
async def test_error_shapes(start: Starter, kind: str, fault: Any, expected: str) -> None:
    with FakeBackend(kind) as server:
        server.fault(fault(kind))
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 1, 4) == []
        await wait_for(lambda: logged(client, expected))
        # alive, and the next answer comes through
        assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]


async def test_tgi_limits_from_info_keep_a_long_prompt_valid(start: Starter) -> None:
    long_source = "".join(f"x{i} = {i}\n" for i in range(400)) + "def add(a, b):\n    \n"
    with FakeBackend("tgi", max_total_tokens=300, max_input_tokens=280) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, long_source)
        items = await inline(client, uri, 401, 4)
        assert [i.insert_text for i in items] == ["return a + b"]
        (sent,) = server.generation_requests()
        p = sent.body["parameters"]
        assert p["truncate"] + p["max_new_tokens"] <= 300
        assert any(r.path == "/info" for r in server.requests)
        # the prompt itself was sized by /info: whole FIM markers, the code next to the
        # cursor kept, the far top of the file left out (not cut off by the server)
        inputs = sent.body["inputs"]
        assert inputs.startswith("<fim_prefix>") and inputs.endswith("<fim_middle>")
        assert "def add(a, b):\n    <fim_suffix>" in inputs
        assert "x0 = 0\n" not in inputs and len(inputs) < 1000


async def test_tgi_gets_valid_parameters_from_any_valid_setting(start: Starter) -> None:
    with FakeBackend("tgi") as server:
        client = await start(settings_for(server, parameters={
            "temperature": 0, "top_p": 1.0,
            "stop": ["\nclass ", "\ndef ", "\nif ", "\n#", "\nfor "]}))
        uri = open_doc(client, SOURCE)
        assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
        p = server.generation_requests()[0].body["parameters"]
        assert "temperature" not in p and "top_p" not in p and p["do_sample"] is False
        assert len(p["stop"]) == 4


async def test_ollama_without_insert_support_falls_back_to_a_raw_fim_prompt(
    start: Starter,
) -> None:
    with FakeBackend("ollama", ollama_suffix_supported=False) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
        first, second = server.generation_requests()
        assert "suffix" in first.body and "suffix" not in second.body
        assert second.body["raw"] is True
        assert second.body["prompt"].startswith("<fim_prefix>def add(a, b):")
        await wait_for(lambda: logged(client, "sending the FIM prompt raw"))


async def test_llamacpp_without_infill_says_what_to_do(start: Starter) -> None:
    with FakeBackend("llamacpp", infill_supported=False) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 1, 4) == []
        await wait_for(lambda: shown(client, "Infill is not supported by this model"))
        assert '"openai"' in shown(client)[0]


async def test_openai_chat_and_errors_in_both_shapes() -> None:
    from hf_lsp.backends import make_backend
    from hf_lsp.config.settings import parse_settings
    from hf_lsp.errors import BadRequestError, ModelNotFoundError

    with FakeBackend("openai", "def f(): pass", models=("coder",)) as server:
        backend = make_backend(parse_settings({"backend": "openai", "url": server.base_url,
                                               "model": "coder"}), None)
        try:
            answer = await backend.chat(  # type: ignore[attr-defined]
                [{"role": "user", "content": "write f"}], {"max_new_tokens": 50}, "coder")
            assert answer.texts == ("def f(): pass",)
            with pytest.raises(ModelNotFoundError, match="does not exist"):
                await backend.chat(  # type: ignore[attr-defined]
                    [{"role": "user", "content": "x"}], {"max_new_tokens": 5}, "nope")
            server.fault(Fault.status(422, {"detail": [{"loc": ["body", "prompt"],
                                                        "msg": "field required"}]}))
            from hf_lsp.generation.contract import GenerationRequest

            with pytest.raises(BadRequestError, match="body.prompt: field required"):
                await backend.generate(GenerationRequest("p", {"max_new_tokens": 5},
                                                         model="coder"))
        finally:
            await backend.aclose()


async def test_long_generation_continues_past_the_serverless_cap() -> None:
    from hf_server import FakeInferenceServer, FakeModel

    from hf_lsp.config.layered import Configuration
    from hf_lsp.config.settings import parse_settings
    from hf_lsp.generation.contract import GenerationRequest

    words = " ".join(f"w{i}" for i in range(600))
    with FakeInferenceServer({"org/long": FakeModel(words)}) as hf:
        config = Configuration(parse_settings({"url": hf.api_url, "model": "org/long"}))
        progress: list[int] = []
        try:
            generation = await config.engine.client.generate_long(
                GenerationRequest("<fim_prefix>x = <fim_suffix><fim_middle>",
                                  {"max_new_tokens": 250, "return_full_text": False},
                                  model="org/long"),
                max_total_new_tokens=550,
                on_progress=lambda text: progress.append(len(text)),
            )
        finally:
            await config.aclose()
        sent = hf.generation_requests()
    assert [r.body["parameters"]["max_new_tokens"] for r in sent] == [250, 250, 50]
    assert generation.texts[0].split() == words.split()[:550]
    assert sent[1].body["inputs"].endswith(" ".join(words.split()[:250]))
    assert len(progress) == 3 and progress == sorted(progress)


async def test_requests_per_minute_are_limited_on_our_side(start: Starter) -> None:
    with FakeBackend("tgi") as server:
        client = await start(settings_for(server, rateLimit={"requestsPerMinute": 2,
                                                             "maxWait": 0},
                                          cache={"size": 0}))
        uri = open_doc(client, SOURCE)
        for _ in range(4):
            await inline(client, uri, 1, 4)
        assert len(server.generation_requests()) == 2
        await wait_for(lambda: logged(client, "requestsPerMinute"))
        assert shown(client) == []


@pytest.mark.parametrize("kind", KINDS)
def test_check_command_succeeds_on_every_backend(tmp_path: Path, kind: str) -> None:
    with FakeBackend(kind, "if n < 2:\n        return n\n") as server:
        settings = settings_for(server)
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "check"],
            capture_output=True, text=True, timeout=60,
            env=clean_env(tmp_path, HF_LSP_SETTINGS=json.dumps(settings)),
        )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "result    ok:" in out.stdout and "if n < 2" in out.stdout
    assert "# request" in out.stdout and "# response 200" in out.stdout
    if kind == "tgi":
        assert "max_total_tokens 4096" in out.stdout


@pytest.mark.parametrize(
    ("args", "diagnosis"),
    [
        pytest.param(["--backend", "tgi", "--url", "{base}/generate"], "URL path is wrong",
                     id="wrong-url-path"),
        pytest.param(["--backend", "llamacpp", "--url", "{base}"], "cannot fill in the middle",
                     id="no-fim"),
        pytest.param(["--backend", "ollama", "--url", "http://127.0.0.1:9"], "cannot reach",
                     id="unreachable"),
    ],
)
def test_check_command_diagnoses(tmp_path: Path, args: list[str], diagnosis: str) -> None:
    with FakeBackend("tgi" if "tgi" in args else "llamacpp", infill_supported=False) as server:
        argv = [a.format(base=server.base_url) for a in args]
        out = subprocess.run([sys.executable, "-m", "hf_lsp", "check", *argv],
                             capture_output=True, text=True, timeout=60, env=clean_env(tmp_path))
    assert out.returncode == 1
    assert "result    FAILED" in out.stdout
    assert diagnosis in out.stdout.split("diagnosis", 1)[1]


def test_check_command_never_prints_the_token(tmp_path: Path) -> None:
    secret = "local-key-0123456789abcdef"
    with FakeBackend("openai", token="something-else") as server:
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "check", "--backend", "openai", "--url",
             server.base_url],
            capture_output=True, text=True, timeout=60,
            env=clean_env(tmp_path, HF_LSP_SETTINGS=json.dumps({"apiToken": secret})),
        )
        sent = server.generation_requests()
    assert out.returncode == 1 and "was refused" in out.stdout
    assert sent[0].headers["authorization"] == f"Bearer {secret}"
    assert secret not in out.stdout + out.stderr


def test_environment_tokens_stay_with_hugging_face(tmp_path: Path) -> None:
    with FakeBackend("ollama") as server:
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "check", "--backend", "ollama", "--url",
             server.base_url], capture_output=True, text=True, timeout=60,
            env=clean_env(tmp_path, HF_TOKEN="hf_envTokenValue123456"),
        )
        sent = server.generation_requests()
    assert out.returncode == 0, out.stdout
    assert "authorization" not in sent[0].headers
    assert "only sent to Hugging Face" in out.stdout


def test_the_proxy_setting_carries_every_request(tmp_path: Path) -> None:
    with FakeBackend("tgi") as proxy:
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "check"], capture_output=True, text=True,
            timeout=60,
            env=clean_env(tmp_path, HF_LSP_SETTINGS=json.dumps({
                "backend": "tgi", "url": "http://tgi.invalid:8080",
                "network": {"proxy": proxy.base_url}})),
        )
        seen = [(r.method, r.path) for r in proxy.requests]
    assert out.returncode == 0, out.stdout + out.stderr
    assert ("POST", "http://tgi.invalid:8080/generate_stream") in seen


async def test_tls_verification_off_is_logged_loudly(start: Starter) -> None:
    with FakeBackend("ollama") as server:
        client = await start(settings_for(server, network={"tlsVerify": False}))
        await wait_for(lambda: logged(client, "TLS verification is OFF"))


async def test_a_missing_ca_bundle_is_a_settings_error(start: Starter, tmp_path: Path) -> None:
    with FakeBackend("ollama") as server:
        client = await start(settings_for(server, network={"caBundle": str(tmp_path / "x.pem")}))
        await wait_for(lambda: shown(client, "hfLsp.network.caBundle must be an existing file"))
