"""End to end: document sync, the cache, completion items, secrets, the command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    MODEL,
    TOKEN,
    Starter,
    clean_env,
    inline,
    logged,
    open_doc,
    wait_for,
)
from hf_server import FakeInferenceServer, FakeModel, Fault
from lsprotocol import types

SOURCE = "def add(a, b):\n    \n"


def change(client, uri: str, version: int, start: tuple[int, int], end: tuple[int, int],
           text: str) -> None:  # type: ignore[no-untyped-def]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(*start), end=types.Position(*end)),
                    text=text,
                )
            ],
        )
    )


async def test_identical_requests_are_answered_from_the_cache(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    first = await inline(client, uri, 1, 4)
    second = await inline(client, uri, 1, 4)
    assert [(i.insert_text, i.range) for i in first] == [(i.insert_text, i.range) for i in second]
    assert first[0].insert_text == "return a + b"
    assert len(hf.generation_requests()) == 1

    status = await client.protocol.send_request_async("hfLsp/status", {})
    assert (status.cacheHits, status.backendCalls, status.lastMaxNewTokens) == (1, 1, 160)


async def test_concurrent_identical_requests_share_one_call(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.delay(0.5))
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)

    results = await asyncio.gather(*(inline(client, uri, 1, 4) for _ in range(3)))
    assert all(r and r[0].insert_text == "return a + b" for r in results)
    assert len(hf.generation_requests()) == 1


async def test_a_cache_of_size_zero_always_asks(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url, "cache": {"size": 0}})
    uri = open_doc(client, SOURCE)
    await inline(client, uri, 1, 4)
    await inline(client, uri, 1, 4)
    assert len(hf.generation_requests()) == 2


async def test_incremental_edits_with_astral_characters_reach_the_prompt(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, "context": {"includeFilePath": False}})
    uri = open_doc(client, "s = '😀'\n")
    # UTF-16: the emoji is two units, so the closing quote is at character 7
    change(client, uri, 2, (0, 7), (0, 7), "中文")
    change(client, uri, 3, (0, 10), (0, 10), "\ndef greet(name):\n")
    items = await inline(client, uri, 2, 0)

    assert items, "expected a completion"
    prompt = hf.generation_requests()[0].body["inputs"]
    assert prompt == "<fim_prefix>s = '😀中文'\ndef greet(name):\n<fim_suffix>\n<fim_middle>"
    assert items[0].range is not None and items[0].range.start == types.Position(2, 0)


async def test_utf16_cursor_after_an_emoji(start: Starter, hf: FakeInferenceServer) -> None:
    hf.add_model("org/emoji", FakeModel(" + b)\nnext()"))
    client = await start({"url": hf.api_url, "model": "org/emoji",
                          "context": {"includeFilePath": False}})
    uri = open_doc(client, "x = f('😀', a\n")
    items = await inline(client, uri, 0, 13)  # after "a": 12 code points, 13 UTF-16 units

    prompt = hf.generation_requests()[0].body["inputs"]
    assert prompt.startswith("<fim_prefix>x = f('😀', a<fim_suffix>")
    assert items[0].range == types.Range(start=types.Position(0, 13), end=types.Position(0, 13))


async def test_position_past_the_end_is_clamped(start: Starter, hf: FakeInferenceServer) -> None:
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)
    items = await inline(client, uri, 40, 99)
    assert items and items[0].range is not None
    assert items[0].range.start == types.Position(2, 0)


async def test_completion_items_for_clients_without_inline_completion(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.add_model("org/word", FakeModel("eturn a + b\n"))
    client = await start({"url": hf.api_url, "model": "org/word"}, profile="neovim")
    uri = open_doc(client, "def add(a, b):\n    r\n")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=5),
        )
    )
    assert isinstance(result, types.CompletionList)
    (item,) = result.items
    assert item.label == "return a + b"
    assert item.text_edit == types.TextEdit(
        range=types.Range(start=types.Position(1, 4), end=types.Position(1, 5)),
        new_text="return a + b",
    )


@pytest.mark.parametrize(
    ("profile", "text_format", "new_text"),
    [
        pytest.param("neovim", types.InsertTextFormat.Snippet, 'x = f"\\${a\\}"', id="snippets"),
        pytest.param("emacs", types.InsertTextFormat.PlainText, 'x = f"${a}"', id="plain-text"),
    ],
)
async def test_completion_items_are_snippets_only_for_clients_that_take_them(
    start: Starter, hf: FakeInferenceServer, profile: str, text_format: types.InsertTextFormat,
    new_text: str,
) -> None:
    hf.add_model("org/dollar", FakeModel('x = f"${a}"\n'))
    client = await start({"url": hf.api_url, "model": "org/dollar"}, profile=profile)
    uri = open_doc(client, "def add(a, b):\n    \n")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
        )
    )
    assert isinstance(result, types.CompletionList)
    (item,) = result.items
    assert item.insert_text_format == text_format
    assert item.text_edit is not None and item.text_edit.new_text == new_text
    # markdown only where the client lists it (Eglot does not): otherwise the text as it is
    if profile == "emacs":
        assert item.documentation == 'x = f"${a}"'
    else:
        assert isinstance(item.documentation, types.MarkupContent)
        assert item.documentation.kind == types.MarkupKind.Markdown


async def test_inline_clients_get_no_duplicate_completion_items(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url})
    uri = open_doc(client, SOURCE)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
        )
    )
    assert result is None
    assert hf.generation_requests() == []


def _read_message(stream) -> dict[str, object]:  # type: ignore[no-untyped-def]
    length = 0
    while True:
        line = stream.readline()
        assert line, "the server closed stdout"
        if not line.strip():
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(stream.read(length))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"textDocument": {"uri": "file:///x.py"}, "position": "here"}, id="string"),
        pytest.param({"textDocument": {"uri": "file:///x.py"},
                      "position": {"line": -1, "character": 0},
                      "context": {"triggerKind": 1}}, id="negative-line"),
    ],
)
def test_unreadable_params_get_an_error_answer(tmp_path: Path, params: dict) -> None:  # type: ignore[type-arg]
    proc = subprocess.Popen([sys.executable, "-m", "hf_lsp"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=clean_env(tmp_path))
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                 "params": {"capabilities": {}}}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 2,
                                 "method": "textDocument/inlineCompletion", "params": params}))
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 3, "method": "hfLsp/status"}))
        proc.stdin.flush()
        answers = {}
        while len(answers) < 3:
            message = _read_message(proc.stdout)
            if "id" in message:
                answers[message["id"]] = message
        assert answers[2]["error"]["code"] == -32602  # type: ignore[index]
        assert answers[3].get("result", answers[3])["requests"] == 0  # type: ignore[index, union-attr]
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("source", ["setting", "env", "legacy-env", "file"])
async def test_the_token_never_reaches_a_log(
    start: Starter, tmp_path: Path, source: str
) -> None:
    secret = TOKEN + source.replace("-", "")
    log_file = tmp_path / "hf-lsp.log"
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}, token="hf_other") as hf:
        settings: dict[str, object] = {"url": hf.api_url}
        env: dict[str, str] = {}
        if source == "setting":
            settings["apiToken"] = secret
        elif source == "env":
            env["HF_TOKEN"] = secret
        elif source == "legacy-env":
            env["HUGGING_FACE_HUB_TOKEN"] = secret
        else:
            token_file = tmp_path / "token"
            token_file.write_text(secret + "\n")
            env["HF_TOKEN_PATH"] = str(token_file)
        client = await start(settings, env=env, args=["-vv", "--log-file", str(log_file)])
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 1, 4) == []  # 401: the fake wants another token
        await wait_for(lambda: client.messages)
        status = await client.protocol.send_request_async("hfLsp/status", {})
        (sent,) = hf.generation_requests()
        assert sent.headers["authorization"] == f"Bearer {secret}"

    assert log_file.stat().st_size > 0
    seen = [log_file.read_text(), json.dumps(status._asdict())]
    seen += [m.message for m in client.log_messages] + [m.message for m in client.messages]
    for text in seen:
        assert secret not in text
    if source == "setting":
        assert "hf_***" in log_file.read_text()  # the initialize params were logged, masked


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "hf_lsp", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("hf-lsp ")


def test_complete_command_runs_the_same_pipeline(tmp_path: Path) -> None:
    source = tmp_path / "demo.py"
    source.write_text(SOURCE)
    settings = tmp_path / "settings.json"
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n\ndef x():\n")}) as hf:
        settings.write_text(json.dumps({"url": hf.api_url, "model": MODEL,
                                        "parameters": {"temperature": 0.5}}))
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "complete", f"{source}:2:5", "--settings",
             str(settings), "--show-request"],
            capture_output=True, text=True, timeout=60,
            env=clean_env(tmp_path, HF_TOKEN=TOKEN),
        )
        (sent,) = hf.generation_requests()
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("# completion\nreturn a + b")
    assert "Authorization: Bearer hf_***" in out.stdout
    assert '"max_new_tokens": 160' in out.stdout and '"generated_text"' in out.stdout
    assert TOKEN not in out.stdout + out.stderr
    assert sent.body["parameters"]["temperature"] == 0.5
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


def test_complete_command_reports_backend_errors(tmp_path: Path) -> None:
    source = tmp_path / "demo.py"
    source.write_text(SOURCE)
    with FakeInferenceServer({}) as hf:
        out = subprocess.run(
            [sys.executable, "-m", "hf_lsp", "complete", f"{source}:2:5", "--url", hf.api_url,
             "--model", "org/nothing"],
            capture_output=True, text=True, timeout=60, env=clean_env(tmp_path),
        )
    assert out.returncode == 1
    assert "model not found" in out.stderr and "org/nothing does not exist" in out.stderr


def test_complete_command_rejects_bad_settings(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hf_lsp", "complete", "x.py:1:1", "--url", "not a url"],
        capture_output=True, text=True, timeout=60, env=clean_env(tmp_path),
    )
    assert out.returncode == 2 and "hfLsp.url" in out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


@contextlib.contextmanager
def tcp_connection(tmp_path: Path) -> Iterator[socket.socket]:
    """hf-lsp started with ``--tcp`` on a free loopback port, and a connection to it."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hf_lsp", "--tcp", "--host", "127.0.0.1", "--port", str(port)],
        env=clean_env(tmp_path), stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("hf-lsp did not listen")
        with conn:
            yield conn
    finally:
        proc.kill()
        proc.wait(10)


def _read_until(conn: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = conn.recv(65536)
        assert chunk, "connection closed"
        data += chunk
    return data


def test_tcp_mode(tmp_path: Path) -> None:
    with tcp_connection(tmp_path) as conn:
        conn.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"capabilities": {}}}))
        data = _read_until(conn, b"serverInfo")
    assert b'"inlineCompletionProvider"' in data and b'"hf-lsp"' in data


def test_tcp_mode_reads_on_after_a_broken_frame(tmp_path: Path) -> None:
    with tcp_connection(tmp_path) as conn:
        conn.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"capabilities": {}}}))
        _read_until(conn, b"serverInfo")
        conn.sendall(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        conn.sendall(b"Content-Length: abc\r\n\r\n{}")
        conn.sendall(_frame({"jsonrpc": "2.0", "id": 2, "method": "hfLsp/status",
                             "params": {}}))
        assert b'"backendCalls"' in _read_until(conn, b'"backendCalls"')


async def test_the_token_does_not_follow_a_redirect(start: Starter) -> None:
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as elsewhere, \
            FakeInferenceServer({}) as hf:
        hf.set_default(Fault.status(302, "moved", {"Location": elsewhere.url_for(MODEL)}))
        client = await start({"url": hf.api_url, "apiToken": TOKEN})
        uri = open_doc(client, SOURCE)
        assert await inline(client, uri, 1, 4) == []
        assert elsewhere.requests == []  # never followed, so the token stayed put
        await wait_for(lambda: [m for m in client.log_messages if "302" in m.message])


@pytest.mark.parametrize(
    ("text", "snippet"),
    [
        pytest.param("return a + b", "return a + b", id="plain"),
        pytest.param('f"${x}"', 'f"\\${x\\}"', id="dollar-brace"),
        pytest.param("a \\ b", "a \\\\ b", id="backslash"),
    ],
)
def test_completion_items_are_literal_snippets(text: str, snippet: str) -> None:
    from hf_lsp.lsp.features.completion import snippet_literal

    assert snippet_literal(text) == snippet


@pytest.mark.parametrize(("args", "info"), [(["-q"], False), ([], True)], ids=["quiet", "default"])
async def test_quiet_logs_only_problems(
    start: Starter, hf: FakeInferenceServer, args: list[str], info: bool
) -> None:
    hf.fault(MODEL, Fault.status(404, {"error": "Model not found"}))
    client = await start({"url": hf.api_url}, args=[*args, "--log-file", "/dev/null"])
    uri = open_doc(client, SOURCE)
    assert await inline(client, uri, 1, 4) == []
    await wait_for(lambda: logged(client, "404"))  # a problem is logged either way
    assert bool(logged(client, "settings applied")) is info
