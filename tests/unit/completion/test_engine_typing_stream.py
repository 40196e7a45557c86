"""Typing through a suggestion that is still streaming: the engine adopts the call in flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import hf_lsp.completion.service as completion
from hf_lsp.completion.service import CompletionEngine, Outcome
from hf_lsp.config.settings import parse_settings
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Limits
from hf_lsp.language.document import Document

SOURCE = "def add(a, b):\n    \n"


class GatedStream:
    """A streaming backend whose chunks the test releases one at a time."""

    endpoint = "gated://"
    max_new_tokens_cap: int | None = None

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.gate: asyncio.Queue[None] = asyncio.Queue()
        self.calls = 0
        self.sent = 0
        self.closed = 0
        self.finished = 0

    def release(self, n: int = 1) -> None:
        for _ in range(n):
            self.gate.put_nowait(None)

    async def generate(self, request: GenerationRequest, timeout: float | None = None
                       ) -> Generation:
        raise AssertionError("the engine streams")

    async def stream(self, request: GenerationRequest, timeout: float | None = None
                     ) -> AsyncIterator[Chunk]:
        chunks = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        try:
            for text in chunks:
                await self.gate.get()
                self.sent += 1
                yield Chunk(text)
            yield Chunk("", "length")
            self.finished += 1
        finally:
            self.closed += 1

    async def limits(self) -> Limits | None:
        return None

    async def aclose(self) -> None:
        pass


def engine(backend: Any, **settings: Any) -> CompletionEngine:
    data = {"backend": "tgi", "context": {"includeFilePath": False},
            "debounce": {"enabled": False}, **settings}
    return CompletionEngine(parse_settings(data), backend)


async def until(predicate: Any, timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.001)


async def answer(task: asyncio.Task[Outcome]) -> Outcome:
    return await asyncio.wait_for(task, 2.0)


async def cancelled(task: asyncio.Task[Outcome]) -> None:
    """Cancel a request as the editor does, and let it go."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def cancelled_after_the_first_chunk(**settings: Any
                                         ) -> tuple[GatedStream, CompletionEngine, Document]:
    """A request whose stream has sent "return", cancelled by the editor."""
    backend = GatedStream(["return", " a + b", "\n"])
    e = engine(backend, **settings)
    doc = Document("file:///a.py", SOURCE, "python")
    first = asyncio.ensure_future(e.complete(doc, 1, 4))
    backend.release(1)
    await until(lambda: backend.sent == 1)
    await cancelled(first)
    return backend, e, doc


async def test_typing_what_is_streaming_answers_from_the_stream() -> None:
    backend = GatedStream(["return", " a", " + b", "\n"])
    e = engine(backend)
    doc = Document("file:///a.py", SOURCE, "python")
    first = asyncio.ensure_future(e.complete(doc, 1, 4))
    backend.release(1)  # "return" has arrived
    await until(lambda: backend.sent == 1)
    doc.apply_change((1, 4), (1, 4), "ret")
    await cancelled(first)  # the editor cancels on the keystroke, before asking again
    second = asyncio.ensure_future(e.complete(doc, 1, 7))
    backend.release(3)
    outcome = await answer(second)
    assert outcome.typing_through
    assert [c.text for c in outcome.completions] == ["urn a + b"]
    assert backend.calls == 1 and backend.finished == 1
    status = e.status()
    assert status["typingThroughStreams"] == 1 and status["typingThroughHits"] == 1
    # the suggestion is kept for the next keystroke, at its own cursor
    doc.apply_change((1, 7), (1, 7), "urn ")
    more = await e.complete(doc, 1, 11)
    assert [c.text for c in more.completions] == ["a + b"] and backend.calls == 1


async def test_a_keystroke_before_the_text_arrives_waits_for_it() -> None:
    backend = GatedStream(["return a + b", "\n"])
    e = engine(backend)
    doc = Document("file:///a.py", SOURCE, "python")
    first = asyncio.ensure_future(e.complete(doc, 1, 4))
    await until(lambda: backend.calls == 1)
    doc.apply_change((1, 4), (1, 4), "r")
    await cancelled(first)
    second = asyncio.ensure_future(e.complete(doc, 1, 5))
    await asyncio.sleep(0.01)
    assert not second.done()  # nothing to compare the keystroke with yet
    backend.release(2)
    outcome = await answer(second)
    assert [c.text for c in outcome.completions] == ["eturn a + b"]
    assert backend.calls == 1


async def test_typing_something_else_closes_the_stream_and_asks_again() -> None:
    backend = GatedStream(["return", " a + b", "\n"], ["x = 1", "\n"])
    e = engine(backend)
    doc = Document("file:///a.py", SOURCE, "python")
    first = asyncio.ensure_future(e.complete(doc, 1, 4))
    backend.release(1)
    await until(lambda: backend.sent == 1)
    doc.apply_change((1, 4), (1, 4), "pr")
    await cancelled(first)
    second = asyncio.ensure_future(e.complete(doc, 1, 6))
    await until(lambda: backend.calls == 2)
    assert backend.closed == 1  # the stream that said something else was closed at once
    backend.release(2)
    outcome = await answer(second)
    assert not outcome.typing_through
    assert e.status()["typingThroughStreams"] == 0


async def test_a_stream_the_user_stopped_typing_into_is_closed_after_a_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(completion, "ADOPT_GRACE", 0.05)
    backend, e, doc = await cancelled_after_the_first_chunk()
    await asyncio.sleep(0.01)
    assert backend.closed == 0  # still open for a keystroke that types through it
    await until(lambda: backend.closed == 1)
    assert backend.finished == 0 and e.cache.in_flight == 0


async def test_a_stream_that_ends_in_its_grace_is_kept_for_typing_through() -> None:
    backend, e, doc = await cancelled_after_the_first_chunk()
    backend.release(2)
    await until(lambda: backend.finished == 1)
    await asyncio.sleep(0)
    doc.apply_change((1, 4), (1, 4), "re")
    outcome = await e.complete(doc, 1, 6)
    assert outcome.typing_through and [c.text for c in outcome.completions] == ["turn a + b"]
    assert backend.calls == 1


async def test_a_request_still_in_its_debounce_is_not_adopted() -> None:
    backend = GatedStream(["return a + b", "\n"])
    e = engine(backend, debounce={"enabled": True, "minMs": 200, "maxMs": 200})
    doc = Document("file:///a.py", SOURCE, "python")
    first = asyncio.ensure_future(e.complete(doc, 1, 4))
    await asyncio.sleep(0.01)
    doc.apply_change((1, 4), (1, 4), "r")
    await cancelled(first)
    second = asyncio.ensure_future(e.complete(doc, 1, 5))
    await until(lambda: backend.calls == 1, timeout=3)
    backend.release(2)
    outcome = await answer(second)
    assert not outcome.typing_through and backend.calls == 1
    assert [c.text for c in outcome.completions] == ["return a + b"]


async def test_without_typing_through_a_cancelled_stream_closes_at_once() -> None:
    backend, _, _ = await cancelled_after_the_first_chunk(suggestions={"typingThrough": False})
    await until(lambda: backend.closed == 1, timeout=0.5)


async def test_the_same_request_twice_shares_one_stream_even_when_the_first_goes() -> None:
    backend = GatedStream(["return a + b", "\n"])
    e = engine(backend)
    doc = Document("file:///a.py", SOURCE, "python")
    first = asyncio.ensure_future(e.complete(doc, 1, 4))
    await until(lambda: backend.calls == 1)
    second = asyncio.ensure_future(e.complete(doc, 1, 4))
    await asyncio.sleep(0.01)
    await cancelled(first)
    backend.release(2)
    outcome = await answer(second)
    assert [c.text for c in outcome.completions] == ["return a + b"]
    assert backend.calls == 1 and backend.closed == 1 and backend.finished == 1
