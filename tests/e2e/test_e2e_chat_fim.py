"""End to end: inline completion through a chat model, over ``/v1/chat/completions``.

An OpenAI-compatible server (vLLM, SGLang) serving an instruction model is asked to fill the
hole in a chat prompt; whatever shape the model answers in, the editor gets the missing code.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Starter, inline, logged, open_doc, shown, wait_for
from fake_backends import FakeBackend, InstructShape, instruct
from lsprotocol import types

from hf_lsp.backends.chat_fim import HEADROOM
from hf_lsp.completion.chat_fim import HOLE

INSTRUCT = "Qwen/Qwen2.5-Coder-7B-Instruct"
SOURCE = "import math\n\n\ndef area(r):\n    \n    return result\n\n\nprint(area(2))\n"
FILL = "result = math.pi * r ** 2"


def settings_for(server: FakeBackend, **extra: Any) -> dict[str, Any]:
    return {"backend": "openai", "url": server.base_url + "/v1", "model": INSTRUCT,
            "context": {"includeFilePath": False}, **extra}


@pytest.mark.parametrize("shape", ["fenced", "prose", "echo_file", "bare"])
async def test_the_inline_item_holds_only_the_missing_code(
    start: Starter, shape: InstructShape
) -> None:
    with FakeBackend("openai", chat_answer=instruct(FILL, shape, hole=HOLE)) as server:
        client = await start(settings_for(server, parameters={"temperature": 0.3}))
        uri = open_doc(client, SOURCE, uri="file:///work/src/geometry.py")
        items = await inline(client, uri, 4, 4)
        assert [i.insert_text for i in items] == [FILL]

        (sent,) = server.generation_requests()
        assert sent.path == "/v1/chat/completions"
        body = sent.body
        assert body["model"] == INSTRUCT and body["stream"] is False
        assert body["max_tokens"] == 160 + HEADROOM  # the tuned length after a `:`, + fences
        assert body["temperature"] == 0.3 and body["top_p"] == 0.95
        assert "n" not in body and "prompt" not in body
        assert all(s.startswith("<") for s in body.get("stop", []))  # no "\n" in a chat stop
        system, user = body["messages"]
        assert system["role"] == "system" and user["role"] == "user"
        assert "python file (/work/src/geometry.py)" in user["content"]
        assert f"```python\nimport math\n\n\ndef area(r):\n    {HOLE}\n    return result\n" in (
            user["content"])


async def test_a_mid_line_hole_asks_for_a_short_answer(start: Starter) -> None:
    source = "def report(total):\n    print()\n"
    fill = 'f"total: {total}"'
    with FakeBackend("openai", chat_answer=instruct(fill, "echo_file", hole=HOLE)) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, source)
        items = await inline(client, uri, 1, 10)
        assert [i.insert_text for i in items] == [fill]
        (sent,) = server.generation_requests()
        assert sent.body["max_tokens"] == 24 + HEADROOM
        assert "inside a line" in sent.body["messages"][1]["content"]


async def test_an_answer_of_only_prose_inserts_nothing(start: Starter) -> None:
    prose = "I can't determine what should go in the hole without more context."
    with FakeBackend("openai", chat_answer=lambda messages: prose) as server:
        client = await start(settings_for(server))
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 4, 4) == []
        assert len(server.generation_requests()) == 1
        assert shown(client) == []


async def test_classic_completion_asks_for_alternatives_through_chat(start: Starter) -> None:
    with FakeBackend("openai", chat_answer=instruct(FILL, "prose", hole=HOLE)) as server:
        client = await start(settings_for(server, parameters={"num_return_sequences": 2}),
                             profile="neovim")
        uri = open_doc(client, SOURCE)
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=4, character=4),
                context=types.CompletionContext(
                    trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
        assert isinstance(result, types.CompletionList)
        assert [item.label for item in result.items] == [FILL]
        (sent,) = server.generation_requests()
        assert sent.path == "/v1/chat/completions" and sent.body["n"] == 2


async def test_completion_mode_forces_either_route(start: Starter) -> None:
    with FakeBackend("openai", "result = r * r\n",
                     chat_answer=instruct(FILL, "fenced", hole=HOLE)) as server:
        client = await start(settings_for(server, completionMode="fim"))
        uri = open_doc(client, SOURCE)
        assert [i.insert_text for i in await inline(client, uri, 4, 4)] == ["result = r * r"]
        assert server.generation_requests()[-1].path == "/v1/completions"

        # the same model told to use chat: the new setting takes effect without a restart,
        # and the answer cached from the FIM prompt is not the chat prompt's
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"hfLsp": {**settings_for(server), "completionMode": "chat"}}))
        await wait_for(lambda: len(logged(client, "settings applied")) >= 2)
        assert [i.insert_text for i in await inline(client, uri, 4, 4)] == [FILL]
        assert server.generation_requests()[-1].path == "/v1/chat/completions"
        assert len(server.generation_requests()) == 2


async def test_the_chat_servers_errors_read_as_the_openai_adapters(start: Starter) -> None:
    with FakeBackend("openai", token="right-key",
                     chat_answer=instruct(FILL, "fenced", hole=HOLE)) as server:
        client = await start(settings_for(server, apiToken="wrong-key-0123456789"))
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 4, 4) == []
        messages = await wait_for(lambda: shown(client, "refused the token"))
        assert len(messages) == 1 and "Invalid API key" in messages[0]
        assert "wrong-key-0123456789" not in "".join(m.message for m in client.log_messages)
