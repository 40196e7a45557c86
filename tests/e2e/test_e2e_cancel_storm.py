"""A cancellation storm: 100 inline requests against a slow backend, each cancelled at a random
point (before the HTTP call, while connecting, while waiting, mid-stream). Afterwards every
HTTP request the backend saw was closed by hf-lsp, and the server holds no orphaned tasks.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from conftest import MODEL, Starter, open_doc, wait_for
from fake_backends import FakeBackend
from hf_server import FakeInferenceServer, FakeModel, Fault
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient
from test_e2e_backends import settings_for

REQUESTS = 100
WAVE = 20  # requests in flight at once
LATEST_CANCEL = 0.5  # seconds; the backend takes far longer than this to answer
LIMITS = {"rateLimit": {"requestsPerMinute": 0, "maxConcurrent": 64}, "cache": {"size": 0}}
SOURCE = "".join(f"def f{i}(a, b):\n    \n" for i in range(REQUESTS))


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


def open_docs(client: LanguageClient) -> list[str]:
    """One document per request: a newer request for the same document would cancel the older
    one itself (cancel-previous), and this storm is about the editor's own cancellations."""
    return [open_doc(client, SOURCE, uri=f"file:///work/storm{n}.py") for n in range(REQUESTS)]


async def storm(client: LanguageClient, uris: list[str], seed: int) -> list[str]:
    """Send and cancel; return how each request ended."""
    rng = random.Random(seed)
    outcomes: list[str] = []

    async def one(n: int) -> None:
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uris[n]),
            position=types.Position(line=2 * n + 1, character=4),  # one HTTP call each
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
        msg_id = f"storm-{n}"
        pending = asyncio.ensure_future(client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))
        await asyncio.sleep(rng.choice([0, 0.001, 0.01]) if n % 4 == 0
                            else rng.uniform(0, LATEST_CANCEL))
        client.cancel_request(types.CancelParams(id=msg_id))
        try:
            await asyncio.wait_for(pending, 10)
            outcomes.append("answered")
        except JsonRpcRequestCancelled:
            outcomes.append("cancelled")

    for start in range(0, REQUESTS, WAVE):
        await asyncio.gather(*(one(n) for n in range(start, start + WAVE)))
    return outcomes


async def check_idle(client: LanguageClient, idle: Any) -> None:
    async def settled() -> bool:
        now = await status(client)
        # pendingRequests: pygls keeps one (done) entry per async built-in handler it ran
        # (initialize, initialized): the idle value, not 0
        return bool(now.tasks == idle.tasks and now.pendingRequests == idle.pendingRequests
                    and now.inFlight == 0)

    deadline = asyncio.get_running_loop().time() + 5
    while not await settled():
        assert asyncio.get_running_loop().time() < deadline, (await status(client), idle)
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("seed", [7])
async def test_cancelled_requests_close_their_http_calls_serverless(
    start: Starter, seed: int
) -> None:
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as hf:
        client = await start({"url": hf.api_url, **LIMITS})
        uri = open_doc(client, SOURCE)
        await status(client)
        idle = await status(client)
        hf.set_default(Fault.delay(3))

        outcomes = await storm(client, open_docs(client), seed)

        assert outcomes == ["cancelled"] * REQUESTS
        total = len(hf.generation_requests())
        assert total > REQUESTS // 2  # most were cancelled after their HTTP call started
        await wait_for(lambda: hf.active == 0 and hf.closed_early == total, timeout=10)
        await check_idle(client, idle)
        hf.set_default(None)
        answer = await client.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
        assert isinstance(answer, types.InlineCompletionList)
        assert [i.insert_text for i in answer.items] == ["return a + b"]
        await check_idle(client, idle)


async def test_cancelled_streams_are_closed(start: Starter) -> None:
    with FakeBackend("tgi", "x = 1\n" * 200, chunk_delay=0.05) as server:
        client = await start(settings_for(server, **LIMITS))
        await status(client)
        idle = await status(client)

        outcomes = await storm(client, open_docs(client), seed=11)

        assert outcomes == ["cancelled"] * REQUESTS
        total = len(server.generation_requests())
        assert total > REQUESTS // 2
        await wait_for(lambda: server.active == 0 and server.closed_early == total, timeout=10)
        await check_idle(client, idle)
