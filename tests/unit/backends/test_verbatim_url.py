"""``urlPathCompletion`` off: every backend POSTs to ``url`` exactly, against loopback fakes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fake_backends import FakeBackend

from hf_lsp.backends import make_backend
from hf_lsp.backends.chat import chat_settings
from hf_lsp.backends.http import HttpBackend
from hf_lsp.backends.tgi import TgiBackend
from hf_lsp.config.settings import parse_settings
from hf_lsp.generation.contract import GenerationRequest

MODELS = {"tgi": "bigcode/starcoder2-3b", "openai": "bigcode/starcoder2-3b",
          "ollama": "starcoder2:3b", "llamacpp": "starcoder2-3b"}
REQUEST = GenerationRequest(
    prompt="<fim_prefix>def add(a, b):\n    <fim_suffix>\n<fim_middle>",
    parameters={"max_new_tokens": 8, "temperature": 0.2},
    model="",
    prefix="def add(a, b):\n    ",
    suffix="\n",
)


def backend(server: FakeBackend, url: str, *, verbatim: bool) -> HttpBackend:
    settings = parse_settings({"backend": server.kind, "url": url, "model": MODELS[server.kind],
                               "urlPathCompletion": not verbatim})
    made = make_backend(settings, None)
    assert isinstance(made, HttpBackend)
    return made


async def answer(made: HttpBackend, how: str, kind: str = "tgi") -> str:
    request = dataclasses.replace(REQUEST, model=MODELS[kind])
    if how == "generate":
        return (await made.generate(request)).texts[0]
    return "".join([chunk.text async for chunk in made.stream(request)])


def posted(server: FakeBackend) -> list[str]:
    return [r.path for r in server.requests if r.method == "POST"]


@pytest.mark.parametrize("how", ["generate", "stream"])
@pytest.mark.parametrize(
    ("kind", "route"),
    [
        pytest.param("tgi", "/generate", id="tgi-generate"),
        pytest.param("tgi", "/generate_stream", id="tgi-generate-stream"),
        pytest.param("openai", "/v1/completions", id="openai"),
        pytest.param("ollama", "/api/generate", id="ollama"),
        pytest.param("llamacpp", "/infill", id="llamacpp-infill"),
        pytest.param("llamacpp", "/completion", id="llamacpp-completion"),
    ],
)
async def test_a_verbatim_url_is_the_post_target(kind: Any, route: str, how: str) -> None:
    with FakeBackend(kind, "return a + b\n") as server:
        made = backend(server, server.base_url + route, verbatim=True)
        try:
            text = await answer(made, how, kind)
        finally:
            await made.aclose()
        assert posted(server) == [route]
        assert text.startswith("return a")


async def test_tgi_streams_only_at_its_stream_route() -> None:
    with FakeBackend("tgi", "return a + b\n") as server:
        for route in ("/generate", "/generate_stream"):
            made = backend(server, server.base_url + route, verbatim=True)
            await answer(made, "stream")
            await made.aclose()
        accepts = [r.headers.get("accept", "") for r in server.requests if r.method == "POST"]
    assert "text/event-stream" not in accepts[0]  # /generate: asked for the whole answer
    assert "text/event-stream" in accepts[1]


async def test_a_verbatim_llamacpp_completion_route_gets_the_fim_prompt() -> None:
    with FakeBackend("llamacpp", "return a + b\n") as server:
        made = backend(server, server.base_url + "/completion", verbatim=True)
        await answer(made, "generate", "llamacpp")
        await made.aclose()
        (sent,) = server.generation_requests()
    assert sent.body["prompt"] == REQUEST.prompt
    assert "input_prefix" not in sent.body


@pytest.mark.parametrize(
    ("url", "info"),
    [
        pytest.param("http://h:1/generate", "http://h:1/info", id="beside-generate"),
        pytest.param("http://h:1/tgi/generate_stream/", "http://h:1/tgi/info", id="with-prefix"),
        pytest.param("http://h:1/generate?key=1", "http://h:1/info", id="query-dropped"),
        pytest.param("http://h:1/v1/custom", None, id="not-a-tgi-route"),
    ],
)
def test_tgi_info_is_only_guessed_beside_a_generation_route(url: str, info: str | None) -> None:
    settings = parse_settings({"backend": "tgi", "url": url, "urlPathCompletion": False})
    made = make_backend(settings, None)
    assert isinstance(made, TgiBackend)
    assert made.info_url() == info


async def test_tgi_asks_no_info_at_an_unknown_verbatim_url() -> None:
    with FakeBackend("tgi") as server:
        made = backend(server, server.base_url + "/proxy/complete", verbatim=True)
        assert await made.limits() is None
        await made.aclose()
        assert server.requests == []
        made = backend(server, server.base_url + "/generate", verbatim=True)
        limits = await made.limits()
        await made.aclose()
        assert limits is not None and limits.max_total_tokens == server.max_total_tokens
        assert [r.path for r in server.requests] == ["/info"]


@pytest.mark.parametrize(
    ("data", "chat_url"),
    [
        pytest.param({"backend": "ollama", "url": "http://h:1/api/generate"}, "http://h:1",
                     id="ollama-root"),
        pytest.param({"backend": "tgi", "url": "https://h/generate"}, "https://h",
                     id="tgi-root"),
        pytest.param({"backend": "tgi", "url": "https://h/generate",
                      "actions": {"chatUrl": "https://c/v1"}}, "https://c/v1", id="chat-url-wins"),
    ],
)
def test_code_actions_chat_at_the_root_of_a_verbatim_url(
    data: dict[str, Any], chat_url: str
) -> None:
    chat = chat_settings(parse_settings({**data, "urlPathCompletion": False}))
    assert (chat.url, chat.verbatim) == (chat_url, False)
