"""End to end: limits never answer an invoked request with nothing, and say what holds it.

No cap of hf-lsp's own by default; the server's 429 is waited out by an invoked request and
drops automatic ones (counted in ``hfLsp/status`` and logged once per burst).
"""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import MODEL, Starter, logged, open_doc, shown, wait_for
from hf_server import FakeInferenceServer, Fault
from lsprotocol import types
from pytest_lsp import LanguageClient

SOURCE = "def add(a, b):\n    \n"


async def ask(client: LanguageClient, uri: str, line: int, character: int, *,
              invoked: bool = True) -> list[str]:
    kind = (types.InlineCompletionTriggerKind.Invoked if invoked
            else types.InlineCompletionTriggerKind.Automatic)
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )
    if result is None:
        return []
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return [str(i.insert_text) for i in items]


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


async def test_120_invoked_completions_in_a_minute_all_get_an_answer(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url})  # the default backend, huggingface
    uris = [open_doc(client, f"# file {i}\ndef add(a, b):\n    \n", uri=f"file:///work/f{i}.py")
            for i in range(120)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    answers = [await ask(client, uri, 2, 4) for uri in uris]
    assert loop.time() - started < 60
    empty = [i for i, texts in enumerate(answers) if texts != ["return a + b"]]
    assert empty == []
    assert len(hf.generation_requests()) == 120
    figures = await status(client)
    assert figures.dropped == 0 and figures.errors == 0


async def test_an_invoked_request_waits_out_a_429_and_the_status_says_so(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.rate_limited(retry_after=2))
    hf.fault(MODEL, Fault.rate_limited(retry_after=2))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    asked = asyncio.ensure_future(ask(client, uri, 1, 4))
    # the fake records the request before it answers: wait for hf-lsp to have read the 429
    await wait_for(lambda: logged(client, "rate limited, retrying in 2 s"))
    assert len(hf.generation_requests()) == 1
    figures = await status(client)
    assert figures.rateLimited == "rate limited, retrying in 2 s"
    assert await asyncio.wait_for(asked, 15) == ["return a + b"]
    assert len(hf.generation_requests()) == 3  # two 429s, then the answer
    assert len(logged(client, "rate limited, retrying in 2 s")) == 1  # once, not per 429
    assert shown(client) == []
    figures = await status(client)
    assert figures.rateLimited is None and figures.errors == 0


async def test_a_429_without_retry_after_backs_off_and_an_invoked_request_retries(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.rate_limited())
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    assert await asyncio.wait_for(ask(client, uri, 1, 4), 15) == ["return a + b"]
    assert len(hf.generation_requests()) == 2
    (line,) = logged(client, "rate limited, retrying in")
    assert "429: Rate limit reached" in line


async def test_automatic_requests_are_dropped_during_a_backoff_counted_and_logged_once(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.rate_limited(retry_after=30))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    for i in range(4):
        assert await ask(client, uri, 1, 4 - i % 2, invoked=False) == []
    assert len(hf.generation_requests()) == 1  # the rest waited for no one: dropped
    figures = await status(client)
    assert figures.dropped == 3
    assert figures.rateLimited == "rate limited, retrying in 30 s"
    await wait_for(lambda: logged(client, "are dropped while a limit holds them"))
    assert len(logged(client, "are dropped while a limit holds them")) == 1
    assert len(logged(client, "429")) == 1
    assert shown(client) == []


async def test_a_configured_cap_drops_automatic_requests_but_an_invoked_one_waits(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, "rateLimit": {"maxConcurrent": 1, "maxWait": 0},
                          "requestTimeout": 10})
    uri = open_doc(client, SOURCE)
    other = open_doc(client, "def mul(a, b):\n    \n", uri="file:///work/other.py")
    hf.fault(MODEL, Fault.delay(1.0))

    slow = asyncio.ensure_future(ask(client, uri, 1, 4))
    await wait_for(lambda: hf.active == 1)
    assert await ask(client, other, 1, 4, invoked=False) == []  # the one slot is taken
    assert await ask(client, other, 1, 4) != []  # invoked: waits for the slot
    assert await slow == ["return a + b"]
    figures = await status(client)
    assert figures.dropped == 1 and figures.errors == 0
