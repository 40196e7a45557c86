"""End to end: code actions on instruction models, over ``/v1/chat/completions``."""

from __future__ import annotations

from typing import Any

from actions_support import Editor, command_argument, progress_kinds, titled
from conftest import Starter, shown, wait_for
from fake_backends import FakeBackend
from lsprotocol import types

SOURCE = '''def mul(a, b):
    """Multiply two numbers."""
    pass


def div(a, b):
    return a / b
'''
INSTRUCT = "Qwen/Qwen2.5-Coder-7B-Instruct"
CHATTY = (
    "Here is the implementation of `mul`:\n\n```python\ndef mul(a, b):\n"
    '    """Multiply two numbers."""\n    result = a * b\n    return result\n```\n\n'
    "This multiplies `a` by `b` and returns the product."
)


def openai_settings(server: FakeBackend, **extra: Any) -> dict[str, Any]:
    return {"backend": "openai", "url": server.base_url + "/v1", "model": INSTRUCT,
            "apiToken": "local-key", **extra}


async def test_chat_answer_loses_fences_prose_and_the_repeated_signature(
    start: Starter,
) -> None:
    with FakeBackend("openai", CHATTY, token="local-key") as server:
        client = await start(openai_settings(server))
        editor = Editor(client)
        uri = editor.open(SOURCE)
        result = await editor.run(titled(await editor.actions(uri, 2, 4), "Implement"))

        assert result["status"] == "applied" and result["mode"] == "chat"
        assert editor.texts[uri] == SOURCE.replace(
            "    pass\n", "    result = a * b\n    return result\n"
        )
        (sent,) = server.generation_requests()
        assert sent.path == "/v1/chat/completions"
        assert sent.headers["authorization"] == "Bearer local-key"
        body = sent.body
        assert body["model"] == INSTRUCT and body["stream"] is True
        assert body["max_tokens"] == 2048
        system, user = body["messages"]
        assert system["role"] == "system" and "expert python programmer" in system["content"]
        assert user["role"] == "user"
        assert user["content"].startswith("Implement this python function.")
        assert '```python\ndef mul(a, b):\n    """Multiply two numbers."""\n    pass\n```' in (
            user["content"]
        )
        kinds = progress_kinds(client)
        assert kinds and kinds[0][0] == "begin" and kinds[0][-1] == "end"
        assert "report" in kinds[0]


async def test_fim_mode_can_be_forced_for_an_instruct_model(start: Starter) -> None:
    with FakeBackend("openai", "return a * b\n") as server:
        client = await start(openai_settings(server, actions={"implement": {"mode": "fim"}}))
        editor = Editor(client)
        uri = editor.open(SOURCE)
        result = await editor.run(titled(await editor.actions(uri, 2, 4), "Implement"))
        assert result["mode"] == "fim"
        assert server.generation_requests()[0].path == "/v1/completions"
        assert editor.texts[uri] == SOURCE.replace("    pass\n", "    return a * b\n")


async def test_huggingface_backend_in_chat_mode_uses_the_chat_url(start: Starter) -> None:
    with FakeBackend("openai", "```python\nreturn a * b\n```") as server:
        client = await start({
            "url": "http://127.0.0.1:9/unused", "apiToken": "hf_chatTokenValue0123456789abcd",
            "model": "bigcode/starcoder2-15b",
            "actions": {"mode": "chat", "chatUrl": server.base_url + "/v1",
                        "chatModel": "Qwen/Qwen2.5-Coder-32B-Instruct:fastest"},
        })
        editor = Editor(client)
        uri = editor.open(SOURCE)
        result = await editor.run(titled(await editor.actions(uri, 2, 4), "Implement"))
        assert result["status"] == "applied"
        (sent,) = server.generation_requests()
        assert sent.body["model"] == "Qwen/Qwen2.5-Coder-32B-Instruct:fastest"
        assert editor.texts[uri] == SOURCE.replace("    pass\n", "    return a * b\n")
        logs = " ".join(m.message for m in client.log_messages)
        assert "hf_chatTokenValue0123456789abcd" not in logs


async def test_cancelling_a_chat_stream_closes_it(start: Starter) -> None:
    long = "```python\n" + "".join(f"x{i} = {i}\n" for i in range(200)) + "```"
    with FakeBackend("openai", long, chunk_delay=0.05) as server:
        client = await start(openai_settings(server))
        editor = Editor(client)
        uri = editor.open(SOURCE)
        _, future = editor.send(command_argument(
            titled(await editor.actions(uri, 5, 0, end=(7, 0)), "Rewrite")
        ) | {"instruction": "use floats"})
        await wait_for(lambda: any("report" in k for k in progress_kinds(client)))
        (token,) = [t for t in client.progress_reports if str(t).startswith("hf-lsp/")]
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        assert await future == {"status": "cancelled"}
        await wait_for(lambda: server.closed_early == 1)
        assert editor.applied == [] and editor.texts[uri] == SOURCE


async def test_chat_explanation_is_shown_not_inserted(start: Starter) -> None:
    with FakeBackend("openai", "`div` returns **a / b**.") as server:
        client = await start(openai_settings(server))
        editor = Editor(client)
        uri = editor.open(SOURCE)
        result = await editor.run(titled(await editor.actions(uri, 5, 0, end=(7, 0)),
                                         "Explain"))
        assert result == {"status": "shown", "as": "message", "mode": "chat",
                          "fromCache": False, "answers": 1}
        assert shown(client, "div") == ["hf-lsp: `div` returns **a / b**."]
        assert editor.applied == []


async def test_a_custom_action_inserts_its_answer_below_the_selection(start: Starter) -> None:
    with FakeBackend("openai", "Sure:\n```python\nassert div(4, 2) == 2\n```") as server:
        client = await start(openai_settings(server, actions={"custom": [
            {"title": "Write a test", "prompt": "Test this {language}:\n{code}",
             "output": "insert"},
        ]}))
        editor = Editor(client)
        uri = editor.open(SOURCE)
        action = titled(await editor.actions(uri, 5, 0, end=(7, 0)), "Write a test")
        assert action.kind == types.CodeActionKind.RefactorRewrite
        result = await editor.run(action)
        assert result["status"] == "applied"
        assert editor.texts[uri] == SOURCE + "assert div(4, 2) == 2\n"
        (sent,) = server.generation_requests()
        assert sent.body["messages"][1]["content"] == (
            "Test this python:\ndef div(a, b):\n    return a / b"
        )
