"""``hfLsp/status`` counts the session's tokens in and out, and their cost where priced."""

from __future__ import annotations

from typing import Any

from conftest import CONTINUATION, MODEL, Starter, inline, open_doc, wait_for
from fake_backends import FakeBackend
from fake_listing import FakeListing, offer, router_model
from fake_router import FakeRouter, entry
from hf_server import tokenize
from pytest_lsp import LanguageClient

SOURCE = "def add(a, b):\n    \n"
PRICE = (2.0, 8.0)  # USD per million tokens
ROUTER_TOKEN = "hf_fakeRouterToken0123456789abcdef"  # what FakeRouter expects
SERVED = {MODEL: [entry("featherless-ai", "featherless/coder")]}


async def status(client: LanguageClient) -> Any:
    return plain(await client.protocol.send_request_async("hfLsp/status", {}))


def plain(value: Any) -> Any:
    """pygls's answer objects as JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def through_router(router: FakeListing, **settings: Any) -> dict[str, Any]:
    """The default backend through a router (the listing fake in front of the router fake)."""
    return {"url": router.base_url, "hubUrl": router.base_url, "apiToken": ROUTER_TOKEN,
            "model": MODEL, **settings}


async def test_router_calls_are_counted_and_priced(start: Starter) -> None:
    priced = [router_model(MODEL, offer("featherless-ai", "live", 16384, PRICE))]
    with FakeRouter(CONTINUATION, mappings=SERVED) as providers, \
            FakeListing(priced, [], upstream=providers.base_url,
                        provider="featherless-ai") as router:
        client = await start(through_router(router, context={"includeFilePath": False}))
        uri = open_doc(client, SOURCE)
        items = await inline(client, uri, 1, 4)
        assert items and items[0].insert_text.startswith("return a + b")
        (sent,) = providers.generation_requests()
        assert sent.path == "/featherless-ai/v1/completions"
        prompt_tokens = len(tokenize(sent.body["prompt"]))
        out_tokens = len(tokenize(CONTINUATION[: len(items[0].insert_text)]))
        figures = await wait_for_cost(client)
        assert figures["tokensIn"] == prompt_tokens and figures["tokensEstimated"] is False
        assert 0 < figures["tokensOut"] and figures["tokensOut"] >= out_tokens - 1
        cost = (prompt_tokens * PRICE[0] + figures["tokensOut"] * PRICE[1]) / 1e6
        assert abs(figures["costUsd"] - cost) < 1e-6
        assert figures["spend"].endswith(f"${cost:.4f}")
        assert figures["usage"] == [{
            "model": MODEL, "provider": "featherless-ai", "calls": 1,
            "tokensIn": prompt_tokens, "tokensOut": figures["tokensOut"],
            "estimatedIn": 0, "estimatedOut": 0,
        }]
        prices = [r for r in router.requests if r.path == "/v1/models"]
        assert len(prices) == 1  # once, in the background

        again = await inline(client, uri, 1, 4)  # a cache hit: no call, no tokens
        assert [i.insert_text for i in again] == [i.insert_text for i in items]
        later = await status(client)
        assert later["cacheHits"] >= 1 and len(providers.generation_requests()) == 1
        assert (later["tokensIn"], later["tokensOut"], later["costUsd"]) == (
            figures["tokensIn"], figures["tokensOut"], figures["costUsd"])
        assert len([r for r in router.requests if r.path == "/v1/models"]) == 1


async def wait_for_cost(client: LanguageClient) -> Any:
    latest: dict[str, Any] = {}

    async def poll() -> Any:
        latest.update(await status(client))
        return latest

    for _ in range(100):
        if (await poll()).get("costUsd") is not None:
            return latest
        await wait_for(lambda: True, 0.05)
    raise AssertionError(f"no cost in {latest}")


async def test_a_model_without_a_price_shows_no_cost(start: Starter) -> None:
    with FakeRouter(CONTINUATION, mappings=SERVED) as providers, \
            FakeListing([], [], upstream=providers.base_url) as router:
        client = await start(through_router(router))
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 1, 4)
        await wait_for(lambda: [r for r in router.requests if r.path == "/v1/models"])
        figures = await status(client)
    assert figures["tokensIn"] > 0 and figures["tokensOut"] > 0
    assert figures["costUsd"] is None and "$" not in figures["spend"]


async def test_a_local_server_streams_its_counts_and_is_never_priced(start: Starter) -> None:
    with FakeBackend("openai", "return a + b\n\ndef sub(a, b):\n    return a - b\n") as server:
        client = await start({"backend": "openai", "url": server.base_url + "/v1",
                              "model": "bigcode/starcoder2-3b", "stream": True})
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 1, 4)
        (sent,) = server.generation_requests()
        figures = await status(client)
    assert sent.body["stream_options"] == {"include_usage": True}
    assert figures["tokensIn"] > 0 and figures["tokensOut"] > 0
    assert figures["tokensEstimated"] is False  # the stream's last event counted them
    assert figures["costUsd"] is None and figures["usage"][0]["provider"] is None
