"""End to end: how hf-lsp meets every way the Inference API can fail."""

from __future__ import annotations

import asyncio

import pytest
from conftest import MODEL, TOKEN, Starter, inline, logged, open_doc, shown, wait_for
from hf_server import FakeInferenceServer, FakeModel, Fault
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

SOURCE = "def add(a, b):\n    \n"


async def test_loading_model_is_retried_with_wait_for_model(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.add_model("org/cold", FakeModel("return a + b\n", loading_for=5, estimated_time=12.5))
    client = await start({"url": hf.api_url, "model": "org/cold"})
    uri = open_doc(client, SOURCE)

    items = await inline(client, uri, 1, 4)

    assert [i.insert_text for i in items] == ["return a + b"]
    first, second = hf.generation_requests()
    assert first.body["options"]["wait_for_model"] is False
    assert second.body["options"]["wait_for_model"] is True
    assert second.body["inputs"] == first.body["inputs"]
    await wait_for(lambda: logged(client, "is loading (estimated 12 s)"))
    assert shown(client) == []  # loading is not the user's problem


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        pytest.param(Fault.status(401, {"error": "Invalid credentials in Authorization header"}),
                     "invalid or missing token", id="401"),
        pytest.param(Fault.status(403, {"error": "You don't have access to this model"}),
                     "invalid or missing token", id="403"),
        pytest.param(Fault.status(404, {"error": "Model org/missing does not exist"}),
                     "model not found", id="404"),
    ],
)
async def test_user_actionable_errors_are_shown_once_with_the_body(
    start: Starter, hf: FakeInferenceServer, fault: Fault, cause: str
) -> None:
    hf.set_default(fault)
    client = await start({"url": hf.api_url, "apiToken": TOKEN})
    uri = open_doc(client, SOURCE)

    for _ in range(3):
        assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, cause))
    await asyncio.sleep(0.1)
    (message,) = shown(client)
    body_error = fault.body.decode()
    assert "Invalid credentials" in message or "access" in message or "does not exist" in message
    assert len(hf.generation_requests()) == 3
    assert any(body_error.split('"')[3] in m for m in logged(client, cause))
    assert TOKEN not in message


async def test_rate_limit_honours_retry_after_without_a_popup(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.rate_limited(retry_after=30))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4) == []
    assert await inline(client, uri, 1, 4) == []  # inside the Retry-After window: no call

    assert len(hf.generation_requests()) == 1
    await wait_for(lambda: logged(client, "rate limiting (429: Rate limit reached"))
    assert shown(client) == []


async def test_short_retry_after_is_retried_at_once(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.rate_limited(retry_after=0.2))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
    assert len(hf.generation_requests()) == 2


async def test_bad_request_shows_the_servers_own_text(
    start: Starter, hf: FakeInferenceServer
) -> None:
    text = "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192"
    hf.fault(MODEL, Fault.status(422, {"error": text, "error_type": "validation"}))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4) == []
    await wait_for(lambda: shown(client, text))
    assert logged(client, text)


async def test_parameters_the_model_rejects_are_dropped_and_remembered(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.add_model("org/plain", FakeModel("return a + b\n", rejected_parameters=frozenset({"stop"})))
    client = await start({"url": hf.api_url, "model": "org/plain"})
    uri = open_doc(client, SOURCE)

    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
    open_doc(client, "def sub(a, b):\n    \n", uri="file:///work/other.py")
    await inline(client, "file:///work/other.py", 1, 4)

    sent = hf.generation_requests()
    assert [("stop" in r.body["parameters"]) for r in sent] == [True, False, False]
    assert shown(client) == []


@pytest.mark.parametrize(
    ("fault", "expected_log"),
    [
        pytest.param(Fault.malformed(), '[{"generated_text": "abc', id="malformed-json"),
        pytest.param(Fault.wrong_shape(), '{"unexpected": true}', id="wrong-shape"),
        pytest.param(Fault.empty(), "empty body", id="empty-body"),
        pytest.param(Fault.drop(), "no answer from", id="dropped-connection"),
        pytest.param(Fault.html(502), "HTML page", id="proxy-502-html"),
        pytest.param(Fault.status(500, {"error": "CUDA out of memory"}), "CUDA out of memory",
                     id="500"),
    ],
)
async def test_broken_answers_are_logged_and_the_server_carries_on(
    start: Starter, hf: FakeInferenceServer, fault: Fault, expected_log: str
) -> None:
    hf.fault(MODEL, fault)
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4) == []
    await wait_for(lambda: logged(client, expected_log))
    # the next request goes through: nothing was cached, the server is alive
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]


async def test_timeout_answers_empty_within_the_deadline(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.delay(10))
    client = await start({"url": hf.api_url, "requestTimeout": 0.5})
    uri = open_doc(client, SOURCE)

    started = asyncio.get_running_loop().time()
    assert await inline(client, uri, 1, 4) == []
    assert asyncio.get_running_loop().time() - started < 5
    await wait_for(lambda: logged(client, "did not answer in time"))
    assert shown(client) == []


async def test_connection_refused_is_shown_once(start: Starter) -> None:
    client = await start({"url": "http://127.0.0.1:9/models/x/y"})  # port 9: nothing listens
    uri = open_doc(client, SOURCE)

    for _ in range(2):
        assert await inline(client, uri, 1, 4) == []
    await wait_for(lambda: shown(client, "no answer from http://127.0.0.1:9"))
    await asyncio.sleep(0.1)
    assert len(shown(client)) == 1


async def test_cancelling_a_request_closes_its_http_call(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.delay(10))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=1, character=4),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
    )
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="to-cancel"
        )
    )
    await wait_for(lambda: hf.active == 1)
    client.cancel_request(types.CancelParams(id="to-cancel"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(pending, 5)
    await wait_for(lambda: hf.active == 0 and hf.closed_early == 1)
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
