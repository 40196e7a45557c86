"""Tests for the fake Hugging Face Inference API server used by end-to-end tests."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hf_server import (
    RATE_LIMIT_MESSAGE,
    FakeInferenceServer,
    FakeModel,
    Fault,
    generate,
    tokenize,
)

MODEL = "bigcode/starcoder2-15b"
WORDS = " one two three four five six seven eight nine ten"
FIRST_EIGHT = " one two three four five six seven eight"
CODE = "\n    return a + b\n\ndef sub(a, b):\n    return a - b\n"


@pytest.fixture
def server() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel(completion=WORDS)}) as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as http:
        yield http


def ask(
    client: httpx.Client,
    server: FakeInferenceServer,
    parameters: dict[str, Any] | None = None,
    *,
    inputs: str = "def add(a, b):",
    model: str = MODEL,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"inputs": inputs, **extra}
    if parameters is not None:
        body["parameters"] = parameters
    return client.post(server.url_for(model), json=body)


def generated(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert isinstance(payload, list) and len(payload) == 1
    return str(payload[0]["generated_text"])


# -- generation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        pytest.param(" one two", [" one", " two"], id="leading-space"),
        pytest.param("a\n  b ", ["a", "\n  b", " "], id="trailing-space"),
        pytest.param("", [], id="empty"),
    ],
)
def test_tokenize_keeps_leading_whitespace(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
    assert "".join(tokens) == text


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param({"max_new_tokens": 3}, "PROMPT one two three", id="default-echoes"),
        pytest.param(
            {"max_new_tokens": 3, "return_full_text": True}, "PROMPT one two three", id="true"
        ),
        pytest.param(
            {"max_new_tokens": 3, "return_full_text": False}, " one two three", id="false"
        ),
    ],
)
def test_return_full_text_defaults_to_echoing_the_prompt(
    server: FakeInferenceServer, client: httpx.Client, parameters: dict[str, Any], expected: str
) -> None:
    assert generated(ask(client, server, parameters, inputs="PROMPT")) == expected


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param(None, FIRST_EIGHT, id="no-parameters"),
        pytest.param({}, FIRST_EIGHT, id="absent"),
        pytest.param({"max_new_tokens": None}, FIRST_EIGHT, id="null"),
        pytest.param({"max_new_tokens": 2}, " one two", id="two"),
        pytest.param({"max_new_tokens": 0}, "", id="zero"),
        pytest.param({"max_new_tokens": 250}, WORDS, id="more-than-available"),
    ],
)
def test_default_answer_is_short_unless_max_new_tokens(
    server: FakeInferenceServer,
    client: httpx.Client,
    parameters: dict[str, Any] | None,
    expected: str,
) -> None:
    response = ask(client, server, parameters, inputs="")
    assert generated(response) == expected
    assert response.headers["x-generated-tokens"] == str(len(tokenize(expected)))
    assert FakeInferenceServer.DEFAULT_MAX_NEW_TOKENS == 8


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        pytest.param(["\ndef"], "\n    return a + b\n\ndef", id="included-in-text"),
        pytest.param(["\n\n", "+"], "\n    return a +", id="earliest-wins"),
        pytest.param(["- b"], "\n    return a + b\n\ndef sub(a, b):\n    return a - b", id="late"),
        pytest.param(["nowhere"], CODE, id="absent"),
        pytest.param([], CODE, id="empty-list"),
        pytest.param("\ndef", CODE, id="not-a-list-ignored"),
    ],
)
def test_stop_sequences_cut_after_the_first_match(stop: Any, expected: str) -> None:
    model = FakeModel(completion=CODE)
    with FakeInferenceServer({MODEL: model}) as server, httpx.Client(timeout=5) as client:
        parameters = {"max_new_tokens": 100, "stop": stop, "return_full_text": False}
        assert generated(ask(client, server, parameters)) == expected


def test_stop_sequence_beyond_token_budget_is_not_reached() -> None:
    assert generate(CODE, 2, ["\ndef"]) == ("\n    return a", 2)
    assert generate(CODE, 100, ["\ndef"]) == ("\n    return a + b\n\ndef", 5)


def test_num_return_sequences_repeats_the_answer(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    parameters = {"num_return_sequences": 3, "max_new_tokens": 1, "return_full_text": False}
    response = ask(client, server, parameters)
    assert response.status_code == 200
    assert response.json() == [{"generated_text": " one"}] * 3


def test_success_headers(server: FakeInferenceServer, client: httpx.Client) -> None:
    response = ask(client, server, {"max_new_tokens": 4})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-generated-tokens"] == "4"
    assert response.headers["x-prompt-tokens"] == str(len(tokenize("def add(a, b):")))
    assert float(response.headers["x-compute-time"]) >= 0
    assert int(response.headers["content-length"]) == len(response.content)


def test_hf_inference_path_prefix_is_served(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    url = f"{server.base_url}/hf-inference/models/{MODEL}"
    response = client.post(url, json={"inputs": "x", "parameters": {"max_new_tokens": 1}})
    assert generated(response) == "x one"
    assert server.generation_requests()[-1].model == MODEL


def test_connection_is_kept_alive(server: FakeInferenceServer) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = json.dumps({"inputs": "x"})
    try:
        connection.request("POST", f"/models/{MODEL}", body=body)
        first = connection.getresponse()
        first.read()
        sock = connection.sock
        connection.request("POST", f"/models/{MODEL}", body=body)
        second = connection.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 200)
        assert sock is not None and connection.sock is sock
    finally:
        connection.close()


# -- errors the real API returns ----------------------------------------------------------


@pytest.mark.parametrize(
    ("estimated_time", "expected"),
    [
        pytest.param(
            20.0,
            {"error": f"Model {MODEL} is currently loading", "estimated_time": 20.0},
            id="with-estimate",
        ),
        pytest.param(None, {"error": f"Model {MODEL} is currently loading"}, id="no-estimate"),
    ],
)
def test_loading_model_answers_503_until_ready(
    client: httpx.Client, estimated_time: float | None, expected: dict[str, Any]
) -> None:
    model = FakeModel(completion=WORDS, loading_for=2, estimated_time=estimated_time)
    with FakeInferenceServer({MODEL: model}) as server:
        first, second, third = (ask(client, server) for _ in range(3))
        assert (first.status_code, second.status_code) == (503, 503)
        assert first.json() == expected
        assert third.status_code == 200


def test_wait_for_model_waits_and_then_answers(client: httpx.Client) -> None:
    model = FakeModel(completion=WORDS, loading_for=5)
    with FakeInferenceServer({MODEL: model}, load_delay=0.1) as server:
        assert ask(client, server).status_code == 503
        started = time.monotonic()
        waited = ask(client, server, {"max_new_tokens": 1}, options={"wait_for_model": True})
        assert time.monotonic() - started >= 0.1
        assert generated(waited) == "def add(a, b): one"
        assert ask(client, server).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer hf_wrong"}, id="wrong"),
        pytest.param({"Authorization": "hf_secret"}, id="no-bearer"),
    ],
)
def test_bad_token_is_401(headers: dict[str, str]) -> None:
    with (
        FakeInferenceServer({MODEL: FakeModel(WORDS)}, token="hf_secret") as server,
        httpx.Client(timeout=5, headers=headers) as client,
    ):
        response = ask(client, server)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid credentials in Authorization header"}


def test_right_token_is_accepted() -> None:
    headers = {"Authorization": "Bearer hf_secret"}
    with (
        FakeInferenceServer({MODEL: FakeModel(WORDS)}, token="hf_secret") as server,
        httpx.Client(timeout=5, headers=headers) as client,
    ):
        assert ask(client, server).status_code == 200


def test_unknown_model_is_404(server: FakeInferenceServer, client: httpx.Client) -> None:
    response = ask(client, server, model="nobody/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "Model nobody/nothing does not exist"}


def test_unknown_path_is_404(server: FakeInferenceServer, client: httpx.Client) -> None:
    response = client.post(f"{server.base_url}/v1/chat/completions", json={"inputs": "x"})
    assert response.status_code == 404
    assert server.requests[-1].model is None
    assert server.generation_requests() == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b'["inputs"]', id="not-an-object"),
        pytest.param(b'{"parameters": {}}', id="no-inputs"),
        pytest.param(b'{"inputs": 42}', id="inputs-not-string"),
        pytest.param(b'{"inputs": "x", "parameters": [1]}', id="parameters-not-object"),
    ],
)
def test_bad_body_is_400(server: FakeInferenceServer, client: httpx.Client, content: bytes) -> None:
    response = client.post(server.url_for(MODEL), content=content)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str) and response.json()["error"]


@pytest.mark.parametrize(
    ("parameters", "rejected"),
    [
        pytest.param({"stop": ["\n"]}, ["stop"], id="one"),
        pytest.param(
            {"stop": ["\n"], "top_k": 5, "watermark": True, "max_new_tokens": 3},
            ["stop", "watermark"],
            id="several-in-sent-order",
        ),
    ],
)
def test_unused_model_kwargs_is_400(
    client: httpx.Client, parameters: dict[str, Any], rejected: list[str]
) -> None:
    model = FakeModel(WORDS, rejected_parameters=frozenset({"stop", "watermark"}))
    with FakeInferenceServer({MODEL: model}) as server:
        response = ask(client, server, parameters)
    assert response.status_code == 400
    assert response.json() == {
        "error": f"The following `model_kwargs` are not used by the model: {rejected!r} "
        "(note: typos in the generate arguments will also show up in this list)",
        "warnings": [],
    }


def test_rejected_parameters_not_sent_are_fine(client: httpx.Client) -> None:
    model = FakeModel(WORDS, rejected_parameters=frozenset({"stop"}))
    with FakeInferenceServer({MODEL: model}) as server:
        assert ask(client, server, {"max_new_tokens": 1}).status_code == 200


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param({"max_new_tokens": 251}, id="tokens-too-many"),
        pytest.param({"max_new_tokens": -1}, id="tokens-negative"),
        pytest.param({"max_new_tokens": 1.5}, id="tokens-float"),
        pytest.param({"max_new_tokens": "8"}, id="tokens-string"),
        pytest.param({"max_new_tokens": True}, id="tokens-bool"),
        pytest.param({"temperature": 101}, id="temperature-high"),
        pytest.param({"temperature": -0.1}, id="temperature-negative"),
        pytest.param({"temperature": "hot"}, id="temperature-string"),
        pytest.param({"num_return_sequences": 0}, id="sequences-zero"),
    ],
)
def test_invalid_parameters_are_400(
    server: FakeInferenceServer, client: httpx.Client, parameters: dict[str, Any]
) -> None:
    response = ask(client, server, parameters)
    assert response.status_code == 400
    name = next(iter(parameters))
    assert f"`{name}`" in response.json()["error"]


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [
        pytest.param(30, "30", id="integer"),
        pytest.param(0.5, "0.5", id="fraction"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_rate_limited_is_429_with_retry_after(
    server: FakeInferenceServer, client: httpx.Client, retry_after: float | None, header: str | None
) -> None:
    server.fault(MODEL, Fault.rate_limited(retry_after))
    response = ask(client, server)
    assert response.status_code == 429
    assert response.json() == {"error": RATE_LIMIT_MESSAGE}
    assert response.headers.get("retry-after") == header
    assert ask(client, server).status_code == 200, "a queued fault is one-shot"


def test_default_fault_applies_until_cleared(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    server.set_default(Fault.rate_limited(1))
    assert [ask(client, server).status_code for _ in range(3)] == [429, 429, 429]
    server.set_default(None)
    assert ask(client, server).status_code == 200


def test_queued_faults_are_fifo_and_beat_the_default(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    server.set_default(Fault.html(502))
    server.fault(MODEL, Fault.status(500, {"error": "first"}))
    server.fault(MODEL, Fault.status(418, "second"))
    responses = [ask(client, server) for _ in range(3)]
    assert [r.status_code for r in responses] == [500, 418, 502]
    assert responses[0].json() == {"error": "first"}
    assert responses[1].text == "second"


def test_fault_for_another_model_does_not_leak(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    server.fault("other/model", Fault.drop())
    assert ask(client, server).status_code == 200


def test_status_fault_headers_override_content_type(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    fault = Fault.status(200, "[]", {"content-type": "application/json", "x-extra": "1"})
    server.fault(MODEL, fault)
    response = ask(client, server)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-extra"] == "1"
    assert response.json() == []


# -- broken answers -----------------------------------------------------------------------


def test_malformed_fault_is_truncated_json(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    server.fault(MODEL, Fault.malformed())
    response = ask(client, server)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == '[{"generated_text": "abc'
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_wrong_shape_fault(server: FakeInferenceServer, client: httpx.Client) -> None:
    server.fault(MODEL, Fault.wrong_shape())
    response = ask(client, server)
    assert response.status_code == 200
    assert response.json() == {"unexpected": True}


def test_empty_fault(server: FakeInferenceServer, client: httpx.Client) -> None:
    server.fault(MODEL, Fault.empty())
    response = ask(client, server)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"


def test_drop_fault_closes_without_answer(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    server.fault(MODEL, Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        ask(client, server)
    assert len(server.generation_requests()) == 1
    assert ask(client, server).status_code == 200, "the server keeps serving"


@pytest.mark.parametrize(
    ("code", "heading"),
    [
        pytest.param(502, "502 Bad Gateway", id="502"),
        pytest.param(504, "504 Gateway Timeout", id="504"),
    ],
)
def test_html_fault(
    server: FakeInferenceServer, client: httpx.Client, code: int, heading: str
) -> None:
    server.fault(MODEL, Fault.html(code))
    response = ask(client, server)
    assert response.status_code == code
    assert response.headers["content-type"] == "text/html"
    assert response.text == f"<html><body><h1>{heading}</h1></body></html>"


def test_delay_fault_answers_normally_afterwards(
    server: FakeInferenceServer, client: httpx.Client
) -> None:
    server.fault(MODEL, Fault.delay(0.2))
    started = time.monotonic()
    response = ask(client, server, {"max_new_tokens": 1, "return_full_text": False})
    assert time.monotonic() - started >= 0.2
    assert generated(response) == " one"


def test_active_counts_requests_in_flight(server: FakeInferenceServer) -> None:
    server.fault(MODEL, Fault.delay(0.5))
    worker = threading.Thread(target=lambda: httpx.post(server.url_for(MODEL), json={"inputs": ""}))
    worker.start()
    assert wait_until(lambda: server.active == 1)
    worker.join(timeout=5)
    assert server.active == 0


def test_client_leaving_during_delay_counts_as_closed_early(server: FakeInferenceServer) -> None:
    server.fault(MODEL, Fault.delay(5))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.url_for(MODEL), json={"inputs": ""}, timeout=0.2)
    assert wait_until(lambda: server.closed_early == 1 and server.active == 0)


def test_stop_does_not_hang_on_a_delayed_request() -> None:
    server = FakeInferenceServer({MODEL: FakeModel(WORDS)}).start()
    server.fault(MODEL, Fault.delay(30))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(server.url_for(MODEL), json={"inputs": ""}, timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    assert wait_until(lambda: server.active == 1)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(errors) == 1, "the delayed request gets no answer"


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = FakeInferenceServer({MODEL: FakeModel(WORDS)}).start()
    with httpx.Client(timeout=5) as client:
        assert ask(client, server).status_code == 200
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
        with pytest.raises(httpx.TransportError):
            ask(client, server)


# -- recording ----------------------------------------------------------------------------


def test_requests_are_recorded(server: FakeInferenceServer) -> None:
    body = {"inputs": "x", "parameters": {"max_new_tokens": 1}, "options": {"use_cache": False}}
    headers = {"Authorization": "Bearer hf_abc", "X-Custom": "yes"}
    with httpx.Client(timeout=5, headers=headers) as client:
        client.post(server.url_for(MODEL) + "?probe=1", json=body)
        client.get(server.url_for(MODEL))
        client.post(server.url_for(MODEL), content=b"plain text")
    first, second, third = server.requests
    assert (first.method, first.path, first.model) == ("POST", f"/models/{MODEL}?probe=1", MODEL)
    assert first.body == body
    assert first.headers["authorization"] == "Bearer hf_abc"
    assert first.headers["x-custom"] == "yes"
    assert first.headers["content-type"] == "application/json"
    assert all(name == name.lower() for name in first.headers)
    assert (second.method, second.model) == ("GET", MODEL)
    assert third.body == "plain text"
    assert server.generation_requests() == [first, third]


def test_add_model_at_runtime(server: FakeInferenceServer, client: httpx.Client) -> None:
    assert ask(client, server, model="org/new").status_code == 404
    server.add_model("org/new", FakeModel(" hi", loading_for=1))
    assert ask(client, server, model="org/new").status_code == 503
    assert generated(ask(client, server, inputs="", model="org/new")) == " hi"


def test_base_url_and_url_for(server: FakeInferenceServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.url_for(MODEL) == f"{server.base_url}/models/{MODEL}"


def wait_until(condition: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())
