"""End to end: settings from every source, validated, applied without a restart."""

from __future__ import annotations

import asyncio

import pytest
from conftest import MODEL, Starter, inline, logged, open_doc, shown, wait_for
from hf_server import FakeInferenceServer, FakeModel
from lsprotocol import types

SOURCE = "def add(a, b):\n    \n"


def did_change_configuration(client, settings) -> None:  # type: ignore[no-untyped-def]
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings=settings)
    )


async def test_parameters_and_options_are_sent_with_their_wire_names(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start(
        {
            "url": hf.api_url,
            "parameters": {"temperature": 0.7, "top_k": 40, "top_p": 0.9,
                           "repetition_penalty": 1.1, "max_time": 5, "do_sample": True,
                           "stop": ["\nclass "]},
            "options": {"use_cache": False, "wait_for_model": True},
        }
    )
    uri = open_doc(client, SOURCE)
    await inline(client, uri, 1, 4)

    (sent,) = hf.generation_requests()
    params = sent.body["parameters"]
    assert {k: params[k] for k in ("temperature", "top_k", "top_p", "repetition_penalty",
                                   "max_time", "do_sample")} == {
        "temperature": 0.7, "top_k": 40, "top_p": 0.9, "repetition_penalty": 1.1,
        "max_time": 5, "do_sample": True}
    assert params["stop"][0] == "\nclass "
    assert len(params["stop"]) <= 4
    assert sent.body["options"] == {"use_cache": False, "wait_for_model": True}


@pytest.mark.parametrize(
    ("text", "line", "character", "expected"),
    [
        pytest.param("x = foo(1, ) + y\n", 0, 11, 24, id="mid-line"),
        pytest.param("x = compute(1)\n", 0, 14, 64, id="end-of-line"),
        pytest.param("import os\n\n\n", 2, 0, 96, id="empty-line"),
        pytest.param("def f(x):\n", 0, 9, 160, id="block-opener"),
    ],
)
async def test_max_new_tokens_is_always_sent_and_chosen_by_context(
    start: Starter, hf: FakeInferenceServer, text: str, line: int, character: int,
    expected: int
) -> None:
    client = await start({"url": hf.api_url})
    uri = open_doc(client, text)
    await inline(client, uri, line, character)

    (sent,) = hf.generation_requests()
    assert sent.body["parameters"]["max_new_tokens"] == expected
    assert ("\n" in sent.body["parameters"]["stop"]) == (expected == 24)


async def test_a_fixed_max_new_tokens_wins(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, "parameters": {"max_new_tokens": 7},
                          "maxNewTokens": {"emptyLine": 50}})
    uri = open_doc(client, SOURCE)
    await inline(client, uri, 1, 4)
    assert hf.generation_requests()[0].body["parameters"]["max_new_tokens"] == 7


async def test_echoed_prompt_is_stripped(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, "parameters": {"return_full_text": True}})
    uri = open_doc(client, SOURCE)
    items = await inline(client, uri, 1, 4)

    assert hf.generation_requests()[0].body["parameters"]["return_full_text"] is True
    assert [i.insert_text for i in items] == ["return a + b"]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        pytest.param("{base}/hf-inference/models/{{model}}", f"/hf-inference/models/{MODEL}",
                     id="router-template"),
        pytest.param("{base}/models/other/model", "/models/other/model", id="full-model-url"),
    ],
)
async def test_url_forms(start: Starter, hf: FakeInferenceServer, url: str, path: str) -> None:
    hf.add_model("other/model", FakeModel("return a + b\n"))
    client = await start({"url": url.format(base=hf.base_url), "model": MODEL})
    uri = open_doc(client, SOURCE)
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
    assert hf.generation_requests()[0].path == path


async def test_bad_setting_is_reported_once_and_the_last_good_ones_stay(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    for _ in range(2):
        did_change_configuration(
            client, {"hfLsp": {"url": "http://127.0.0.1:9", "parameters": {"temperature": 500}}}
        )
    await wait_for(lambda: shown(client, "hfLsp.parameters.temperature"))
    await asyncio.sleep(0.2)
    (message,) = shown(client)
    assert "from 0 to 100" in message and "500" in message
    assert logged(client, "hfLsp.parameters.temperature")
    # still the first, good settings: the request reaches the loopback server
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]


async def test_wrong_types_are_named(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, "parameters": {"max_new_tokens": "lots"},
                          "cache": {"size": -1}})
    await wait_for(lambda: shown(client, "hfLsp.parameters.max_new_tokens"))
    (message,) = shown(client)
    assert "hfLsp.cache.size" in message


async def test_pushed_settings_take_effect_without_restart(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.add_model("org/second", FakeModel("return b + a\n"))
    client = await start({"url": hf.api_url}, profile="neovim")
    uri = open_doc(client, SOURCE)
    await inline(client, uri, 1, 4)

    did_change_configuration(client, {"hfLsp": {"model": "org/second"}})
    await wait_for(lambda: logged(client, "model org/second"))
    items = await inline(client, uri, 1, 4)

    assert [i.insert_text for i in items] == ["return b + a"]
    assert [r.model for r in hf.generation_requests()] == [MODEL, "org/second"]


async def test_pulled_configuration_wins(start: Starter, hf: FakeInferenceServer) -> None:
    hf.add_model("org/pulled", FakeModel("return 42\n"))
    client = await start(
        {"url": hf.api_url, "model": MODEL},
        configuration={"hfLsp": {"model": "org/pulled", "parameters": {"max_new_tokens": 9}}},
    )
    await wait_for(lambda: logged(client, "model org/pulled"))
    uri = open_doc(client, SOURCE)
    await inline(client, uri, 1, 4)

    (sent,) = hf.generation_requests()
    assert sent.model == "org/pulled"
    assert sent.body["parameters"]["max_new_tokens"] == 9

    # a didChangeConfiguration without settings makes the server pull again
    client.set_configuration({"hfLsp": {"model": MODEL}})
    did_change_configuration(client, None)
    await wait_for(lambda: logged(client, f"model {MODEL}"))
