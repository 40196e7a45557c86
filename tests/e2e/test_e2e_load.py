"""Load: 8 documents typed into at once, each keystroke asking for a completion, against an
Inference API whose latency varies; then nothing leaks, memory stays flat, and a cache hit is
answered while slow misses hold every backend slot.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from conftest import MODEL, Starter, open_doc, wait_for
from hf_server import FakeInferenceServer, FakeModel, Fault
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

DOCUMENTS = 8
WARMUP = 5.0  # seconds before steady state: imports, the HTTP pool, the cache filling
STEADY = 25.0
KEYSTROKE = (0.05, 0.2)  # seconds between keystrokes: a fast typist
RSS_MARGIN_MIB = 15
SOURCE = "import os\n\n\ndef add(a, b):\n    \n"


class JitteryServer(FakeInferenceServer):
    """The loopback Inference API, answering after a random delay unless a fault is queued."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rng = random.Random(3)
        self.jitter = True

    def _take_fault(self, model: str | None) -> Fault | None:
        fault = super()._take_fault(model)
        if fault is None and self.jitter:
            roll = self.rng.random()
            seconds = (self.rng.uniform(0.01, 0.1) if roll < 0.7 else
                       self.rng.uniform(0.2, 0.5) if roll < 0.95 else self.rng.uniform(1, 1.5))
            return Fault.delay(seconds)
        return fault


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic),
    )


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


def count(done: asyncio.Future[Any], tally: dict[str, int]) -> None:
    error = None if done.cancelled() else done.exception()
    key = ("answered" if error is None else
           "cancelled" if isinstance(error, JsonRpcRequestCancelled) else "failed")
    tally[key] += 1


async def typist(client: LanguageClient, uri: str, seed: int, until: float,
                 tally: dict[str, int]) -> None:
    """Type lines of code into the body of ``add``, asking for a completion at each key."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    line, column, version = 4, 4, 1
    pending: asyncio.Future[Any] | None = None
    msg_id = ""
    n = 0
    while loop.time() < until:
        version += 1
        n += 1
        if rng.random() < 0.1:  # Enter: a new indented line
            text, line, column = "\n    ", line + 1, 4
        else:
            text = rng.choice("abcdefxyz_ (),=+1")
            column += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line, column - len(text.lstrip("\n"))),
                                  end=types.Position(line, column - len(text.lstrip("\n")))),
                text=text)]))
        if pending is not None and not pending.done():
            client.cancel_request(types.CancelParams(id=msg_id))  # as editors do
        msg_id = f"{uri}#{n}"
        pending = asyncio.ensure_future(client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params(uri, line, column), msg_id=msg_id))
        pending.add_done_callback(lambda f: count(f, tally))
        tally["requests"] += 1
        await asyncio.sleep(rng.uniform(*KEYSTROKE))
    if pending is not None:
        try:
            await asyncio.wait_for(pending, 10)
        except JsonRpcRequestCancelled:
            pass


async def test_typing_in_eight_documents_leaks_nothing(start: Starter) -> None:
    with JitteryServer({MODEL: FakeModel("return a + b\n")}) as hf:
        client = await start({"url": hf.api_url, "context": {"includeFilePath": False},
                              "rateLimit": {"requestsPerMinute": 0}})
        assert client._server is not None
        pid = client._server.pid
        uris = [open_doc(client, SOURCE, uri=f"file:///load/doc{i}.py")
                for i in range(DOCUMENTS)]
        await status(client)
        idle = await status(client)
        loop = asyncio.get_running_loop()
        tally = {"requests": 0, "answered": 0, "cancelled": 0, "failed": 0}
        began = loop.time()
        typing = [asyncio.ensure_future(typist(client, uri, seed, began + WARMUP + STEADY,
                                               tally))
                  for seed, uri in enumerate(uris)]
        await asyncio.sleep(WARMUP)
        rss_start = rss_kib(pid)
        await asyncio.gather(*typing)
        rss_end = rss_kib(pid)

        # quiet again: no task, request, backend call or HTTP request left behind
        await wait_for(lambda: hf.active == 0, timeout=10)
        deadline = loop.time() + 5
        while True:
            now = await status(client)
            if (now.tasks, now.pendingRequests, now.inFlight) == (
                    idle.tasks, idle.pendingRequests, 0):
                break
            assert loop.time() < deadline, (now, idle)
            await asyncio.sleep(0.05)
        open_connections = len(hf._connections)
        grown = (rss_end - rss_start) / 1024
        print(f"\nload: {tally}, {len(hf.generation_requests())} HTTP requests, "
              f"{now.cacheHits} cache hits, RSS {rss_start // 1024} -> {rss_end // 1024} MiB, "
              f"{open_connections} connections open")
        assert tally["requests"] > DOCUMENTS * (WARMUP + STEADY) / 0.25
        # every request got its answer: a completion (maybe empty) or "cancelled"
        assert tally["failed"] == 0
        assert tally["answered"] + tally["cancelled"] == tally["requests"]
        assert tally["answered"] > DOCUMENTS
        assert open_connections <= 4  # the client's keep-alive pool, not one per request
        assert grown < RSS_MARGIN_MIB, f"RSS grew {grown:.1f} MiB in steady state"

        await a_cache_hit_does_not_wait_behind_slow_misses(client, hf)


async def a_cache_hit_does_not_wait_behind_slow_misses(
    client: LanguageClient, hf: JitteryServer
) -> None:
    hf.jitter = False
    uri = open_doc(client, "def mul(a, b):\n    \n", uri="file:///load/cached.py")
    # every document is open before the first request: other open documents are part of a
    # prompt (cross-file context), so opening one later would make the hit a different request
    misses = [open_doc(client, f"def slow{i}(a, b):\n    \n", uri=f"file:///load/slow{i}.py")
              for i in range(2)]
    first = await client.text_document_inline_completion_async(params(uri, 1, 4))
    assert isinstance(first, types.InlineCompletionList) and first.items
    # two slow misses take both backend slots (rateLimit.maxConcurrent is 2)
    for _ in range(2):
        hf.fault(MODEL, Fault.delay(3))
    slow = [asyncio.ensure_future(client.text_document_inline_completion_async(params(u, 1, 4)))
            for u in misses]
    await wait_for(lambda: hf.active == 2)
    started = time.monotonic()
    hit = await client.text_document_inline_completion_async(params(uri, 1, 4))
    took = time.monotonic() - started
    assert not any(s.done() for s in slow), "the hit was answered after the slow misses"
    assert isinstance(hit, types.InlineCompletionList)
    # the same suggestion (each item has its own acceptance id)
    assert [(i.insert_text, i.range) for i in hit.items] == [
        (i.insert_text, i.range) for i in first.items
    ]
    assert took < 1.0
    await asyncio.gather(*slow)
