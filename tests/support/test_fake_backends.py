"""Tests for the loopback TGI, OpenAI-compatible, Ollama and llama.cpp fakes."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fake_backends import (
    DEFAULT_MODELS,
    KINDS,
    FakeBackend,
    Kind,
    continuation,
    error_body,
    error_fault,
    instruct,
)
from hf_server import RATE_LIMIT_MESSAGE, Fault, tokenize

CODE = "return a + b\n\ndef sub(a, b):\n    return a - b\n"
WORDS = "".join(f" w{i}" for i in range(200))
GENERATE = {"tgi": "/generate", "openai": "/v1/completions", "ollama": "/api/generate"}
STREAM = {"tgi": "/generate_stream"}
LENGTH_REASON = {"tgi": "length", "openai": "length", "ollama": "length", "llamacpp": "limit"}
STOP_REASON = {"tgi": "stop_sequence", "openai": "stop", "ollama": "stop", "llamacpp": "word"}
EOS_REASON = {"tgi": "eos_token", "openai": "stop", "ollama": "stop", "llamacpp": "eos"}
STREAM_ERRORS: dict[Kind, Any] = {
    "tgi": {"error": "simulated failure during generation", "error_type": "generation"},
    "openai": {
        "error": {
            "message": "simulated failure during generation",
            "type": "InternalServerError",
            "code": 500,
        }
    },
    "ollama": {"error": "simulated failure during generation"},
    "llamacpp": {
        "error": {
            "code": 500,
            "message": "simulated failure during generation",
            "type": "server_error",
        }
    },
}
ALL_KINDS = [pytest.param(kind, id=kind) for kind in KINDS]


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One client for the module: every fake listens on its own port, so nothing is shared."""
    with httpx.Client(timeout=5) as http:
        yield http


def path_for(kind: Kind, *, stream: bool = False) -> str:
    if stream and kind in STREAM:
        return STREAM[kind]
    return GENERATE.get(kind, "/completion")


def request_body(
    kind: Kind,
    prompt: str = "def add(a, b):",
    *,
    limit: int | None = None,
    stop: list[str] | None = None,
    stream: bool = False,
) -> dict[str, Any]:
    """A generation request in ``kind``'s format with its own length and stop fields."""
    if kind == "tgi":
        params: dict[str, Any] = {"details": True}
        if limit is not None:
            params["max_new_tokens"] = limit
        if stop is not None:
            params["stop"] = stop
        return {"inputs": prompt, "parameters": params}
    if kind == "ollama":
        options: dict[str, Any] = {}
        if limit is not None:
            options["num_predict"] = limit
        if stop is not None:
            options["stop"] = stop
        return {"model": "m", "prompt": prompt, "options": options, "stream": stream}
    length_field = "max_tokens" if kind == "openai" else "n_predict"
    body: dict[str, Any] = {"model": "m", "prompt": prompt, "stream": stream}
    if limit is not None:
        body[length_field] = limit
    if stop is not None:
        body["stop"] = stop
    return body


def generate(
    client: httpx.Client, backend: FakeBackend, *, stream: bool = False, **fields: Any
) -> httpx.Response:
    kind = backend.kind
    return client.post(
        backend.base_url + path_for(kind, stream=stream),
        json=request_body(kind, stream=stream, **fields),
    )


def text_and_reason(kind: Kind, payload: dict[str, Any]) -> tuple[str, str]:
    if kind == "tgi":
        return payload["generated_text"], payload["details"]["finish_reason"]
    if kind == "openai":
        choice = payload["choices"][0]
        return choice["text"], choice["finish_reason"]
    if kind == "ollama":
        return payload["response"], payload["done_reason"]
    return payload["content"], payload["stop_type"]


def events_of(kind: Kind, raw: bytes) -> list[Any]:
    """Parse a complete stream; ``[DONE]`` is kept as the string ``"[DONE]"``."""
    if kind == "ollama":
        return [json.loads(line) for line in raw.decode().splitlines()]
    events: list[Any] = []
    for block in raw.decode().split("\n\n"):
        if not block or block.startswith(":"):
            continue
        data = block.removeprefix("data:").strip()
        events.append(data if data == "[DONE]" else json.loads(data))
    return events


def piece_of(kind: Kind, event: dict[str, Any]) -> str:
    if kind == "tgi":
        return "" if event["token"]["special"] else str(event["token"]["text"])
    if kind == "openai":
        return "".join(choice["text"] for choice in event["choices"])
    return str(event["response"] if kind == "ollama" else event["content"])


def streamed_text(kind: Kind, events: list[Any]) -> str:
    return "".join(piece_of(kind, e) for e in events if isinstance(e, dict) and "error" not in e)


def read_until_broken(response: httpx.Response) -> bytes:
    received = b""
    with pytest.raises(httpx.RemoteProtocolError):
        for chunk in response.iter_raw():
            received += chunk
    return received


def wait_until(condition: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


# -- the fake model -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "stops", "include", "pieces", "reason"),
    [
        pytest.param(3, [], False, ("return", " a", " +"), "length", id="limit"),
        pytest.param(None, [], False, tuple(tokenize(CODE)), "eos", id="all"),
        pytest.param(12, [], False, tuple(tokenize(CODE)), "length", id="limit-equals-tokens"),
        pytest.param(13, [], False, tuple(tokenize(CODE)), "eos", id="limit-above-tokens"),
        pytest.param(
            None, ["\n\n"], True, ("return", " a", " +", " b", "\n\n"), "stop", id="tgi-includes"
        ),
        pytest.param(
            None, ["\n\n"], False, ("return", " a", " +", " b"), "stop", id="others-exclude"
        ),
        pytest.param(
            None, ["+ b\n"], False, ("return", " a", " "), "stop", id="partial-stop-held-back"
        ),
        pytest.param(
            None,
            ["- b", "sub"],
            False,
            ("return", " a", " +", " b", "\n\ndef", " "),
            "stop",
            id="earliest-stop-wins",
        ),
        pytest.param(2, ["\n\n"], False, ("return", " a"), "length", id="stop-beyond-limit"),
    ],
)
def test_continuation(
    limit: int | None, stops: list[str], include: bool, pieces: tuple[str, ...], reason: str
) -> None:
    made = continuation(CODE, limit, stops, include_stop=include)
    assert made.pieces == pieces
    assert made.text == "".join(pieces)
    assert made.reason == reason
    assert made.tokens <= len(tokenize(CODE))


def test_continuation_names_the_stop_word_and_counts_tokens() -> None:
    made = continuation(CODE, None, ["nowhere", "sub("], include_stop=False)
    assert (made.text, made.stop_word, made.tokens) == ("return a + b\n\ndef ", "sub(", 6)


# -- plain generation -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize(
    ("fields", "expected", "reasons"),
    [
        pytest.param({"limit": 3}, "return a +", LENGTH_REASON, id="length"),
        pytest.param({"limit": 100, "stop": ["\n\n"]}, "return a + b", STOP_REASON, id="stop"),
        pytest.param({"limit": 100}, CODE, EOS_REASON, id="end-of-text"),
    ],
)
def test_generation_honours_length_and_stop(
    client: httpx.Client,
    kind: Kind,
    fields: dict[str, Any],
    expected: str,
    reasons: dict[str, str],
) -> None:
    with FakeBackend(kind, CODE) as backend:
        response = generate(client, backend, **fields)
    assert response.status_code == 200, response.text
    text, reason = text_and_reason(kind, response.json())
    if kind == "tgi" and "stop" in fields:
        expected += "\n\n"  # TGI keeps the stop sequence in generated_text
    assert (text, reason) == (expected, reasons[kind])


@pytest.mark.parametrize(
    ("kind", "default"),
    [
        pytest.param("tgi", 20, id="tgi-20"),
        pytest.param("openai", 16, id="openai-16"),
        pytest.param("ollama", 128, id="ollama-128"),
        pytest.param("llamacpp", 200, id="llamacpp-all"),
    ],
)
def test_default_length_parameter(client: httpx.Client, kind: Kind, default: int) -> None:
    with FakeBackend(kind, WORDS) as backend:
        text, _ = text_and_reason(kind, generate(client, backend).json())
    assert text == "".join(tokenize(WORDS)[:default])


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        pytest.param("ollama", ("options", "num_predict"), id="ollama-num_predict"),
        pytest.param("llamacpp", ("n_predict",), id="llamacpp-n_predict"),
    ],
)
def test_minus_one_means_everything(
    client: httpx.Client, kind: Kind, where: tuple[str, ...]
) -> None:
    with FakeBackend(kind, WORDS) as backend:
        response = generate(client, backend, limit=-1)
        sent: Any = backend.generation_requests()[0].body
    for key in where:
        sent = sent[key]
    assert sent == -1
    assert text_and_reason(kind, response.json()) == (WORDS, EOS_REASON[kind])


def test_tgi_answer_shape_and_details(client: httpx.Client) -> None:
    with FakeBackend("tgi", CODE) as backend:
        url = backend.base_url + "/generate"
        with_details = client.post(url, json=request_body("tgi", limit=2))
        plain = client.post(url, json={"inputs": "x", "parameters": {"max_new_tokens": 2}})
        echoed = client.post(
            url, json={"inputs": "x", "parameters": {"max_new_tokens": 1, "return_full_text": True}}
        )
    assert with_details.json() == {
        "generated_text": "return a",
        "details": {"finish_reason": "length", "generated_tokens": 2, "seed": None},
    }
    assert plain.json() == {"generated_text": "return a"}
    assert echoed.json() == {"generated_text": "xreturn"}
    assert with_details.headers["x-generated-tokens"] == "2"


def test_tgi_counts_the_eos_token(client: httpx.Client) -> None:
    with FakeBackend("tgi", "a b") as backend:
        response = generate(client, backend, limit=10)
    assert response.json()["details"]["generated_tokens"] == 3


def test_openai_answer_shape_with_n_choices_and_usage(client: httpx.Client) -> None:
    with FakeBackend("openai", CODE, models=("m",)) as backend:
        body = {**request_body("openai", "one two", limit=2), "n": 2}
        response = client.post(backend.base_url + "/v1/completions", json=body)
    assert response.json() == {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 0,
        "model": "m",
        "choices": [
            {"index": i, "text": "return a", "logprobs": None, "finish_reason": "length"}
            for i in range(2)
        ],
        "usage": {"prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6},
    }


def test_openai_chat_completion(client: httpx.Client) -> None:
    with FakeBackend("openai", CODE) as backend:
        messages = [{"role": "user", "content": "add two numbers"}]
        body = {"model": "m", "messages": messages, "max_tokens": 4, "stop": "\n"}
        response = client.post(backend.base_url + "/v1/chat/completions", json=body)
    payload = response.json()
    assert payload["object"] == "chat.completion"
    assert payload["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "return a + b"},
            "logprobs": None,
            "finish_reason": "length",
        }
    ]
    assert payload["usage"]["prompt_tokens"] == 3


def test_ollama_answer_shape(client: httpx.Client) -> None:
    with FakeBackend("ollama", CODE) as backend:
        body = {**request_body("ollama", "p q", limit=2), "suffix": " r"}
        response = client.post(backend.base_url + "/api/generate", json=body)
    payload = response.json()
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert {k: payload[k] for k in ("model", "created_at", "response", "done")} == {
        "model": "m",
        "created_at": "2024-01-01T00:00:00Z",
        "response": "return a",
        "done": True,
    }
    assert (payload["done_reason"], payload["eval_count"], payload["prompt_eval_count"]) == (
        "length",
        2,
        3,
    )


@pytest.mark.parametrize(
    ("keep_alive", "reason"),
    [pytest.param(None, "load", id="load"), pytest.param(0, "unload", id="unload")],
)
def test_ollama_empty_prompt_only_loads_the_model(
    client: httpx.Client, keep_alive: int | None, reason: str
) -> None:
    with FakeBackend("ollama", CODE) as backend:
        body = {"model": "m", "prompt": "", "suffix": "x", "keep_alive": keep_alive}
        response = client.post(backend.base_url + "/api/generate", json=body)
    assert response.json() == {
        "model": "m",
        "created_at": "2024-01-01T00:00:00Z",
        "response": "",
        "done": True,
        "done_reason": reason,
    }


@pytest.mark.parametrize(
    ("path", "body", "evaluated"),
    [
        pytest.param(
            "/infill",
            {
                "input_prefix": "def add(a, b):\n",
                "input_suffix": "\n",
                "input_extra": [{"filename": "util.py", "text": "x = 1"}],
                "n_predict": 4,
            },
            8,
            id="infill",
        ),
        pytest.param("/completion", {"prompt": "a b c", "n_predict": 4}, 3, id="completion"),
        pytest.param("/completion", {"prompt": [1, 2], "n_predict": 4}, 2, id="token-prompt"),
    ],
)
def test_llamacpp_answer_shape(
    client: httpx.Client, path: str, body: dict[str, Any], evaluated: int
) -> None:
    with FakeBackend("llamacpp", CODE) as backend:
        response = client.post(backend.base_url + path, json=body)
    payload = response.json()
    assert {k: payload[k] for k in ("content", "stop", "stop_type", "tokens_predicted")} == {
        "content": "return a + b",
        "stop": True,
        "stop_type": "limit",
        "tokens_predicted": 4,
    }
    assert (payload["tokens_evaluated"], payload["model"]) == (evaluated, "model.gguf")


def test_llamacpp_openai_route(client: httpx.Client) -> None:
    with FakeBackend("llamacpp", CODE) as backend:
        body = {"model": "x", "prompt": "p", "max_tokens": 3, "stop": "\n"}
        response = client.post(backend.base_url + "/v1/completions", json=body)
    choice = response.json()["choices"][0]
    assert (choice["text"], choice["finish_reason"]) == ("return a +", "length")


def test_llamacpp_ignores_mistyped_fields_like_json_value(client: httpx.Client) -> None:
    with FakeBackend("llamacpp", CODE) as backend:
        body = {"prompt": "p", "n_predict": "3", "stop": "\n", "stream": "yes"}
        response = client.post(backend.base_url + "/completion", json=body)
    assert response.json()["content"] == CODE


# -- streams --------------------------------------------------------------------------------------


def test_tgi_stream_framing(client: httpx.Client) -> None:
    with FakeBackend("tgi", CODE) as backend:
        response = generate(client, backend, stream=True, limit=3)
    raw = response.content
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    assert raw.startswith(b":\n\ndata:{")
    assert b"data: " not in raw and b"[DONE]" not in raw
    events = events_of("tgi", raw)
    assert [e["index"] for e in events] == [0, 1, 2]
    assert events[0] == {
        "index": 0,
        "token": {"id": 0, "text": "return", "logprob": -0.1, "special": False},
        "top_tokens": None,
        "generated_text": None,
        "details": None,
    }
    assert events[-1]["generated_text"] == streamed_text("tgi", events) == "return a +"
    assert events[-1]["details"]["finish_reason"] == "length"
    assert events[-1]["details"]["generated_tokens"] == 3


def test_tgi_stream_ends_with_a_special_eos_token(client: httpx.Client) -> None:
    with FakeBackend("tgi", "a b") as backend:
        events = events_of("tgi", generate(client, backend, stream=True).content)
    assert [e["token"]["text"] for e in events] == ["a", " b", "<|endoftext|>"]
    assert events[-1]["token"]["special"] is True
    assert events[-1]["generated_text"] == "a b"
    assert events[-1]["details"]["finish_reason"] == "eos_token"


def test_openai_stream_framing(client: httpx.Client) -> None:
    with FakeBackend("openai", CODE) as backend:
        response = generate(client, backend, stream=True, limit=20, stop=["\n\n"])
    raw = response.content
    assert response.headers["content-type"] == "text/event-stream"
    assert raw.startswith(b"data: {")
    assert raw.endswith(b"}\n\ndata: [DONE]\n\n")
    assert all(block.startswith("data: ") for block in raw.decode().split("\n\n") if block)
    events = events_of("openai", raw)
    assert events[-1] == "[DONE]"
    assert events[0]["choices"] == [
        {"index": 0, "text": "return", "logprobs": None, "finish_reason": None}
    ]
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert streamed_text("openai", events) == "return a + b"


def test_openai_stream_usage_chunk(client: httpx.Client) -> None:
    with FakeBackend("openai", CODE) as backend:
        body = {**request_body("openai", "p", limit=2, stream=True)}
        body["stream_options"] = {"include_usage": True}
        events = events_of(
            "openai", client.post(backend.base_url + "/v1/completions", json=body).content
        )
    assert events[-2]["choices"] == []
    assert events[-2]["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def test_openai_chat_stream(client: httpx.Client) -> None:
    with FakeBackend("openai", CODE) as backend:
        body = {"messages": [{"role": "user", "content": "x"}], "max_tokens": 2, "stream": True}
        raw = client.post(backend.base_url + "/v1/chat/completions", json=body).content
    events = events_of("openai", raw)
    deltas = [e["choices"][0]["delta"] for e in events[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "return"},
        {"content": " a"},
        {},
    ]
    assert events[-2]["choices"][0]["finish_reason"] == "length"
    assert events[-2]["object"] == "chat.completion.chunk"
    assert raw.endswith(b"data: [DONE]\n\n")


def test_openai_stream_holds_back_a_possible_stop(client: httpx.Client) -> None:
    with FakeBackend("openai", CODE) as backend:
        raw = generate(client, backend, stream=True, limit=20, stop=["+ b\n"]).content
    pieces = [piece_of("openai", e) for e in events_of("openai", raw) if e != "[DONE]"]
    assert pieces == ["return", " a", " ", ""]


@pytest.mark.parametrize("stream", [pytest.param(None, id="absent"), pytest.param(True, id="true")])
def test_ollama_streams_ndjson_by_default(client: httpx.Client, stream: bool | None) -> None:
    body: dict[str, Any] = {"model": "m", "prompt": "p", "options": {"num_predict": 2}}
    if stream is not None:
        body["stream"] = stream
    with FakeBackend("ollama", CODE) as backend:
        response = client.post(backend.base_url + "/api/generate", json=body)
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.content.split(b"\n")
    assert lines[-1] == b"" and all(line.startswith(b"{") for line in lines[:-1])
    events = events_of("ollama", response.content)
    assert events[0] == {
        "model": "m",
        "created_at": "2024-01-01T00:00:00Z",
        "response": "return",
        "done": False,
    }
    assert events[-1]["response"] == "" and events[-1]["done"] is True
    assert (events[-1]["done_reason"], events[-1]["eval_count"]) == ("length", 2)
    assert streamed_text("ollama", events) == "return a"


@pytest.mark.parametrize(
    ("path", "done"),
    [pytest.param("/infill", False, id="infill"), pytest.param("/v1/completions", True, id="v1")],
)
def test_llamacpp_stream_framing(client: httpx.Client, path: str, done: bool) -> None:
    body = {"input_prefix": "x", "prompt": "x", "n_predict": 20, "stop": ["\n\n"], "stream": True}
    with FakeBackend("llamacpp", CODE) as backend:
        raw = client.post(backend.base_url + path, json=body).content
    assert raw.startswith(b"data: {")
    assert raw.endswith(b"data: [DONE]\n\n") is done
    events = events_of("llamacpp" if not done else "openai", raw)
    if not done:
        assert events[0] == {"index": 0, "content": "return", "stop": False}
        assert events[-1]["content"] == "" and events[-1]["stop"] is True
        assert (events[-1]["stop_type"], events[-1]["stopping_word"]) == ("word", "\n\n")
    assert streamed_text("llamacpp" if not done else "openai", events) == "return a + b"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_stream_is_read_incrementally(client: httpx.Client, kind: Kind) -> None:
    with (
        FakeBackend(kind, WORDS, chunk_delay=0.05) as backend,
        client.stream(
            "POST",
            backend.base_url + path_for(kind, stream=True),
            json=request_body(kind, limit=12, stream=True),
        ) as response,
    ):
        lines = response.iter_lines()
        first = next(lines)
        assert first and backend.active == 1, "the first event arrives while the stream goes on"
        rest = list(lines)
    assert backend.active == 0 and len(rest) > 5


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_streamed_text_equals_the_plain_answer(client: httpx.Client, kind: Kind) -> None:
    with FakeBackend(kind, CODE) as backend:
        plain = generate(client, backend, limit=9, stop=["- b"])
        streamed = generate(client, backend, stream=True, limit=9, stop=["- b"])
    text, _ = text_and_reason(kind, plain.json())
    assert streamed_text(kind, events_of(kind, streamed.content)) == text


def test_stream_keeps_the_connection_alive() -> None:
    with FakeBackend("openai", CODE) as backend:
        port = int(backend.base_url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        body = json.dumps(request_body("openai", stream=True))
        headers = {"Content-Type": "application/json"}
        try:
            connection.request("POST", "/v1/completions", body=body, headers=headers)
            first = connection.getresponse().read()
            sock = connection.sock
            connection.request("POST", "/v1/completions", body=body, headers=headers)
            second = connection.getresponse().read()
            assert first == second and first.endswith(b"data: [DONE]\n\n")
            assert sock is not None and connection.sock is sock
        finally:
            connection.close()


# -- stream faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("after", [pytest.param(0, id="at-once"), pytest.param(2, id="after-2")])
def test_stream_fault_error_event(client: httpx.Client, kind: Kind, after: int) -> None:
    with FakeBackend(kind, CODE) as backend:
        backend.stream_fault("error_event", after_tokens=after)
        broken = generate(client, backend, stream=True, limit=20)
        intact = generate(client, backend, stream=True, limit=20)
    assert broken.status_code == 200
    events = events_of(kind, broken.content)
    if kind == "openai":
        assert events[-1] == "[DONE]", "vLLM still ends the stream with [DONE]"
        events = events[:-1]
    assert events[-1] == STREAM_ERRORS[kind]
    assert len(events) == after + 1
    assert streamed_text(kind, events) == "".join(tokenize(CODE)[:after])
    if kind == "tgi":
        assert broken.content.endswith(
            b'data:{"error":"simulated failure during generation","error_type":"generation"}\n\n'
        )
    assert b"error" not in intact.content, "a stream fault is one-shot"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_stream_fault_cut(client: httpx.Client, kind: Kind) -> None:
    with FakeBackend(kind, CODE) as backend:
        backend.stream_fault("cut", after_tokens=2)
        with client.stream(
            "POST",
            backend.base_url + path_for(kind, stream=True),
            json=request_body(kind, limit=20, stream=True),
        ) as response:
            received = read_until_broken(response)
        assert generate(client, backend, stream=True).status_code == 200
    whole, partial = received.rsplit(b"\n\n" if kind != "ollama" else b"\n", 1)
    assert streamed_text(kind, events_of(kind, whole + b"\n")) == "return a"
    assert partial and partial.startswith(b"data" if kind != "ollama" else b"{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial.removeprefix(b"data:"))
    assert backend.closed_early == 0, "the server hung up, not the client"


def test_tgi_validation_error_is_an_event_on_the_stream(client: httpx.Client) -> None:
    with FakeBackend("tgi", CODE) as backend:
        backend.stream_fault("cut")
        body = {"inputs": "x", "parameters": {"top_p": 1.0}}
        response = client.post(backend.base_url + "/generate_stream", json=body)
        with pytest.raises(httpx.RemoteProtocolError):
            generate(client, backend, stream=True)  # the stream fault waited for a real answer
    assert response.status_code == 200
    assert response.content == (
        b':\n\ndata:{"error":"Input validation error: `top_p` must be > 0.0 and < 1.0",'
        b'"error_type":"validation"}\n\n'
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_client_leaving_mid_stream_counts_as_closed_early(client: httpx.Client, kind: Kind) -> None:
    with FakeBackend(kind, WORDS, chunk_delay=0.05) as backend:
        with client.stream(
            "POST",
            backend.base_url + path_for(kind, stream=True),
            json=request_body(kind, limit=100, stream=True),
        ) as response:
            assert next(response.iter_lines())
        assert wait_until(lambda: backend.closed_early == 1 and backend.active == 0)


def test_stop_does_not_hang_on_a_slow_stream() -> None:
    backend = FakeBackend("ollama", WORDS, chunk_delay=5).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            body = request_body("ollama", stream=True)
            httpx.post(backend.base_url + "/api/generate", json=body, timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert wait_until(lambda: backend.active == 1)
    started = time.monotonic()
    backend.stop()
    assert time.monotonic() - started < 2
    worker.join(timeout=5)
    assert not worker.is_alive() and len(errors) == 1


# -- validation and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "parameters", "message"),
    [
        pytest.param("x", {"top_p": 1.0}, "`top_p` must be > 0.0 and < 1.0", id="top_p-1.0"),
        pytest.param("x", {"top_p": 0}, "`top_p` must be > 0.0 and < 1.0", id="top_p-0"),
        pytest.param(
            "x", {"temperature": 0}, "`temperature` must be strictly positive", id="temperature-0"
        ),
        pytest.param("x", {"top_k": 0}, "`top_k` must be strictly positive", id="top_k-0"),
        pytest.param(
            "x",
            {"repetition_penalty": 0},
            "`repetition_penalty` must be strictly positive",
            id="repetition_penalty-0",
        ),
        pytest.param(
            "x", {"max_new_tokens": 0}, "`max_new_tokens` must be strictly positive", id="zero-new"
        ),
        pytest.param(
            "x",
            {"stop": ["a", "b", "c", "d", "e"]},
            "`stop` supports up to 4 stop sequences. Given: 5",
            id="five-stops",
        ),
        pytest.param("", {}, "`inputs` cannot be empty", id="empty-inputs"),
        pytest.param(
            " t" * 8,
            {"max_new_tokens": 5},
            "`inputs` tokens + `max_new_tokens` must be <= 10. Given: 8 `inputs` tokens and "
            "5 `max_new_tokens`",
            id="token-budget",
        ),
        pytest.param(
            " t" * 9,
            {"max_new_tokens": 1},
            "`inputs` must have less than 8 tokens. Given: 9",
            id="input-too-long",
        ),
        pytest.param(
            "x",
            {"truncate": 9},
            "`truncate` must be strictly positive and less than 8. Given: 9",
            id="truncate-too-big",
        ),
    ],
)
def test_tgi_validation_errors_are_422(
    client: httpx.Client, inputs: str, parameters: dict[str, Any], message: str
) -> None:
    with FakeBackend("tgi", CODE, max_total_tokens=10, max_input_tokens=8) as backend:
        response = client.post(
            backend.base_url + "/generate", json={"inputs": inputs, "parameters": parameters}
        )
    assert response.status_code == 422
    assert response.json() == {
        "error": f"Input validation error: {message}",
        "error_type": "validation",
    }


def test_tgi_truncate_keeps_the_request_within_the_budget(client: httpx.Client) -> None:
    with FakeBackend("tgi", CODE, max_total_tokens=10, max_input_tokens=8) as backend:
        body = {"inputs": " t" * 8, "parameters": {"max_new_tokens": 5, "truncate": 5}}
        response = client.post(backend.base_url + "/generate", json=body)
    assert response.status_code == 200
    assert response.json() == {"generated_text": "return a + b\n\ndef"}
    assert response.headers["x-prompt-tokens"] == "5"


@pytest.mark.parametrize(
    ("content", "headers", "status", "starts"),
    [
        pytest.param(b"{oops", {}, 400, "Failed to parse the request body as JSON", id="syntax"),
        pytest.param(
            b'{"parameters": {}}',
            {},
            422,
            "Failed to deserialize the JSON body into the target type: missing field `inputs`",
            id="no-inputs",
        ),
        pytest.param(
            b'{"inputs": "x", "parameters": {"max_new_tokens": -1}}',
            {},
            422,
            "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens",
            id="negative-u32",
        ),
        pytest.param(
            b'{"inputs": "x"}',
            {"Content-Type": "text/plain"},
            415,
            "Expected request with `Content-Type: application/json`",
            id="content-type",
        ),
    ],
)
def test_tgi_rejects_unreadable_bodies_as_plain_text(
    client: httpx.Client, content: bytes, headers: dict[str, str], status: int, starts: str
) -> None:
    with FakeBackend("tgi") as backend:
        response = client.post(
            backend.base_url + "/generate",
            content=content,
            headers={"Content-Type": "application/json", **headers},
        )
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(starts)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(
            {"prompt": "x", "suffix": "y"}, 400, "suffix is not currently supported", id="suffix"
        ),
        pytest.param(
            {"model": "other", "prompt": "x"}, 404, "The model `other` does not exist.", id="model"
        ),
        pytest.param(
            {"prompt": "x", "max_tokens": 0},
            400,
            "max_tokens must be at least 1, got 0.",
            id="max0",
        ),
        pytest.param(
            {"prompt": "x", "temperature": -1},
            400,
            "temperature must be non-negative, got -1.",
            id="temperature",
        ),
        pytest.param(
            {"prompt": "x", "top_p": 0}, 400, "top_p must be in (0, 1], got 0.", id="top_p"
        ),
        pytest.param(
            {"prompt": " t" * 8, "max_tokens": 5},
            400,
            "This model's maximum context length is 10 tokens. However, you requested 13 tokens "
            "(8 in the messages, 5 in the completion). Please reduce the length of the messages "
            "or completion.",
            id="context",
        ),
    ],
)
def test_openai_errors(
    client: httpx.Client, body: dict[str, Any], status: int, message: str
) -> None:
    with FakeBackend("openai", CODE, models=("m",), max_total_tokens=10) as backend:
        response = client.post(backend.base_url + "/v1/completions", json={"model": "m", **body})
    assert response.status_code == status
    assert response.json() == error_body("openai", status, message)
    assert (
        response.json()["error"]["type"] == {400: "BadRequestError", 404: "NotFoundError"}[status]
    )


@pytest.mark.parametrize(
    ("content", "loc", "kind"),
    [
        pytest.param(b"not json", ["body"], "json_invalid", id="not-json"),
        pytest.param(b"[1]", ["body"], "model_attributes_type", id="not-an-object"),
        pytest.param(b'{"model": "m"}', ["body", "prompt"], "missing", id="no-prompt"),
        pytest.param(
            b'{"prompt": "x", "max_tokens": "9"}', ["body", "max_tokens"], "int_type", id="mistyped"
        ),
    ],
)
def test_openai_unreadable_body_is_fastapi_422(
    client: httpx.Client, content: bytes, loc: list[Any], kind: str
) -> None:
    with FakeBackend("openai") as backend:
        response = client.post(
            backend.base_url + "/v1/completions",
            content=content,
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422
    (detail,) = response.json()["detail"]
    assert (detail["loc"], detail["type"]) == (loc, kind)
    assert isinstance(detail["msg"], str) and detail["msg"]


@pytest.mark.parametrize(
    ("model", "status"),
    [
        pytest.param("starcoder2:3b", 200, id="exact"),
        pytest.param("codellama", 200, id="latest-implied"),
        pytest.param("codellama:latest", 200, id="latest-explicit"),
        pytest.param("nobody", 404, id="unknown"),
    ],
)
def test_ollama_model_lookup(client: httpx.Client, model: str, status: int) -> None:
    with FakeBackend("ollama", models=("starcoder2:3b", "codellama:latest")) as backend:
        body = {"model": model, "prompt": "x", "stream": False}
        response = client.post(backend.base_url + "/api/generate", json=body)
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"error": 'model "nobody" not found, try pulling it first'}


@pytest.mark.parametrize(
    ("model", "name"),
    [
        pytest.param("qwen", "registry.ollama.ai/library/qwen:latest", id="bare"),
        pytest.param("qwen:7b", "registry.ollama.ai/library/qwen:7b", id="tagged"),
        pytest.param("me/qwen", "registry.ollama.ai/me/qwen:latest", id="namespaced"),
    ],
)
def test_ollama_suffix_unsupported(client: httpx.Client, model: str, name: str) -> None:
    with FakeBackend("ollama", ollama_suffix_supported=False) as backend:
        url = backend.base_url + "/api/generate"
        refused = client.post(url, json={"model": model, "prompt": "a", "suffix": "b"})
        plain = client.post(url, json={"model": model, "prompt": "a", "stream": False})
    assert refused.status_code == 400
    assert refused.json() == {"error": f"{name} does not support insert"}
    assert plain.status_code == 200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "missing request body", id="empty"),
        pytest.param(b'{"prompt": "x"}', "model is required", id="no-model"),
        pytest.param(
            b'{"model": "m", "prompt": 5}',
            "json: cannot unmarshal number into Go struct field GenerateRequest.prompt of type "
            "string",
            id="mistyped",
        ),
    ],
)
def test_ollama_bad_requests_are_400(client: httpx.Client, content: bytes, message: str) -> None:
    with FakeBackend("ollama") as backend:
        response = client.post(backend.base_url + "/api/generate", content=content)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_llamacpp_infill_unsupported_is_501(client: httpx.Client) -> None:
    with FakeBackend("llamacpp", infill_supported=False) as backend:
        refused = client.post(backend.base_url + "/infill", json={"input_prefix": "x"})
        completion = client.post(backend.base_url + "/completion", json={"prompt": "x"})
    assert refused.status_code == 501
    assert refused.json() == {
        "error": {
            "code": 501,
            "message": "Infill is not supported by this model",
            "type": "not_supported_error",
        }
    }
    assert completion.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        pytest.param(
            "/infill",
            {"input_extra": [{"filename": "a.py"}]},
            400,
            'extra_context chunk must contain a "text" field with a string value',
            id="extra-without-text",
        ),
        pytest.param(
            "/infill",
            {"input_extra": {"text": "x"}},
            400,
            '"input_extra" must be an array of {"filename": string, "text": string}',
            id="extra-not-array",
        ),
        pytest.param(
            "/completion",
            {"n_predict": 1},
            500,
            "[json.exception.out_of_range.403] key 'prompt' not found",
            id="no-prompt",
        ),
        pytest.param(
            "/v1/completions",
            {"prompt": "x", "suffix": "y"},
            400,
            "Unsupported param: suffix",
            id="v1-suffix",
        ),
        pytest.param(
            "/v1/completions",
            {"prompt": "x", "n": 2},
            400,
            "Only one completion choice is allowed",
            id="v1-n",
        ),
    ],
)
def test_llamacpp_errors(
    client: httpx.Client, path: str, body: dict[str, Any], status: int, message: str
) -> None:
    with FakeBackend("llamacpp") as backend:
        response = client.post(backend.base_url + path, json=body)
    assert response.status_code == status
    assert response.json() == error_body("llamacpp", status, message)


def test_llamacpp_prompt_beyond_the_context_is_400(client: httpx.Client) -> None:
    with FakeBackend("llamacpp", max_total_tokens=4) as backend:
        response = client.post(backend.base_url + "/completion", json={"prompt": "a b c d"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["n_prompt_tokens"], error["n_ctx"]) == (
        "exceed_context_size_error",
        4,
        4,
    )


def test_llamacpp_loading_answers_503_everywhere_first(client: httpx.Client) -> None:
    with FakeBackend("llamacpp", loading_for=2) as backend:
        first = client.get(backend.base_url + "/health")
        second = client.post(backend.base_url + "/completion", json={"prompt": "x"})
        ready = client.get(backend.base_url + "/health")
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    assert (first.status_code, first.json()) == (503, loading)
    assert (second.status_code, second.json()) == (503, loading)
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


def test_loading_for_is_llamacpp_only() -> None:
    with pytest.raises(ValueError, match="llama.cpp"):
        FakeBackend("tgi", loading_for=1)


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        pytest.param("tgi", 404, b"", id="tgi"),
        pytest.param("openai", 404, b'{"detail":"Not Found"}', id="openai"),
        pytest.param("ollama", 404, b"404 page not found", id="ollama"),
        pytest.param(
            "llamacpp",
            404,
            b'{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}',
            id="llamacpp",
        ),
    ],
)
def test_unknown_path(client: httpx.Client, kind: Kind, status: int, body: bytes) -> None:
    with FakeBackend(kind) as backend:
        response = client.post(backend.base_url + "/nowhere", json={})
        assert backend.generation_requests() == []
    assert (response.status_code, response.content) == (status, body)


# -- authentication -------------------------------------------------------------------------------

UNAUTHORIZED: dict[Kind, bytes] = {
    "tgi": b"",
    "openai": b'{"error":{"message":"Invalid API key","type":"AuthenticationError","code":401}}',
    "ollama": b'{"error":"unauthorized"}',
    "llamacpp": b'{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}',
}


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong"),
        pytest.param({"Authorization": "sekrit"}, id="no-bearer"),
    ],
)
def test_bad_token_is_401(kind: Kind, headers: dict[str, str]) -> None:
    with (
        FakeBackend(kind, token="sekrit") as backend,
        httpx.Client(timeout=5, headers=headers) as client,
    ):
        response = generate(client, backend)
    assert (response.status_code, response.content) == (401, UNAUTHORIZED[kind])


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_right_token_is_accepted(kind: Kind) -> None:
    headers = {"Authorization": "Bearer sekrit"}
    with (
        FakeBackend(kind, token="sekrit") as backend,
        httpx.Client(timeout=5, headers=headers) as client,
    ):
        response = generate(client, backend)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("kind", "path", "status"),
    [
        pytest.param("llamacpp", "/health", 200, id="llamacpp-health-public"),
        pytest.param("llamacpp", "/v1/models", 200, id="llamacpp-models-public"),
        pytest.param("openai", "/health", 200, id="vllm-health-public"),
        pytest.param("openai", "/v1/models", 401, id="vllm-models-guarded"),
        pytest.param("tgi", "/info", 401, id="tgi-info-guarded"),
    ],
)
def test_public_paths_need_no_token(
    client: httpx.Client, kind: Kind, path: str, status: int
) -> None:
    with FakeBackend(kind, token="sekrit") as backend:
        assert client.get(backend.base_url + path).status_code == status


# -- information routes ---------------------------------------------------------------------------


def test_tgi_info_and_health(client: httpx.Client) -> None:
    with FakeBackend("tgi", max_total_tokens=2048, max_input_tokens=2000) as backend:
        info = client.get(backend.base_url + "/info").json()
        health = client.get(backend.base_url + "/health")
    assert {
        k: info[k]
        for k in (
            "model_id",
            "max_input_tokens",
            "max_total_tokens",
            "max_stop_sequences",
            "max_best_of",
            "version",
        )
    } == {
        "model_id": "bigcode/starcoder2-3b",
        "max_input_tokens": 2000,
        "max_total_tokens": 2048,
        "max_stop_sequences": 4,
        "max_best_of": 2,
        "version": "3.0.0",
    }
    assert (health.status_code, health.content) == (200, b"")


@pytest.mark.parametrize(
    ("kind", "path", "models", "ids"),
    [
        pytest.param("openai", "/v1/models", (), ["bigcode/starcoder2-3b"], id="openai-default"),
        pytest.param("openai", "/v1/models", ("a", "b"), ["a", "b"], id="openai-given"),
        pytest.param("llamacpp", "/v1/models", (), ["model.gguf"], id="llamacpp"),
    ],
)
def test_model_lists(
    client: httpx.Client, kind: Kind, path: str, models: tuple[str, ...], ids: list[str]
) -> None:
    with FakeBackend(kind, models=models) as backend:
        payload = client.get(backend.base_url + path).json()
    assert payload["object"] == "list"
    assert [m["id"] for m in payload["data"]] == ids
    assert all(m["object"] == "model" for m in payload["data"])


def test_ollama_tags_version_and_root(client: httpx.Client) -> None:
    with FakeBackend("ollama", models=("qwen:7b", "starcoder2:3b")) as backend:
        tags = client.get(backend.base_url + "/api/tags").json()
        version = client.get(backend.base_url + "/api/version").json()
        root = client.get(backend.base_url + "/")
    assert [m["name"] for m in tags["models"]] == ["qwen:7b", "starcoder2:3b"]
    assert version == {"version": "0.5.0"}
    assert root.text == "Ollama is running"


def test_ollama_tags_default_model(client: httpx.Client) -> None:
    with FakeBackend("ollama") as backend:
        tags = client.get(backend.base_url + "/api/tags").json()
    assert [m["name"] for m in tags["models"]] == [DEFAULT_MODELS["ollama"]]


# -- hf_server faults -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_queued_faults_apply_to_generation_in_order(client: httpx.Client, kind: Kind) -> None:
    with FakeBackend(kind, CODE) as backend:
        backend.fault(Fault.rate_limited(3))
        backend.fault(Fault.html(502))
        backend.fault(Fault.malformed())
        backend.fault(Fault.empty())
        rate_limited, html, malformed, empty, fine = (generate(client, backend) for _ in range(5))
    assert rate_limited.status_code == 429
    assert rate_limited.json() == {"error": RATE_LIMIT_MESSAGE}
    assert rate_limited.headers["retry-after"] == "3"
    assert (html.status_code, html.headers["content-type"]) == (502, "text/html")
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    assert (empty.status_code, empty.content) == (200, b"")
    assert fine.status_code == 200


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        pytest.param("tgi", "/info", id="tgi"),
        pytest.param("openai", "/v1/models", id="openai"),
        pytest.param("ollama", "/api/tags", id="ollama"),
        pytest.param("llamacpp", "/health", id="llamacpp"),
    ],
)
def test_faults_wait_for_a_generation_request(client: httpx.Client, kind: Kind, path: str) -> None:
    with FakeBackend(kind) as backend:
        backend.fault(Fault.status(500, {"error": "boom"}))
        assert client.get(backend.base_url + path).status_code == 200
        assert generate(client, backend).status_code == 500


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_drop_and_delay_faults(client: httpx.Client, kind: Kind) -> None:
    with FakeBackend(kind, CODE) as backend:
        backend.fault(Fault.drop())
        with pytest.raises(httpx.RemoteProtocolError):
            generate(client, backend)
        backend.fault(Fault.delay(0.2))
        started = time.monotonic()
        delayed = generate(client, backend, stream=True, limit=1)
        assert time.monotonic() - started >= 0.2
    assert streamed_text(kind, events_of(kind, delayed.content)) == "return"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_fault_until_cleared(client: httpx.Client, kind: Kind) -> None:
    with FakeBackend(kind) as backend:
        backend.set_default(error_fault(kind, 500, "broken"))
        failures = [generate(client, backend) for _ in range(2)]
        backend.set_default(None)
        assert generate(client, backend).status_code == 200
    assert [r.status_code for r in failures] == [500, 500]
    assert failures[0].json() == error_body(kind, 500, "broken")


@pytest.mark.parametrize(
    ("code", "message", "body"),
    [
        pytest.param(
            429,
            "Model is overloaded",
            {"error": "Model is overloaded", "error_type": "overloaded"},
            id="overloaded",
        ),
        pytest.param(
            424,
            "Request failed during generation",
            {"error": "Request failed during generation", "error_type": "generation"},
            id="generation",
        ),
    ],
)
def test_tgi_error_faults(
    client: httpx.Client, code: int, message: str, body: dict[str, str]
) -> None:
    with FakeBackend("tgi") as backend:
        backend.fault(error_fault("tgi", code, message))
        response = generate(client, backend)
    assert (response.status_code, response.json()) == (code, body)


def test_client_leaving_during_a_delay_counts_as_closed_early() -> None:
    with FakeBackend("llamacpp") as backend:
        backend.fault(Fault.delay(5))
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(backend.base_url + "/completion", json={"prompt": "x"}, timeout=0.2)
        assert wait_until(lambda: backend.closed_early == 1 and backend.active == 0)


# -- recording ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "model"),
    [
        pytest.param("tgi", None, id="tgi-no-model-field"),
        pytest.param("openai", "m", id="openai"),
        pytest.param("ollama", "m", id="ollama"),
        pytest.param("llamacpp", "m", id="llamacpp"),
    ],
)
def test_requests_are_recorded(kind: Kind, model: str | None) -> None:
    headers = {"Authorization": "Bearer t", "X-Custom": "yes"}
    with FakeBackend(kind) as backend, httpx.Client(timeout=5, headers=headers) as client:
        client.get(backend.base_url + "/whatever")
        generate(client, backend)
        generate(client, backend, stream=True)
    probe, plain, streamed = backend.requests
    assert (probe.method, probe.path, probe.model) == ("GET", "/whatever", None)
    assert plain.method == "POST" and plain.path == path_for(kind)
    assert plain.body == request_body(kind)
    assert plain.model == model
    assert plain.headers["authorization"] == "Bearer t"
    assert plain.headers["x-custom"] == "yes"
    assert backend.generation_requests() == [plain, streamed]


def test_base_url_and_unknown_kind() -> None:
    with FakeBackend("openai") as backend:
        assert backend.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(ValueError, match="unknown backend kind"):
        FakeBackend("vllm")  # type: ignore[arg-type]


# -- instruction models ---------------------------------------------------------------------


HOLE_PROMPT = "Fill in the hole <H> in this file:\n\n```python\ndef add(a, b):\n    <H>\n```\n"


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("fenced", "```python\nreturn a + b\n```"),
        ("prose", "Here is the code that goes in the hole:\n\n```python\nreturn a + b\n```\n\n"
                  "This completes it."),
        ("echo_file", "```python\ndef add(a, b):\n    return a + b\n```"),
        ("bare", "return a + b"),
    ],
)
def test_instruct_answers_in_each_shape(client: httpx.Client, shape: str, expected: str) -> None:
    answer = instruct("return a + b", shape, hole="<H>")  # type: ignore[arg-type]
    with FakeBackend("openai", "unused", chat_answer=answer) as backend:
        messages = [{"role": "system", "content": "fill holes"},
                    {"role": "user", "content": HOLE_PROMPT}]
        body = {"model": "m", "messages": messages, "max_tokens": 100}
        payload = client.post(backend.base_url + "/v1/chat/completions", json=body).json()
        completions = client.post(backend.base_url + "/v1/completions",
                                  json={"model": "m", "prompt": "x", "max_tokens": 5}).json()
    assert payload["choices"][0]["message"]["content"] == expected
    assert payload["choices"][0]["finish_reason"] == "stop"
    assert completions["choices"][0]["text"] == "unused"  # /v1/completions keeps `completion`


def test_instruct_answer_is_cut_at_max_tokens_and_streams(client: httpx.Client) -> None:
    answer = instruct("return a + b", "echo_file", hole="<H>")
    with FakeBackend("openai", chat_answer=answer) as backend:
        messages = [{"role": "user", "content": HOLE_PROMPT}]
        body = {"model": "m", "messages": messages, "max_tokens": 3}
        payload = client.post(backend.base_url + "/v1/chat/completions", json=body).json()
        raw = client.post(backend.base_url + "/v1/chat/completions",
                          json={**body, "stream": True}).content
    assert payload["choices"][0]["message"]["content"] == "```python\ndef add(a,"
    assert payload["choices"][0]["finish_reason"] == "length"
    events = [json.loads(line[6:]) for line in raw.decode().split("\n\n") if
              line.startswith("data: {")]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert text == "```python\ndef add(a,"
