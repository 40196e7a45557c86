"""End to end: a model no Inference Provider serves; the one message names models that are."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import Starter, inline, open_doc, shown, wait_for
from fake_listing import FakeListing
from fake_router import FakeRouter, entry

TOKEN = "hf_fakeRouterToken0123456789abcdef"
SOURCE = "def add(a, b):\n    \n"
MAPPINGS = {
    "org/unserved": [],
    "org/retired": [entry("featherless-ai", "featherless/retired", status="error")],
    "Qwen/Qwen2.5-Coder-7B": [entry("featherless-ai", "featherless/qwen-coder-7b")],
}
# from fake_listing's listings: live code models, FIM ones with a known family first
NAMED = ("bigcode/starcoder2-15b (fill-in-the-middle), Qwen/Qwen2.5-Coder-32B-Instruct "
         "(fill-in-the-middle), Qwen/Qwen2.5-Coder-7B (fill-in-the-middle), "
         "Qwen/Qwen3-Coder-480B-A35B-Instruct (chat)")


def through(router: FakeListing, model: str, **settings: Any) -> dict[str, Any]:
    return {"url": router.base_url, "hubUrl": router.base_url, "apiToken": TOKEN,
            "model": model, "debounce": {"enabled": False}, **settings}


def listings(router: FakeListing) -> list[str]:
    return [r.path for r in router.requests if r.path in ("/v1/models", "/api/models")]


@pytest.mark.parametrize(
    ("model", "said"),
    [
        ("org/unserved", "no Inference Provider serves org/unserved now"),
        ("org/retired", "no Inference Provider serves org/retired now (listed but not live"),
        ("org/missing", "the Hub has no model 'org/missing'"),
    ],
)
async def test_the_message_names_code_models_that_are_served(
    start: Starter, model: str, said: str
) -> None:
    with FakeRouter(mappings=MAPPINGS) as providers, \
            FakeListing(upstream=providers.base_url, provider="featherless-ai") as router:
        client = await start(through(router, model))
        uri = open_doc(client, SOURCE)

        for _ in range(3):
            assert await inline(client, uri, 1, 4) == []

        await wait_for(lambda: shown(client, said))
        await asyncio.sleep(0.1)
        (message,) = shown(client)  # one message, with the served models in it
        assert f"code models served now: {NAMED}" in message
        assert "`hf-lsp models` lists them all" in message
        assert providers.generation_requests() == []
        # each listing is read once, whatever the keystrokes
        assert sorted(listings(router)) == ["/api/models", "/v1/models"]


async def test_a_served_model_reads_no_listing(start: Starter) -> None:
    with FakeRouter(mappings=MAPPINGS) as providers, \
            FakeListing(upstream=providers.base_url, provider="featherless-ai") as router:
        client = await start(through(router, "Qwen/Qwen2.5-Coder-7B"))
        uri = open_doc(client, SOURCE)

        assert await inline(client, uri, 1, 4)

        assert "/api/models" not in listings(router) and shown(client) == []


async def test_unreadable_listings_leave_the_pointer_to_hf_lsp_models(start: Starter) -> None:
    with FakeRouter(mappings=MAPPINGS) as providers, \
            FakeListing(upstream=providers.base_url, provider="featherless-ai") as router:
        router.fail("/v1/models", 500, "Internal Server Error")
        router.fail("/api/models", 503, "Service Unavailable")
        client = await start(through(router, "org/unserved"))
        uri = open_doc(client, SOURCE)

        assert await inline(client, uri, 1, 4) == []

        await wait_for(lambda: shown(client, "no Inference Provider serves org/unserved"))
        (message,) = shown(client)
        assert "`hf-lsp models` lists the code models Inference Providers serve now" in message
        assert "code models served now:" not in message
