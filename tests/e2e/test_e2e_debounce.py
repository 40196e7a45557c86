"""End to end: the debounce follows the typing (``didChange``), and never holds an invoked
request (``triggerKind`` Invoked), however the user types or how often they ask."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import Starter, open_doc, wait_for
from hf_server import FakeInferenceServer
from lsprotocol import types
from pytest_lsp import LanguageClient

LONG = "".join(f"def f{i}(a, b):\n    return a * {i}\n\n" for i in range(1666)) + \
    "def add(a, b):\n    \n"  # 5,000 lines
LAST = LONG.count("\n") - 1
SLOW = {"debounce": {"minMs": 2000, "maxMs": 5000}, "cache": {"size": 0}}


def asked(client: LanguageClient, uri: str, line: int, col: int, *, invoked: bool
          ) -> asyncio.Future[Any]:
    kind = (types.InlineCompletionTriggerKind.Invoked if invoked
            else types.InlineCompletionTriggerKind.Automatic)
    return asyncio.ensure_future(client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    ))


def typed(client: LanguageClient, uri: str, version: int, line: int, col: int, text: str
          ) -> None:
    at = types.Position(line=line, character=col)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=at, end=at), text=text)],
    ))


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


async def test_invoked_misses_on_a_long_file_reach_the_backend_without_a_hold(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, **SLOW})
    uri = open_doc(client, LONG)
    for i in range(5):  # invoked again and again, each time at a new cursor: all misses
        pending = asked(client, uri, LAST, 4 - i % 2 * 4, invoked=True)
        # the debounce would hold each for 2 s at least: the backend hears of it before that
        await wait_for(lambda i=i: len(hf.generation_requests()) == i + 1, timeout=1.5)
        await pending
    figures = await status(client)
    assert figures.debouncedMs == 0
    assert figures.backendCalls == 5


async def test_automatic_requests_are_still_held_and_an_invoked_one_ends_the_hold(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, **SLOW, "suggestions": {"invokedCount": 1}})
    uri = open_doc(client, LONG)
    await asked(client, uri, LAST - 1, 0, invoked=True)  # warm: the next one is launched at once
    automatic = asked(client, uri, LAST, 4, invoked=False)
    await asyncio.sleep(0.3)
    assert len(hf.generation_requests()) == 1  # held by the debounce
    invoked = asked(client, uri, LAST, 4, invoked=True)  # the same request, asked for
    await wait_for(lambda: len(hf.generation_requests()) == 2, timeout=1.5)
    first, second = await automatic, await invoked
    assert first.items and second.items
    assert len(hf.generation_requests()) == 2  # one call served both
    assert 0 < (await status(client)).debouncedMs < 2000  # the hold ended early


async def test_the_rhythm_comes_from_edits_not_from_requests(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, "cache": {"size": 0},
                          "debounce": {"minMs": 0, "maxMs": 5000}})
    uri = open_doc(client, "def add(a, b):\n    \n")
    for i in range(6):  # an editor re-asking at one cursor, without an edit between
        await asked(client, uri, 1, 4 - i % 2, invoked=False)
        await asyncio.sleep(0.15)
    assert (await status(client)).debouncedMs == 0  # no keystrokes: nothing to wait for
    for version in range(2, 8):  # now typing, a key every 150 ms
        typed(client, uri, version, 1, 4 + version - 2, "x")
        await asyncio.sleep(0.15)
    await asked(client, uri, 1, 10, invoked=False)
    assert (await status(client)).debouncedMs >= 150  # held about one keystroke's gap
