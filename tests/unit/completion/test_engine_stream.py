"""The engine's use of a streaming backend: early stop, broken streams, retries, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hf_lsp.completion.service import CompletionEngine
from hf_lsp.config.settings import parse_settings
from hf_lsp.errors import ServerError
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Limits
from hf_lsp.language.document import Document


class ScriptedBackend:
    """A backend that streams the given chunks and records what happened to the stream."""

    endpoint = "scripted://"
    max_new_tokens_cap: int | None = None

    def __init__(self, chunks: list[str], fail_after: int | None = None) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.sent = 0
        self.closed = False
        self.calls = 0

    async def generate(self, request: GenerationRequest, timeout: float | None = None
                       ) -> Generation:
        self.calls += 1
        return Generation(("".join(self.chunks),), "length")

    async def stream(self, request: GenerationRequest, timeout: float | None = None
                     ) -> AsyncIterator[Chunk]:
        self.calls += 1
        try:
            for i, text in enumerate(self.chunks):
                if self.fail_after is not None and i == self.fail_after:
                    raise ServerError("broken", status=200)
                self.sent += 1
                yield Chunk(text)
            yield Chunk("", "length")
        finally:
            self.closed = True

    async def limits(self) -> Limits | None:
        return None

    async def aclose(self) -> None:
        pass


def engine(backend: Any, **settings: Any) -> CompletionEngine:
    data = {"backend": "tgi", "context": {"includeFilePath": False}, **settings}
    return CompletionEngine(parse_settings(data), backend)


async def test_a_single_line_stream_is_closed_at_its_newline() -> None:
    backend = ScriptedBackend(["b", "\n", "x = 1\n", "y = 2\n", "z = 3\n"])
    outcome = await engine(backend).complete(Document("file:///a.py", "f(a, ) + c\n"), 0, 5)
    assert [c.text for c in outcome.completions] == ["b"]
    assert backend.sent == 2 and backend.closed


async def test_a_multi_line_stream_is_read_to_its_end() -> None:
    backend = ScriptedBackend(["return 1", "\n", "    ", "\n"])
    doc = Document("file:///a.py", "def f():\n    \n")
    outcome = await engine(backend).complete(doc, 1, 4)
    assert [c.text for c in outcome.completions] == ["return 1"]
    assert backend.sent == 4


@pytest.mark.parametrize(
    ("fail_after", "expected", "cached"),
    [
        pytest.param(1, ["return a"], False, id="after-some-text"),
        pytest.param(0, [], False, id="before-any-text"),
        pytest.param(None, ["return a + b"], True, id="complete"),
    ],
)
async def test_a_broken_stream_keeps_what_arrived_and_is_not_cached(
    fail_after: int | None, expected: list[str], cached: bool
) -> None:
    backend = ScriptedBackend(["return a", " + b"], fail_after=fail_after)
    e = engine(backend)
    doc = Document("file:///a.py", "def f(a, b):\n    \n")
    outcome = await e.complete(doc, 1, 4)
    assert [c.text for c in outcome.completions] == expected
    await e.complete(doc, 1, 4)
    assert backend.calls == (1 if cached else 2)


async def test_streaming_off_uses_one_answer() -> None:
    backend = ScriptedBackend(["return 1\n"])
    outcome = await engine(backend, stream=False).complete(
        Document("file:///a.py", "def f():\n    \n"), 1, 4)
    assert [c.text for c in outcome.completions] == ["return 1"]
    assert backend.sent == 0 and backend.calls == 1


class SlowClock:
    """A clock that moves on by ``step`` seconds every time the stream yields a chunk."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_trickling_stream_ends_within_the_request_timeout() -> None:
    clock = SlowClock()

    class Trickle(ScriptedBackend):
        async def stream(self, request: GenerationRequest, timeout: float | None = None
                         ) -> AsyncIterator[Chunk]:
            self.calls += 1
            try:
                for text in self.chunks:
                    clock.now += 0.6  # each chunk arrives just inside a per-read timeout
                    self.sent += 1
                    yield Chunk(text)
                yield Chunk("", "length")
            finally:
                self.closed = True

    backend = Trickle(["return a", " + b", " + c", " + d"])
    e = CompletionEngine(
        parse_settings({"backend": "tgi", "context": {"includeFilePath": False},
                        "requestTimeout": 1.0, "debounce": {"enabled": False}}),
        backend, clock=clock,
    )
    doc = Document("file:///a.py", "def f(a, b):\n    \n")
    outcome = await e.complete(doc, 1, 4)
    assert [c.text for c in outcome.completions] == ["return a + b"]  # what came in 1 s
    assert backend.sent == 2 and backend.closed
    await e.complete(doc, 1, 4)
    assert backend.calls == 2  # the cut answer was not cached
