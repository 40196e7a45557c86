"""End to end: typing-through, cancel-previous, auto-closed ranges, alternatives, llm-ls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import MODEL, Starter, inline, open_doc, wait_for
from fake_backends import FakeBackend
from hf_server import FakeInferenceServer, FakeModel, Fault
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

SOURCE = "def add(a, b):\n    \n"
QUIET = {"debounce": {"enabled": False}}


def type_text(client: LanguageClient, uri: str, version: int, line: int, col: int,
              text: str, delete: int = 0) -> None:
    start = types.Position(line=line, character=col - delete)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=start, end=types.Position(line=line, character=col)),
                    text=text,
                )
            ],
        )
    )


async def invoke(client: LanguageClient, uri: str, line: int, col: int
                 ) -> list[types.InlineCompletionItem]:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=col),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    return list(result.items)


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


async def test_typing_through_sends_no_request(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, SOURCE)
    assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]
    type_text(client, uri, 2, 1, 4, "ret")
    items = await inline(client, uri, 1, 7)
    assert [i.insert_text for i in items] == ["urn a + b"]
    assert items[0].range == types.Range(
        start=types.Position(line=1, character=7), end=types.Position(line=1, character=7)
    )
    type_text(client, uri, 3, 1, 7, "", delete=1)  # backspace
    assert [i.insert_text for i in await inline(client, uri, 1, 6)] == ["turn a + b"]
    assert len(hf.generation_requests()) == 1
    figures = await status(client)
    assert (figures.typingThroughHits, figures.backendCalls) == (2, 1)


def cancellable_inline(client: LanguageClient, uri: str, line: int, col: int, msg_id: str
                       ) -> asyncio.Future[Any]:
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
    )
    return asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
    ))


async def editor_cancels(client: LanguageClient, request: asyncio.Future[Any], msg_id: str
                         ) -> None:
    client.cancel_request(types.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(request, 5)


async def keystroke_while_streaming(start: Starter, server: FakeBackend, typed: str
                                    ) -> tuple[LanguageClient, str]:
    """Ask at the end of SOURCE, then type ``typed`` while the answer streams, as an editor
    does: send the change, cancel the request, (the caller) ask again."""
    client = await start({"backend": "tgi", "url": server.base_url, **QUIET})
    uri = open_doc(client, SOURCE)
    first = cancellable_inline(client, uri, 1, 4, "first")
    await wait_for(lambda: server.active == 1)
    type_text(client, uri, 2, 1, 4, typed)
    await editor_cancels(client, first, "first")
    return client, uri


async def test_typing_through_a_suggestion_still_streaming(start: Starter) -> None:
    with FakeBackend("tgi", "return a + b\n", chunk_delay=0.25) as server:
        client, uri = await keystroke_while_streaming(start, server, "ret")
        items = await inline(client, uri, 1, 7)
        assert [i.insert_text for i in items] == ["urn a + b"]
        assert len(server.generation_requests()) == 1
        figures = await status(client)
        assert (figures.typingThroughStreams, figures.backendCalls) == (1, 1)
        await wait_for(lambda: server.active == 0)
        assert server.closed_early == 0  # the stream was read to its end, not thrown away


async def test_typing_past_what_is_streaming_asks_afresh(start: Starter) -> None:
    with FakeBackend("tgi", "return a + b\n", chunk_delay=0.25) as server:
        client, uri = await keystroke_while_streaming(start, server, "x = ")
        second = asyncio.ensure_future(inline(client, uri, 1, 8))
        await wait_for(lambda: server.closed_early == 1)  # the first stream, at "return"
        await second
        assert len(server.generation_requests()) == 2
        figures = await status(client)
        assert figures.typingThroughStreams == 0


async def test_a_newer_request_closes_the_older_http_call(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.delay(3.0))
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, "x = 1\ny = 2\n")
    older = asyncio.ensure_future(inline(client, uri, 0, 5))
    await wait_for(lambda: hf.active == 1)
    newer = await inline(client, uri, 1, 5)
    assert await older == []
    assert newer  # answered at once: the fault delayed only the first call
    await wait_for(lambda: hf.closed_early == 1)
    assert (await status(client)).cancellations == 1


@pytest.fixture
def closing() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel("baz):\n        pass\n")}) as server:
        yield server


async def test_auto_closed_bracket_is_replaced_not_doubled(
    start: Starter, closing: FakeInferenceServer
) -> None:
    client = await start({"url": closing.api_url, **QUIET})
    uri = open_doc(client, "def f():\n    if foo(bar)\n")
    (item,) = await inline(client, uri, 1, 14)
    assert item.insert_text == "baz):"  # inside the parentheses: this line only
    assert item.range == types.Range(
        start=types.Position(line=1, character=14), end=types.Position(line=1, character=15)
    )
    line = "    if foo(bar)"
    shown = line[:14] + item.insert_text + line[15:]
    assert shown.startswith("    if foo(barbaz):") and shown.count(")") == 1


async def test_invoked_returns_alternatives_and_tracks_acceptance(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, SOURCE)
    items = await invoke(client, uri, 1, 4)
    sent = hf.generation_requests()[0].body
    assert sent["parameters"]["num_return_sequences"] == 3
    assert sent["options"]["use_cache"] is False
    assert [i.insert_text for i in items] == ["return a + b"]  # the fake answers alike: deduped
    command = items[0].command
    assert command is not None and command.command == "hfLsp.accept"
    client.protocol.notify(
        "textDocument/didShowCompletion",
        {"item": {"insertText": items[0].insert_text,
                  "command": {"title": command.title, "command": command.command,
                              "arguments": list(command.arguments or [])}}},
    )
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    )
    figures = await wait_for_status(client, lambda f: f.accepted == 1)
    assert (figures.shown, figures.acceptRate) == (1, 1.0)


async def wait_for_status(client: LanguageClient, ok: Any) -> Any:
    for _ in range(100):
        figures = await status(client)
        if ok(figures):
            return figures
        await asyncio.sleep(0.02)
    raise AssertionError(figures)


async def test_partial_acceptance_is_accepted(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, SOURCE)
    (item,) = await inline(client, uri, 1, 4)
    assert item.command is not None
    client.protocol.notify(
        "textDocument/didPartiallyAcceptCompletion",
        {"item": {"insertText": item.insert_text,
                  "command": {"title": "", "command": item.command.command,
                              "arguments": list(item.command.arguments or [])}},
         "acceptedLength": 6},
    )
    figures = await wait_for_status(client, lambda f: f.partiallyAccepted == 1)
    assert figures.requests == 1


async def test_llm_ls_get_completions(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, SOURCE)
    result = await client.protocol.send_request_async(
        "llm-ls/getCompletions",
        {
            "textDocument": {"uri": uri},
            "position": {"line": 1, "character": 4},
            "model": MODEL,
            "backend": "huggingface",
            "url": hf.api_url,
            "apiToken": None,
            "fim": {"enabled": True, "prefix": "<fim_prefix>", "middle": "<fim_middle>",
                    "suffix": "<fim_suffix>"},
            "tokensToClear": ["<|endoftext|>"],
            "contextWindow": 2048,
            "requestBody": {"parameters": {"max_new_tokens": 60, "temperature": 0.2}},
            "tlsSkipVerifyInsecure": False,
            "ide": "neovim",
            "tokenizerConfig": None,
            "disableUrlPathCompletion": False,
        },
    )
    assert [c.generated_text for c in result.completions] == ["return a + b"]
    assert isinstance(result.request_id, str) and result.request_id
    sent = hf.generation_requests()[0].body
    assert sent["parameters"]["max_new_tokens"] == 60
    assert sent["inputs"].startswith("<fim_prefix>")
    await client.protocol.send_request_async(
        "llm-ls/acceptCompletion",
        {"request_id": result.request_id, "accepted_completion": 0, "shown_completions": [0]},
    )
    await client.protocol.send_request_async(
        "llm-ls/rejectCompletion", {"request_id": "unknown", "shown_completions": [0]}
    )
    figures = await status(client)
    assert (figures.accepted, figures.shown) == (1, 1)


async def test_a_colon_in_a_comment_asks_for_a_line_not_a_block(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, "def f():\n    x = 1  # steps:\n")
    await inline(client, uri, 1, 19)
    (sent,) = hf.generation_requests()
    assert sent.body["parameters"]["max_new_tokens"] == 64  # end of line, not a block opener
    figures = await status(client)
    assert figures.bySpot.end_of_line.maxNewTokens == 64


async def test_the_syntax_tree_sizes_the_request(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, **QUIET})
    uri = open_doc(client, "def f():\n    pass\nif ready:\n")
    await inline(client, uri, 0, 6)  # def f(|): the parameters, on this line
    await inline(client, uri, 2, 9)  # if ready:| a block header
    inside, header = (r.body["parameters"] for r in hf.generation_requests())
    assert inside["max_new_tokens"] == 24 and "\n" in inside["stop"]
    assert header["max_new_tokens"] == 160 and "\n" not in header["stop"]
    figures = await status(client)
    assert figures.bySpot.mid_line.requests == figures.bySpot.block_opener.requests == 1


async def test_other_open_documents_join_the_prompt(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, **QUIET}, root_uri="file:///work")
    open_doc(client, "class Invoice:\n    def total_amount(self, items):\n"
             "        return sum(items)\n", uri="file:///work/lib/invoice.py")
    uri = open_doc(client, "invoice = Invoice()\ninvoice.total_amount(\n",
                   uri="file:///work/app.py")
    await inline(client, uri, 1, 21)
    prompt = hf.generation_requests()[0].body["inputs"]
    assert prompt.startswith(
        "<file_sep>lib/invoice.py\nclass Invoice:\n    def total_amount(self, items):\n"
    )
    assert "<file_sep>app.py\n<fim_prefix>invoice = Invoice()" in prompt


async def test_the_llm_ls_token_never_reaches_a_log(start: Starter, tmp_path: Any) -> None:
    secret = "hf_llmLsSecretTokenValue987654321"
    log_file = tmp_path / "llm-ls.log"
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}, token=secret) as hf:
        client = await start({}, args=["-vv", "--log-file", str(log_file)])
        uri = open_doc(client, SOURCE)
        result = await client.protocol.send_request_async(
            "llm-ls/getCompletions",
            {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 4},
             "model": MODEL, "backend": "huggingface", "url": hf.api_url, "apiToken": secret,
             "fim": {"enabled": True}, "tokensToClear": [], "contextWindow": 1024,
             "requestBody": {}, "tlsSkipVerifyInsecure": True, "ide": "vscode",
             "tokenizerConfig": None, "disableUrlPathCompletion": False},
        )
        assert [c.generated_text for c in result.completions] == ["return a + b"]
    text = log_file.read_text()
    assert text and secret not in text
    assert "TLS verification is OFF" in text  # tlsSkipVerifyInsecure reached the backend
    assert len([m for m in client.log_messages if "TLS verification is OFF" in m.message]) == 1
    for message in client.log_messages:
        assert secret not in message.message
