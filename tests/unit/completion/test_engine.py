"""The completion engine with a fake backend: typing-through, cancel-previous, debounce, budgets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from hf_lsp.completion.service import CompletionEngine
from hf_lsp.config.settings import parse_settings
from hf_lsp.generation.contract import Generation, GenerationRequest
from hf_lsp.language.document import Document

TEXT = "def add(a, b):\n    \n"


@dataclass
class FakeBackend:
    texts: tuple[str, ...] = ("return a + b",)
    hold: asyncio.Event | None = None
    requests: list[GenerationRequest] = field(default_factory=list)
    cancelled: int = 0
    endpoint: str = "fake"

    async def generate(self, request: GenerationRequest, timeout: float | None = None
                       ) -> Generation:
        self.requests.append(request)
        try:
            if self.hold is not None:
                await self.hold.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Generation(self.texts)

    async def aclose(self) -> None:
        return None


def engine(backend: FakeBackend, **settings: object) -> CompletionEngine:
    base = {"debounce": {"enabled": False}, "stream": False, **settings}  # answers whole
    return CompletionEngine(parse_settings(base), backend)


async def test_typing_through_needs_no_request_and_backspace_works() -> None:
    backend = FakeBackend()
    e = engine(backend)
    doc = Document("file:///a.py", TEXT, "python")
    first = await e.complete(doc, 1, 4)
    assert [c.text for c in first.completions] == ["return a + b"]
    doc.apply_change((1, 4), (1, 4), "ret")
    through = await e.complete(doc, 1, 7)
    assert through.typing_through and [c.text for c in through.completions] == ["urn a + b"]
    doc.apply_change((1, 6), (1, 7), "")
    back = await e.complete(doc, 1, 6)
    assert [c.text for c in back.completions] == ["turn a + b"]
    assert len(backend.requests) == 1
    assert e.status()["typingThroughHits"] == 2


async def test_a_suggestion_typed_out_in_full_asks_for_the_next() -> None:
    backend = FakeBackend(texts=("x",))
    e = engine(backend)
    doc = Document("file:///a.py", "y = \n", "python")
    await e.complete(doc, 0, 4)
    doc.apply_change((0, 4), (0, 4), "x")
    outcome = await e.complete(doc, 0, 5)
    assert not outcome.typing_through and len(backend.requests) == 2


async def test_typing_something_else_asks_again() -> None:
    backend = FakeBackend()
    e = engine(backend)
    doc = Document("file:///a.py", TEXT, "python")
    await e.complete(doc, 1, 4)
    doc.apply_change((1, 4), (1, 4), "x")
    await e.complete(doc, 1, 5)
    assert len(backend.requests) == 2


async def test_a_newer_request_cancels_the_older_call() -> None:
    hold = asyncio.Event()
    backend = FakeBackend(hold=hold)
    e = engine(backend)
    doc = Document("file:///a.py", "x = 1\ny = 2\n", "python")
    older = asyncio.ensure_future(e.complete(doc, 0, 5))
    await asyncio.sleep(0.05)
    assert len(backend.requests) == 1
    newer = asyncio.ensure_future(e.complete(doc, 1, 5))
    await asyncio.sleep(0.05)
    outcome = await older
    assert outcome.cancelled and outcome.completions == []
    assert backend.cancelled == 1
    hold.set()
    assert (await newer).completions
    assert e.status()["cancellations"] == 1


async def test_the_same_request_again_shares_the_call() -> None:
    hold = asyncio.Event()
    backend = FakeBackend(hold=hold)
    e = engine(backend)
    doc = Document("file:///a.py", TEXT, "python")
    a = asyncio.ensure_future(e.complete(doc, 1, 4))
    await asyncio.sleep(0.02)
    b = asyncio.ensure_future(e.complete(doc, 1, 4))
    await asyncio.sleep(0.02)
    hold.set()
    assert (await a).completions and (await b).completions
    assert backend.cancelled == 0 and len(backend.requests) == 1


async def test_debounce_holds_misses_only_and_a_newer_key_skips_the_call() -> None:
    backend = FakeBackend()
    e = CompletionEngine(
        parse_settings({"debounce": {"minMs": 200, "maxMs": 200}, "stream": False}), backend
    )
    doc = Document("file:///a.py", "x = 1\ny = 2\n", "python")
    older = asyncio.ensure_future(e.complete(doc, 0, 5))
    await asyncio.sleep(0.02)
    newer = await e.complete(doc, 1, 5)
    assert (await older).cancelled
    assert len(backend.requests) == 1 and newer.completions
    held = e.status()["debouncedMs"]
    again = await e.complete(doc, 1, 5)  # a cache hit: not held
    assert again.from_cache and e.status()["debouncedMs"] == held


async def test_invoked_asks_for_alternatives_without_the_api_cache() -> None:
    backend = FakeBackend(texts=("return a + b", "return a + b", "return b + a"))
    e = engine(backend)
    doc = Document("file:///a.py", TEXT, "python")
    outcome = await e.complete(doc, 1, 4, invoked=True)
    assert [c.text for c in outcome.completions] == ["return a + b", "return b + a"]
    sent = backend.requests[0]
    assert sent.parameters["num_return_sequences"] == 3 and sent.parameters["do_sample"]
    assert sent.options["use_cache"] is False


async def test_accept_and_shown_figures() -> None:
    e = engine(FakeBackend())
    doc = Document("file:///a.py", TEXT, "python")
    outcome = await e.complete(doc, 1, 4)
    (item,) = outcome.completions
    e.shown(item.id)
    e.shown(item.id)
    e.accepted(item.id)
    e.accepted("unknown")
    status = e.status()
    assert (status["shown"], status["accepted"], status["acceptRate"]) == (1, 1, 1.0)
    assert status["bySpot"]["block_opener"]["maxNewTokens"] == 160
    assert status["latencyP50Ms"] is not None


async def test_the_prompt_fits_the_context_window() -> None:
    backend = FakeBackend()
    e = engine(backend, model="bigcode/starcoder2-15b",
               tokens={"contextWindow": 300, "charsPerToken": 4.0},
               context={"maxPrefixChars": 100000, "maxPrefixLines": 100000})
    text = "".join(f"value_{i} = compute({i})\n" for i in range(2000)) + "result = "
    doc = Document("file:///big.py", text, "python")
    await e.complete(doc, 2000, 9)
    prompt = backend.requests[0].prompt
    max_new = backend.requests[0].parameters["max_new_tokens"]
    assert len(prompt) / 4.0 <= 300 - max_new + 1
    assert prompt.startswith("<fim_prefix>") and prompt.endswith("<fim_middle>")
    assert "result = <fim_suffix>" in prompt
    assert e.status()["lastPromptTokens"] <= 300 - max_new


@pytest.mark.parametrize(
    ("model", "marker"),
    [("bigcode/starcoder2-15b", "<file_sep>lib/invoice.py\n"),
     ("Qwen/Qwen2.5-Coder-7B", "<|repo_name|>proj\n<|file_sep|>lib/invoice.py\n"),
     ("codellama/CodeLlama-7b-hf", "# Path: lib/invoice.py\n")],
)
async def test_other_open_documents_join_the_prompt(model: str, marker: str) -> None:
    backend = FakeBackend()
    e = engine(backend, model=model)
    other = Document(
        "file:///lib/invoice.py",
        "class Invoice:\n    def total_amount(self, items):\n        return sum(items)\n",
        "python",
    )
    doc = Document("file:///app.py", "inv = Invoice()\ninv.total_amount(", "python")
    await e.complete(doc, 1, 17, "app.py", others=[doc, other], repo="proj")
    prompt = backend.requests[0].prompt
    assert marker in prompt
    assert "def total_amount" in prompt
    assert e.status()["crossFileSnippets"] == 1


async def test_the_backend_is_built_on_first_use() -> None:
    from hf_lsp.config.layered import Configuration, LazyBackend

    built: list[int] = []
    fake = FakeBackend()

    def build() -> FakeBackend:
        built.append(1)
        return fake

    lazy = LazyBackend(build, "http://x")
    assert lazy.endpoint == "http://x" and built == []
    await lazy.aclose()  # nothing built, nothing to close
    e = CompletionEngine(parse_settings({"debounce": {"enabled": False}, "stream": False}), lazy)
    doc = Document("file:///a.py", TEXT, "python")
    assert (await e.complete(doc, 1, 4)).completions
    assert built == [1] and len(fake.requests) == 1
    assert lazy.texts == fake.texts  # other attributes are the real backend's

    configuration = Configuration()
    assert isinstance(configuration.engine.backend, LazyBackend)
    configuration.warm()
    assert configuration.engine.backend._real is not None
    await configuration.aclose()


async def test_the_chat_engine_is_closed_when_replaced_and_at_shutdown() -> None:
    from hf_lsp.backends.chat import ChatBackend
    from hf_lsp.config.layered import Configuration

    configuration = Configuration(parse_settings({"backend": "ollama"}))
    first = configuration.chat_engine()
    assert configuration.chat_engine() is first  # built once, on first use
    assert isinstance(first.backend, ChatBackend)
    await configuration.update("push", {"actions": {"chatModel": "other"}})
    assert first.backend._client.is_closed
    second = configuration.chat_engine()
    assert second is not first and second.settings.model == "other"
    await configuration.update("pull", {})  # the same settings again: nothing rebuilt
    assert configuration.chat_engine() is second
    await configuration.aclose()
    assert second.backend._client.is_closed
