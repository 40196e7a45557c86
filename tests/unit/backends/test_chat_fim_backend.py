"""ChatFimBackend against the loopback OpenAI-compatible fake, and how its route is chosen."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fake_backends import FakeBackend, instruct
from hf_server import Fault

from hf_lsp.backends import make_backend
from hf_lsp.backends.chat_fim import HEADROOM, ChatFimBackend, chat_stops
from hf_lsp.backends.http import Connection
from hf_lsp.backends.openai import OpenAIBackend
from hf_lsp.completion.chat_fim import HOLE, ROLE_TOKENS, completion_route, fim_messages
from hf_lsp.completion.service import CompletionEngine
from hf_lsp.config.settings import parse_settings
from hf_lsp.errors import BadRequestError, MalformedResponseError
from hf_lsp.generation.contract import Generation, GenerationRequest
from hf_lsp.language.document import Document

INSTRUCT = "Qwen/Qwen2.5-Coder-7B-Instruct"
REQUEST = GenerationRequest(
    prompt="<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>",
    parameters={"max_new_tokens": 40, "temperature": 0.2, "top_p": 0.9,
                "stop": ["\n", "\n\n", "<|endoftext|>", "<|fim_prefix|>"],
                "num_return_sequences": 2, "do_sample": True},
    model=INSTRUCT,
    prefix="def add(a, b):\n    ",
    suffix="\n",
    language="python",
    path="src/calc.py",
    chat=True,
)


def chat_backend(url: str, **settings: Any) -> ChatFimBackend:
    made = make_backend(parse_settings({"backend": "openai", "url": url, "model": INSTRUCT,
                                        **settings}), None)
    assert isinstance(made, ChatFimBackend)
    return made


@pytest.mark.parametrize(
    ("settings", "route"),
    [
        ({"backend": "openai", "model": INSTRUCT}, "chat"),
        ({"backend": "openai", "model": "deepseek-ai/deepseek-coder-6.7b-instruct"}, "chat"),
        ({"backend": "openai", "model": "google/codegemma-7b-it"}, "chat"),
        ({"backend": "openai", "model": "bigcode/starcoder2-15b"}, "fim"),
        ({"backend": "openai", "model": INSTRUCT, "completionMode": "fim"}, "fim"),
        ({"backend": "openai", "model": "bigcode/starcoder2-15b", "completionMode": "chat"},
         "chat"),
        ({"backend": "tgi", "model": INSTRUCT}, "fim"),
        ({"backend": "tgi", "model": INSTRUCT, "completionMode": "chat"}, "chat"),
        ({"backend": "ollama", "model": "qwen2.5-coder:7b-instruct", "completionMode": "chat"},
         "chat"),
        ({"backend": "huggingface", "model": INSTRUCT, "completionMode": "chat"}, "fim"),
        ({"backend": "openai", "model": INSTRUCT, "url": "http://h/v1/completions",
          "urlPathCompletion": False}, "fim"),
        ({"backend": "openai", "model": "m", "url": "http://h/v1/chat/completions",
          "urlPathCompletion": False}, "chat"),
    ],
)
def test_the_route_follows_the_mode_and_the_model(settings: dict[str, Any], route: str) -> None:
    assert completion_route(parse_settings(settings)) == route


def test_a_base_model_keeps_the_completions_adapter() -> None:
    made = make_backend(parse_settings({"backend": "openai", "model": "bigcode/starcoder2-3b"}),
                        None)
    assert type(made) is OpenAIBackend


def test_stops_that_could_cut_a_fence_are_not_sent() -> None:
    assert chat_stops(["\n", "\n\n", "```", "<|endoftext|>", "<|fim_prefix|>", "<file_sep>",
                       "\nclass ", "</s>"]) == ["<|endoftext|>", "<file_sep>", "</s>"]


async def test_the_body_and_the_cleaned_answers() -> None:
    answer = instruct("return a + b", "prose", hole=HOLE)
    with FakeBackend("openai", chat_answer=answer) as server:
        made = chat_backend(server.base_url + "/v1")
        generation = await made.generate(REQUEST)
        await made.aclose()
    assert generation.texts == ("return a + b", "return a + b")
    assert "Here is the code" in generation.raw  # --show-request keeps what the server said
    (sent,) = server.generation_requests()
    body = sent.body
    assert sent.path == "/v1/chat/completions"
    assert body["model"] == INSTRUCT and body["max_tokens"] == 40 + HEADROOM
    assert (body["temperature"], body["top_p"], body["n"]) == (0.2, 0.9, 2)
    assert body["stop"] == ["<|endoftext|>"] and body["stream"] is False
    assert "prompt" not in body and "suffix" not in body
    user = body["messages"][1]["content"]
    assert "python file (src/calc.py)" in user
    assert f"```python\ndef add(a, b):\n    {HOLE}\n```" in user


async def test_a_stream_is_the_cleaned_answer_in_one_chunk() -> None:
    answer = instruct("return a + b", "echo_file", hole=HOLE)
    with FakeBackend("openai", chat_answer=answer) as server:
        made = chat_backend(server.base_url)
        chunks = [c async for c in made.stream(REQUEST)]
        await made.aclose()
    assert [c.text for c in chunks] == ["return a + b"]
    assert server.generation_requests()[0].body["stream"] is False


@pytest.mark.parametrize(
    ("url", "path"),
    [("/v1/chat/completions", "/v1/chat/completions"), ("/v1/completions", "/v1/chat/completions")],
)
async def test_a_verbatim_url(url: str, path: str) -> None:
    with FakeBackend("openai", chat_answer=instruct("x", hole=HOLE)) as server:
        made = chat_backend(server.base_url + url, urlPathCompletion=False,
                            completionMode="chat")
        assert (await made.generate(REQUEST)).texts[0] == "x"
        await made.aclose()
    assert server.generation_requests()[0].path == path


@pytest.mark.parametrize("how", ["generate", "stream"])
async def test_a_request_not_marked_chat_keeps_the_backends_own_route(how: str) -> None:
    """A code action's fill-in-the-middle prompt for an instruction model (actions.mode)."""
    request = dataclasses.replace(REQUEST, chat=False, parameters={"max_new_tokens": 5})
    with FakeBackend("openai", "return a + b\n", chat_answer=instruct("x", hole=HOLE)) as server:
        made = chat_backend(server.base_url + "/v1")
        if how == "generate":
            text = (await made.generate(request)).texts[0]
        else:
            text = "".join([c.text async for c in made.stream(request)])
        await made.aclose()
    assert text == "return a + b\n"  # raw: the engine's post-processing comes after
    (sent,) = server.generation_requests()
    assert sent.path == "/v1/completions" and sent.body["prompt"] == REQUEST.prompt
    assert sent.body["stream"] is (how == "stream")


async def test_a_chat_backend_without_a_fim_adapter_answers_every_request_by_chat() -> None:
    with FakeBackend("openai", chat_answer=instruct("x", hole=HOLE)) as server:
        made = ChatFimBackend(Connection(server.base_url))
        request = dataclasses.replace(REQUEST, chat=False)
        assert (await made.generate(request)).texts == ("x", "x")
        assert await made.limits() is None
        await made.aclose()
    assert server.generation_requests()[0].path == "/v1/chat/completions"


async def test_another_backend_told_to_use_chat_posts_to_its_chat_route() -> None:
    with FakeBackend("openai", chat_answer=instruct("x", hole=HOLE)) as server:
        made = make_backend(parse_settings({"backend": "tgi", "url": server.base_url,
                                            "model": INSTRUCT, "completionMode": "chat"}), None)
        assert isinstance(made, ChatFimBackend)
        assert (await made.generate(REQUEST)).texts[0] == "x"
        await made.aclose()
    assert server.generation_requests()[0].path == "/v1/chat/completions"


async def test_errors_are_read_as_the_openai_adapter_reads_them() -> None:
    with FakeBackend("openai", chat_answer=instruct("x", hole=HOLE), max_total_tokens=40) as s:
        made = chat_backend(s.base_url)
        with pytest.raises(BadRequestError, match="maximum context length is 40 tokens"):
            await made.generate(REQUEST)
        await made.aclose()


async def test_an_error_object_with_200_is_an_error() -> None:
    with FakeBackend("openai") as server:
        server.fault(Fault.status(200, {"object": "error", "message": "boom", "code": 400}))
        made = chat_backend(server.base_url)
        with pytest.raises(MalformedResponseError, match="boom"):
            await made.generate(REQUEST)
        await made.aclose()


class Recording:
    """A backend that records the engine's requests and answers one line."""

    endpoint = "fake"
    max_new_tokens_cap = None

    def __init__(self) -> None:
        self.seen: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest, timeout: float | None = None
                       ) -> Generation:
        self.seen.append(request)
        return Generation(("1",))

    async def aclose(self) -> None:
        return None


def chat_engine(backend: Recording, **settings: Any) -> CompletionEngine:
    base = {"backend": "openai", "model": INSTRUCT, "debounce": {"enabled": False},
            "stream": False, **settings}
    return CompletionEngine(parse_settings(base), backend)  # type: ignore[arg-type]


async def test_other_files_join_a_chat_prompt_as_path_comments() -> None:
    backend = Recording()
    engine = chat_engine(backend)
    other = Document(
        "file:///lib/invoice.py",
        "class Invoice:\n    def total_amount(self, items):\n        return sum(items)\n",
        "python",
    )
    doc = Document("file:///app.py", "inv = Invoice()\ninv.total_amount(", "python")
    await engine.complete(doc, 1, 17, "app.py", others=[doc, other], repo="proj")
    (request,) = backend.seen
    assert "# Path: lib/invoice.py" in request.prefix and "def total_amount" in request.prefix
    assert "<|file_sep|>" not in request.prompt and HOLE in request.prompt
    assert (request.language, request.path) == ("python", "app.py")


async def test_the_chat_prompt_fits_the_context_window() -> None:
    """The chat prompt's own words and the answer's head room come out of the budget."""
    backend = Recording()
    engine = chat_engine(backend, tokens={"contextWindow": 600, "charsPerToken": 4.0},
                         context={"maxPrefixChars": 100000, "maxPrefixLines": 100000})
    text = "".join(f"value_{i} = compute({i})\n" for i in range(2000)) + "result = "
    await engine.complete(Document("file:///big.py", text, "python"), 2000, 9)
    (request,) = backend.seen
    messages = fim_messages(request.prefix, request.suffix, language=request.language,
                            path=request.path)
    sent = sum(len(m["content"]) for m in messages) / 4.0 + ROLE_TOKENS
    assert sent + request.parameters["max_new_tokens"] + HEADROOM <= 600
    assert len(request.prefix) > 600  # most of the window still holds code


async def test_a_tgi_server_told_to_use_chat_still_tells_its_limits() -> None:
    with FakeBackend("tgi", max_total_tokens=2048, max_input_tokens=2000) as server:
        made = make_backend(parse_settings({"backend": "tgi", "url": server.base_url,
                                            "model": INSTRUCT, "completionMode": "chat"}), None)
        assert isinstance(made, ChatFimBackend)
        limits = await made.limits()
        await made.aclose()
    assert limits is not None and limits.max_total_tokens == 2048
