"""End to end: the `huggingface` backend through Inference Providers (the fake router)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from actions_support import Editor, titled
from conftest import Starter, clean_env, inline, logged, open_doc, shown, wait_for
from fake_router import FakeRouter, entry
from hf_server import Fault
from lsprotocol import types
from pytest_lsp import LanguageClient

from hf_lsp.completion.chat_fim import HEADROOM, ROLE_TOKENS

TOKEN = "hf_fakeRouterToken0123456789abcdef"
CODER = "Qwen/Qwen2.5-Coder-7B"
INSTRUCT = "Qwen/Qwen2.5-Coder-32B-Instruct"
SOURCE = "def add(a, b):\n    \n"
MAPPINGS = {
    CODER: [entry("featherless-ai", "featherless/qwen-coder-7b"),
            entry("together", "together/qwen-coder-7b"),
            entry("deepinfra", "deepinfra/qwen-coder-7b"),
            entry("novita", "novita/qwen-coder-7b")],
    INSTRUCT: [entry("featherless-ai", "featherless/instruct", status="error"),
               entry("nscale", "nscale/qwen-instruct", task="conversational")],
    "org/small": [entry("hf-inference", "org/small")],
    "org/unserved": [],
    "deepseek-ai/DeepSeek-V3": [entry("nscale", "nscale/deepseek-v3", task="conversational")],
}
QUIET = {"debounce": {"enabled": False}}


@pytest.fixture
def router() -> Iterator[FakeRouter]:
    with FakeRouter(mappings=MAPPINGS) as server:
        yield server


def via(router: FakeRouter, **settings: Any) -> dict[str, Any]:
    return {"url": router.base_url, "hubUrl": router.base_url, "apiToken": TOKEN,
            "model": CODER, **QUIET, **settings}


def sent(router: FakeRouter) -> list[Any]:
    return router.generation_requests()


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


async def test_auto_takes_the_first_live_text_generation_provider(
    start: Starter, router: FakeRouter
) -> None:
    client = await start(via(router, maxNewTokens={"blockOpener": 77}))
    uri = open_doc(client, SOURCE)

    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
    open_doc(client, "def sub(a, b):\n    \n", uri="file:///work/other.py")
    assert await inline(client, "file:///work/other.py", 1, 4)

    first = sent(router)[0]
    assert first.path == "/featherless-ai/v1/completions"
    body = first.body
    assert body["model"] == "featherless/qwen-coder-7b"
    assert body["prompt"].startswith("<|fim_prefix|>") and "<|fim_suffix|>" in body["prompt"]
    assert body["prompt"].endswith("<|fim_middle|>")
    assert "suffix" not in body and body["max_tokens"] == 77 and body["stream"] is True
    assert "<|endoftext|>" in body["stop"]
    assert len(router.mapping_requests()) == 1  # once per model
    assert router.mapping_requests()[0].headers["authorization"] == f"Bearer {TOKEN}"
    provider = (await status(client)).provider
    assert (provider.name, provider.kind) == ("featherless-ai", "raw")


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("together", "/together/v1/completions"),
        ("deepinfra", "/deepinfra/v1/openai/completions"),
        ("novita", "/novita/v3/openai/completions"),
    ],
)
async def test_a_configured_provider_gets_its_route(
    start: Starter, router: FakeRouter, provider: str, path: str
) -> None:
    router.list_shape = True  # the mapping as a list this time
    client = await start(via(router, provider=provider,
                             parameters={"num_return_sequences": 2}))
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4)

    (request,) = sent(router)
    assert request.path == path
    assert request.body["model"] == f"{provider}/qwen-coder-7b"
    assert request.body["n"] == 2


async def test_hf_inference_keeps_the_serverless_body(start: Starter, router: FakeRouter) -> None:
    client = await start(via(router, model="org/small"))
    uri = open_doc(client, SOURCE)

    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]

    (request,) = sent(router)
    assert request.path == "/hf-inference/models/org/small"
    assert set(request.body) >= {"inputs", "parameters"}
    assert request.body["parameters"]["max_new_tokens"] <= 250


async def test_a_chat_only_model_goes_through_chat_with_its_provider(
    start: Starter, router: FakeRouter
) -> None:
    client = await start(via(router, model=INSTRUCT, maxNewTokens={"blockOpener": 55}))
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4)

    (request,) = sent(router)
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == f"{INSTRUCT}:nscale"
    assert request.body["max_tokens"] == 55 + HEADROOM  # room for a fence and a sentence
    assert request.body["messages"]


async def test_a_policy_needs_no_lookup(start: Starter, router: FakeRouter) -> None:
    client = await start(via(router, model=INSTRUCT, provider="fastest"))
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4)

    (request,) = sent(router)
    assert request.body["model"] == f"{INSTRUCT}:fastest"
    assert router.mapping_requests() == []


async def test_a_provider_that_does_not_serve_the_model_is_named_once(
    start: Starter, router: FakeRouter
) -> None:
    client = await start(via(router, provider="cerebras"))
    uri = open_doc(client, SOURCE)

    for _ in range(3):
        assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, "does not serve"))
    await asyncio.sleep(0.1)
    (message,) = shown(client)
    assert "'cerebras'" in message and "featherless-ai (text-generation)" in message
    assert sent(router) == [] and len(router.mapping_requests()) == 1


async def test_no_token_sends_nothing_and_says_where_to_put_one(
    start: Starter, router: FakeRouter
) -> None:
    settings = via(router)
    del settings["apiToken"]
    client = await start(settings)
    uri = open_doc(client, SOURCE)

    for _ in range(2):
        assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, "token is needed"))
    await asyncio.sleep(0.1)
    (message,) = shown(client)
    assert "$HF_TOKEN" in message and "Make calls to Inference Providers" in message
    assert "huggingface.co/settings/tokens" in message and "nothing was sent" in message
    assert router.requests == []

    # a token arrives in the settings: completions resume without a restart
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"hfLsp": {"apiToken": TOKEN}}))
    await wait_for(lambda: len(logged(client, "settings applied")) >= 2)
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]


@pytest.mark.parametrize(
    ("fault", "words", "body"),
    [
        pytest.param("token", "invalid, expired or revoked",
                     "Invalid credentials in Authorization header", id="401"),
        pytest.param("permission", 'tick "Make calls to Inference Providers"',
                     "does not have sufficient permissions", id="403"),
        pytest.param("credits", "huggingface.co/settings/billing",
                     "You have depleted your monthly included credits", id="402"),
    ],
)
async def test_account_errors_say_what_to_do_once_and_completions_resume(
    start: Starter, router: FakeRouter, fault: str, words: str, body: str
) -> None:
    wrong = "hf_anotherTokenValue0123456789abcd"
    if fault == "permission":
        router.permission = False
    elif fault == "credits":
        router.credits = False
    client = await start(via(router, apiToken=wrong if fault == "token" else TOKEN))
    uri = open_doc(client, SOURCE)

    for _ in range(3):
        assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, words))
    await asyncio.sleep(0.1)
    (message,) = shown(client)
    assert body in message and TOKEN not in message and wrong not in message
    assert any(body in m for m in logged(client, words))

    if fault == "token":  # a new token in the settings
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"hfLsp": {"apiToken": TOKEN}}))
        await wait_for(lambda: len(logged(client, "settings applied")) >= 2)
    router.permission, router.credits = True, True  # permission granted, credits bought
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]


async def test_not_supported_refreshes_the_mapping_and_names_who_serves_it(
    start: Starter, router: FakeRouter
) -> None:
    client = await start(via(router, provider="featherless-ai"))
    uri = open_doc(client, SOURCE)
    assert await inline(client, uri, 1, 4)
    # featherless-ai stops serving it; the Hub now lists together first
    router.mappings[CODER] = [entry("together", "together/qwen-coder-7b")]
    open_doc(client, "def sub(a, b):\n    \n", uri="file:///work/other.py")

    assert await inline(client, "file:///work/other.py", 1, 4) == []

    await wait_for(lambda: shown(client, "does not serve"))
    (message,) = shown(client)
    assert "Model not supported by provider featherless-ai" in message
    assert "together (text-generation)" in message
    assert len(router.mapping_requests()) == 2  # looked up again after the answer


async def test_a_model_no_provider_serves(start: Starter, router: FakeRouter) -> None:
    client = await start(via(router, model="org/unserved"))
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, "no Inference Provider serves org/unserved"))
    assert "hf-lsp models" in shown(client)[0]
    assert sent(router) == []


async def test_a_failed_lookup_is_not_retried_per_keystroke(
    start: Starter, router: FakeRouter
) -> None:
    client = await start(via(router, model="org/missing"))
    uri = open_doc(client, SOURCE)

    for _ in range(3):
        assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, "the Hub has no model 'org/missing'"))
    assert len(router.mapping_requests()) == 1


def test_complete_without_a_token_says_so_at_once(tmp_path: Path) -> None:
    source = tmp_path / "demo.py"
    source.write_text(SOURCE)
    started = time.monotonic()
    out = subprocess.run(
        # the real router's address: nothing may be sent there
        [sys.executable, "-m", "hf_lsp", "complete", f"{source}:2:5"],
        capture_output=True, text=True, timeout=60, env=clean_env(tmp_path),
    )
    assert out.returncode == 1
    assert "a Hugging Face token is needed for Inference Providers" in out.stderr
    assert str(tmp_path / ".cache" / "huggingface" / "token") in out.stderr
    assert "Make calls to Inference Providers" in out.stderr
    assert "no answer from" not in out.stderr and time.monotonic() - started < 30


def test_check_prints_the_route(tmp_path: Path, router: FakeRouter) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hf_lsp", "check", "--url", router.base_url, "--model", CODER],
        capture_output=True, text=True, timeout=60,
        env=clean_env(tmp_path, HF_TOKEN=TOKEN, HF_ENDPOINT=router.base_url),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "provider  auto" in out.stdout
    assert (f"route     featherless-ai: POST {router.base_url}/featherless-ai/v1/completions "
            "(model featherless/qwen-coder-7b") in out.stdout
    assert TOKEN not in out.stdout


async def test_a_token_written_to_the_login_file_is_taken_up(
    start: Starter, router: FakeRouter, tmp_path: Path
) -> None:
    settings = via(router)
    del settings["apiToken"]
    client = await start(settings)
    uri = open_doc(client, SOURCE)
    assert await inline(client, uri, 1, 4) == []
    await wait_for(lambda: shown(client, "token is needed"))

    login = tmp_path / ".cache" / "huggingface" / "token"  # the server's HOME is tmp_path
    login.parent.mkdir(parents=True)
    login.write_text(TOKEN + "\n")

    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
    assert router.generation_requests()[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_the_legacy_host_goes_to_the_router_with_one_notice(start: Starter) -> None:
    # no token here: the router (the real one) is not asked, and nothing goes to the old host
    client = await start({"url": "https://api-inference.huggingface.co", **QUIET})
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4) == []
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"hfLsp": {"requestTimeout": 20}}))
    await wait_for(lambda: len(logged(client, "settings applied")) >= 2)

    await wait_for(lambda: shown(client, "token is needed"))
    (notice,) = shown(client, "retired serverless Inference API")
    assert "https://router.huggingface.co" in notice and "410" in notice
    assert logged(client, "endpoint https://router.huggingface.co,")


async def test_a_410_from_the_old_api_says_the_router_replaces_it(
    start: Starter, router: FakeRouter
) -> None:
    router.legacy = True  # a proxy of the retired host
    client = await start({"url": router.base_url + "/models/{model}", "model": CODER, **QUIET})
    uri = open_doc(client, SOURCE)

    for _ in range(2):
        assert await inline(client, uri, 1, 4) == []

    await wait_for(lambda: shown(client, "is retired"))
    await asyncio.sleep(0.1)
    (message,) = shown(client)
    assert "https://router.huggingface.co" in message and "410" in message


async def test_a_deployment_starting_from_zero_is_waited_for(
    start: Starter, router: FakeRouter
) -> None:
    router.fault(Fault.status(503, {"error": "Service Unavailable: the endpoint is scaling up"}))
    client = await start(via(router, stream=False))
    uri = open_doc(client, SOURCE)

    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]

    assert len(sent(router)) == 2
    assert logged(client, "featherless-ai is starting (503): waiting 2 s more")
    assert shown(client) == []


async def test_the_lookup_starts_before_the_first_keystroke(
    start: Starter, router: FakeRouter
) -> None:
    client = await start(via(router))
    await wait_for(lambda: router.mapping_requests())
    uri = open_doc(client, SOURCE)

    assert await inline(client, uri, 1, 4)
    assert len(router.mapping_requests()) == 1


async def test_a_chat_only_model_gets_the_chat_prompts_budget_and_files(
    start: Starter, router: FakeRouter
) -> None:
    """Once the mapping says chat, the engine builds the chat prompt, not a FIM prompt."""
    client = await start(via(router, model=INSTRUCT,
                             tokens={"contextWindow": 600, "charsPerToken": 4.0},
                             context={"maxPrefixChars": 100000, "maxPrefixLines": 100000},
                             crossFile={"minSimilarity": 0.01}))
    await wait_for(lambda: router.mapping_requests())
    await asyncio.sleep(0.2)  # the mapping is read and kept
    open_doc(client, "class Invoice:\n    def total_amount(self, items):\n"
             "        return sum(items)\n", uri="file:///work/lib/invoice.py")
    text = ("".join(f"value_{i} = compute({i})\n" for i in range(2000))
            + "inv = Invoice()\ninv.total_amount(")
    uri = open_doc(client, text, uri="file:///work/app.py")

    await inline(client, uri, 2001, 17)

    (request,) = sent(router)
    assert request.path == "/v1/chat/completions"
    body = request.body
    user = body["messages"][-1]["content"]
    assert "<|fim_prefix|>" not in user and "<|file_sep|>" not in user
    assert "# Path: /work/lib/invoice.py" in user and "def total_amount" in user
    used = sum(len(m["content"]) for m in body["messages"]) / 4.0 + ROLE_TOKENS
    assert used + body["max_tokens"] <= 600  # max_tokens holds the answer's head room
    assert len(user) > 600  # most of the window still holds code


async def test_a_code_action_on_a_chat_only_model_asks_through_chat(
    start: Starter, router: FakeRouter
) -> None:
    """`auto` picks chat for a model served only as chat, whatever its name looks like."""
    client = await start(via(router, model="deepseek-ai/DeepSeek-V3"))
    await wait_for(lambda: router.mapping_requests())
    await asyncio.sleep(0.2)
    editor = Editor(client)
    uri = editor.open("def mul(a, b):\n    \"\"\"Multiply two numbers.\"\"\"\n    pass\n")

    result = await editor.run(titled(await editor.actions(uri, 2, 4), "Implement"))

    assert result["mode"] == "chat"
    (request,) = sent(router)
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "deepseek-ai/DeepSeek-V3"
    assert request.body["messages"][-1]["content"].startswith("Implement this python function.")
