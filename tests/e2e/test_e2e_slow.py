"""End to end: a slow backend is explained, and no path waits on a trickling stream forever.

A server that sends a token just inside the read timeout, again and again, must not hold a
completion, an llm-ls request, a code action or ``hf-lsp check`` for longer than its overall
deadline (``requestTimeout``; for a code action, ``longGeneration.maxTotalTime``).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from actions_support import Editor, titled
from conftest import MODEL, Starter, clean_env, inline, logged, open_doc, wait_for
from fake_backends import FakeBackend
from hf_server import FakeInferenceServer, Fault

SOURCE = "def add(a, b):\n    \n"
LONG = "".join(f"x{i} = {i}\n" for i in range(400))
TRICKLE = 0.6  # seconds between tokens: just inside the 1 s read timeout below


async def test_a_slow_request_is_logged_once_with_what_would_make_it_faster(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, "slowRequestSeconds": 0.5, "cache": {"size": 0}})
    uri = open_doc(client, SOURCE)
    for i in range(2):  # a burst of slow answers: one explanation
        hf.fault(MODEL, Fault.delay(0.7))
        await inline(client, uri, 1, 4 - i)
    await wait_for(lambda: logged(client, "a request took"))
    (line,) = logged(client, "a request took")
    assert "hfLsp.slowRequestSeconds: 0.5" in line
    assert "max_new_tokens (160 now: hfLsp.maxNewTokens.blockOpener)" in line
    assert f"a smaller model than {MODEL}" in line and "closer to you" in line
    figures = await client.protocol.send_request_async("hfLsp/status", {})
    assert figures.slowRequests == 2


async def test_a_fast_backend_is_not_called_slow(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)
    assert await inline(client, uri, 1, 4) != []
    assert logged(client, "a request took") == []


async def test_an_llm_ls_request_ends_within_the_request_timeout(start: Starter) -> None:
    with FakeBackend("tgi", LONG, chunk_delay=TRICKLE) as server:
        client = await start({"backend": "tgi", "url": server.base_url, "requestTimeout": 1,
                              "cache": {"size": 0}})
        uri = open_doc(client, "x = 0\n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await asyncio.wait_for(client.protocol.send_request_async(
            "llm-ls/getCompletions",
            {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 0}},
        ), 20)
        assert loop.time() - started < 5
        assert answer.completions  # what arrived in time is kept
        await wait_for(lambda: server.closed_early == 1)


async def test_a_code_actions_stream_ends_within_its_total_time(start: Starter) -> None:
    source = "def mul(a, b):\n    pass\n"
    with FakeBackend("openai", "```python\n" + LONG + "```", chunk_delay=TRICKLE) as server:
        client = await start({
            "backend": "openai", "url": server.base_url + "/v1", "model": "m",
            "requestTimeout": 1, "longGeneration": {"maxTotalTime": 2},
            "actions": {"mode": "chat"},
        })
        editor = Editor(client)
        uri = editor.open(source)
        action = titled(await editor.actions(uri, 0, 0, end=(1, 8)), "Rewrite")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(editor.run(action, instruction="use floats"), 20)
        assert loop.time() - started < 8  # not the 400 lines × 0.6 s the stream would take
        await wait_for(lambda: server.closed_early == 1)


def test_the_check_command_ends_within_the_request_timeout(tmp_path: Path) -> None:
    with FakeBackend("tgi", LONG, chunk_delay=TRICKLE * 1.5) as server:
        settings = {"backend": "tgi", "url": server.base_url, "requestTimeout": 1}
        started = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "check"], capture_output=True, text=True,
            timeout=60, env=clean_env(tmp_path, HF_LSP_SETTINGS=json.dumps(settings)),
        )
        took = time.monotonic() - started
    assert took < 10, out.stdout  # 16 tokens × 0.9 s without an overall deadline
    assert "result    ok:" in out.stdout or "result    FAILED" in out.stdout


async def test_a_long_generation_ends_within_its_total_time_however_slow_a_step() -> None:
    from hf_server import FakeModel

    from hf_lsp.config.layered import Configuration
    from hf_lsp.config.settings import parse_settings
    from hf_lsp.errors import BackendTimeoutError
    from hf_lsp.generation.contract import GenerationRequest

    words = " ".join(f"w{i}" for i in range(600))
    with FakeInferenceServer({"org/long": FakeModel(words)}) as hf:
        config = Configuration(parse_settings({
            "url": hf.api_url, "model": "org/long", "requestTimeout": 30,
            "longGeneration": {"maxTotalTime": 1},
        }))
        hf.fault("org/long", Fault.delay(8))  # inside the 30 s read timeout
        started = time.monotonic()
        try:
            with pytest.raises(BackendTimeoutError, match="did not answer in time"):
                await config.engine.client.generate_long(
                    GenerationRequest("<fim_prefix>x = <fim_suffix><fim_middle>",
                                      {"max_new_tokens": 250, "return_full_text": False},
                                      model="org/long"),
                    max_total_new_tokens=550,
                )
        finally:
            await config.aclose()
        assert time.monotonic() - started < 5
