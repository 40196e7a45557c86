"""Token figures from each wire format, and the session's meter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_backends import KINDS, FakeBackend, Kind, error_fault
from hf_server import FakeInferenceServer, FakeModel, Fault

from hf_lsp.backends import make_backend
from hf_lsp.backends.http import HttpBackend, provider_of
from hf_lsp.config.settings import parse_settings
from hf_lsp.errors import BadRequestError
from hf_lsp.generation.contract import GenerationRequest, Usage
from hf_lsp.generation.usage import Meter, spend

MODELS = {"tgi": "bigcode/starcoder2-3b", "openai": "bigcode/starcoder2-3b",
          "ollama": "starcoder2:3b", "llamacpp": "model.gguf"}
PROMPT = "<fim_prefix>def add(a, b):\n    <fim_suffix>\n<fim_middle>"


def request(kind: str) -> GenerationRequest:
    return GenerationRequest(
        prompt=PROMPT, parameters={"max_new_tokens": 4, "temperature": 0.2},
        model=MODELS.get(kind, "bigcode/starcoder2-15b"),
        prefix="def add(a, b):\n    ", suffix="\n",
    )


def backend_for(kind: Kind, server: FakeBackend, meter: Meter) -> HttpBackend:
    url = server.base_url + ("/v1" if kind == "openai" else "")
    settings = parse_settings({"backend": kind, "url": url, "model": MODELS[kind]})
    backend = make_backend(settings, None, meter=meter)
    assert isinstance(backend, HttpBackend)
    return backend


def only(meter: Meter) -> Any:
    (tally,) = meter.tallies.values()
    return tally


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("kind", KINDS)
async def test_each_server_counts_its_own_tokens(kind: Kind, stream: bool) -> None:
    meter = Meter(count=lambda text: 10_000)  # an estimate would show
    with FakeBackend(kind, "return a + b\n\n\ndef sub(a, b): return a - b\n") as server:
        backend = backend_for(kind, server, meter)
        try:
            if stream:
                text = "".join([c.text async for c in backend.stream(request(kind))])
            else:
                text = (await backend.generate(request(kind))).texts[0]
        finally:
            await backend.aclose()
        sent = server.generation_requests()[-1].body
    tally = only(meter)
    assert text and tally.calls == 1
    assert 0 < tally.tokens_out <= 5 and tally.estimated_out == 0, (kind, tally)
    assert 0 < tally.tokens_in < 10_000 and tally.estimated_in == 0, (kind, tally)
    if kind == "openai" and stream:
        assert sent["stream_options"] == {"include_usage": True}
    else:
        assert "stream_options" not in sent


async def test_serverless_api_headers_and_estimates() -> None:
    model = "bigcode/starcoder2-15b"
    with FakeInferenceServer({model: FakeModel("return a + b\n")}) as hf:
        settings = parse_settings({"backend": "huggingface", "url": hf.url_for(model),
                                   "model": model})
        meter = Meter(count=lambda text: 1000)
        backend = make_backend(settings, None, meter=meter)
        try:
            await backend.generate(request("huggingface"))
            tally = only(meter)
            assert tally.tokens_out == 4 and tally.estimated_out == 0  # x-generated-tokens
            assert tally.estimated_in == 0 and 0 < tally.tokens_in < 1000  # x-prompt-tokens
            hf.fault(model, Fault.status(200, [{"generated_text": "x = 1"}]))  # no headers
            await backend.generate(request("huggingface"))
        finally:
            await backend.aclose()
    assert tally.estimated_in == 1000 and tally.estimated_out == 1000
    assert meter.status()["tokensEstimated"] is True


@pytest.mark.parametrize(
    ("message", "dropped"),
    [pytest.param("Unrecognized request argument supplied: stream_options", True,
                  id="rejected"),
     pytest.param("max_tokens is too large", False, id="other-error")],
)
async def test_stream_options_dropped_only_when_rejected(message: str, dropped: bool) -> None:
    with FakeBackend("openai") as server:
        backend = backend_for("openai", server, Meter())
        server.fault(error_fault("openai", 400, message))
        try:
            if dropped:
                text = "".join([c.text async for c in backend.stream(request("openai"))])
                assert text
            else:
                with pytest.raises(BadRequestError, match="too large"):
                    _ = [c async for c in backend.stream(request("openai"))]
            text = "".join([c.text async for c in backend.stream(request("openai"))])
        finally:
            await backend.aclose()
        sent = [r.body for r in server.generation_requests()]
    assert "stream_options" in sent[0]
    assert ("stream_options" in sent[-1]) is not dropped
    assert backend.usage_option is not dropped


def test_meter_cost_and_prices() -> None:
    asked: list[str] = []
    meter = Meter(count=len)
    meter.want_prices = asked.append
    meter.record("Qwen/Qwen3-Coder:novita", "novita", "p", ["t"], Usage(1000, 500),
                 priced_by="https://router.example")
    meter.record("Qwen/Qwen3-Coder", "novita", "p", ["t"], Usage(1000, 500),
                 priced_by="https://router.example")
    assert asked == ["https://router.example"]  # once
    assert meter.status()["costUsd"] is None  # not known yet: no figure
    meter.prices = {("Qwen/Qwen3-Coder", "novita"): (1.0, 4.0)}
    status = meter.status()
    assert status["tokensIn"] == 2000 and status["tokensOut"] == 1000
    assert status["costUsd"] == pytest.approx(0.006)
    assert status["spend"] == "2,000 in / 1,000 out tokens, $0.0060"
    meter.record("other/model", None, "abc", ["de"], None)
    status = meter.status()
    assert status["costUsd"] is None and status["tokensEstimated"] is True  # one unpriced
    assert status["spend"] == "2,003 in / 1,002 out tokens (some estimated)"
    assert json.dumps(status)


def test_spend_line_and_provider() -> None:
    assert spend(0, 0, False, None) == "0 in / 0 out tokens"
    assert spend(10, 2, False, 12.345) == "10 in / 2 out tokens, $12.35"
    assert provider_of("https://r/x", "m", {"x-inference-provider": "together"}, None) == "together"
    assert provider_of("https://r/v1/chat/completions", "m:groq", {}, "https://r") == "groq"
    assert provider_of("https://r/v1/chat/completions", "m:fastest", {}, "https://r") is None
    assert provider_of("https://r/featherless-ai/v1/completions", "m", {}, "https://r") == (
        "featherless-ai")
    assert provider_of("https://elsewhere/v1/completions", "m", {}, "https://r") is None


@pytest.mark.parametrize(
    ("backend", "sent"),
    [pytest.param("huggingface", True, id="hf-token"),
     pytest.param("openai", False, id="local-key-stays-local")],
)
async def test_prices_are_read_without_a_local_key(backend: str, sent: bool) -> None:
    import httpx

    from hf_lsp.config.layered import Configuration

    seen: list[httpx.Request] = []
    listing = {"object": "list", "data": [{"id": "a/coder", "providers": [
        {"provider": "novita", "status": "live", "pricing": {"input": 1, "output": 2}}]}]}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=listing)

    secret = "hf_priceSecret0123456789abcdef" if sent else "local-key-0123456789"
    settings = parse_settings({"backend": backend, "apiToken": secret, "model": "a/coder"})
    config = Configuration(settings, transport=httpx.MockTransport(answer))
    try:
        await config._read_prices("https://router.huggingface.co")
    finally:
        await config.aclose()
    assert seen[0].url == "https://router.huggingface.co/v1/models"
    assert ("authorization" in seen[0].headers) is sent
    assert config.meter.prices == {("a/coder", "novita"): (1.0, 2.0)}
