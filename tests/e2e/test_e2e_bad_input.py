"""Bad LSP input over raw stdio framing: out-of-order lifecycle, broken frames, odd documents.

pytest-lsp cannot send most of this (it starts with ``initialize``, serialises valid JSON), so
these tests write Content-Length frames to the server's stdin themselves and read its stdout
on a thread. Every case asks for a clear answer and checks that the server keeps serving.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTINUATION, MODEL, clean_env
from hf_server import FakeInferenceServer, FakeModel

INLINE = "textDocument/inlineCompletion"


def frame(message: Any) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def inline_params(uri: str, line: int = 0, character: int = 0) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 2}}


class RawServer:
    """hf-lsp on stdio, spoken to frame by frame; answers are collected by id."""

    def __init__(self, home: Path, args: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hf_lsp", *(args or [])], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_env(home))
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.answers: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.next_id = 100

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(stream.read(length)))

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.write(frame(message))

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def answer(self, msg_id: Any, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while msg_id not in self.answers:
            try:
                message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no answer to {msg_id!r} in {timeout} s") from None
            if "id" in message and "method" not in message:
                self.answers[message["id"]] = message
            else:
                self.notifications.append(message)
        return self.answers.pop(msg_id)

    def request(self, method: str, params: Any = None, timeout: float = 20) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.answer(self.next_id, timeout)

    def initialize(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.request("initialize", {"capabilities": {},
                                             "initializationOptions": settings or {}})
        self.notify("initialized", {})
        return answer

    def open(self, uri: str, text: str) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": text}})

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines()
                        if line.startswith("VmRSS:")))

    def alive(self) -> None:
        answer = self.request("hfLsp/status", {})
        assert "result" in answer, answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def hf() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel(CONTINUATION)}) as server:
        yield server


@pytest.fixture
def raw(tmp_path: Path) -> Iterator[RawServer]:
    server = RawServer(tmp_path)
    try:
        yield server
    finally:
        server.close()


def test_requests_before_initialize_are_refused_and_initialize_still_works(
    raw: RawServer,
) -> None:
    for method, params in [(INLINE, inline_params("file:///x.py")), ("hfLsp/status", {}),
                           ("textDocument/completion", inline_params("file:///x.py"))]:
        answer = raw.request(method, params)
        assert answer["error"]["code"] == -32002, answer  # ServerNotInitialized
    raw.open("file:///early.py", "dropped: sent before initialize\n")
    result = raw.initialize()["result"]
    assert result["serverInfo"]["name"] == "hf-lsp"
    status = raw.request("hfLsp/status", {})["result"]
    assert status["documents"] == 0  # the early didOpen was dropped, as LSP says
    assert raw.proc.poll() is None


def test_requests_after_shutdown_are_invalid_and_exit_ends_the_process(raw: RawServer) -> None:
    raw.initialize()
    assert raw.request("shutdown")["result"] is None
    for method, params in [("hfLsp/status", {}), (INLINE, inline_params("file:///x.py")),
                           ("shutdown", None)]:
        answer = raw.request(method, params)
        assert answer["error"]["code"] == -32600, answer  # InvalidRequest
    raw.notify("exit", None)
    assert raw.proc.wait(10) == 0


def test_broken_frames_and_unknown_methods(raw: RawServer, hf: FakeInferenceServer) -> None:
    raw.initialize({"url": hf.api_url, "model": MODEL})
    raw.write(frame(b"{this is not json"))
    parse_error = raw.answer(None)
    assert parse_error["error"]["code"] == -32700 and parse_error["id"] is None
    raw.write(frame(b"\xff\xfe not utf-8 \x00"))
    assert raw.answer(None)["error"]["code"] == -32700
    raw.write(frame(b"[1, 2, 3]"))
    assert raw.answer(None)["error"]["code"] == -32600  # valid JSON, not a message
    raw.write(frame({"id": 7, "method": "hfLsp/status"}))  # no "jsonrpc"
    assert raw.answer(7)["error"]["code"] == -32600
    assert raw.request("hfLsp/noSuchMethod", {})["error"]["code"] == -32601
    raw.notify("hfLsp/noSuchNotification", {"x": 1})  # ignored
    assert raw.request(INLINE, inline_params("file:///never-opened.py"))["result"] is None
    raw.alive()


@pytest.mark.parametrize(
    ("broken", "swallows"),
    [
        pytest.param(b"Content-Length: abc\r\n\r\n{}", False, id="not-a-number"),
        pytest.param(b"Content-Length: -5\r\n\r\n{}", False, id="negative"),
        pytest.param(b'Content-Length: 2\r\n\r\n{"jsonrpc": "2.0"}', False, id="too-short"),
        pytest.param(b"Content-Length: 30\r\n\r\n{}", True, id="too-long"),
    ],
)
def test_a_frame_with_a_wrong_length_costs_no_more_than_itself(
    raw: RawServer, hf: FakeInferenceServer, broken: bytes, swallows: bool
) -> None:
    raw.initialize({"url": hf.api_url, "model": MODEL})
    raw.write(broken)
    if swallows:  # the body read runs into the next frame, which is lost with it
        raw.notify("hfLsp/noSuchNotification", {"padding": "x" * 40})
    assert "result" in raw.request("hfLsp/status", {}, timeout=10)
    raw.alive()
    logged = [m["params"]["message"] for m in raw.notifications
              if m.get("method") == "window/logMessage"]
    assert any("frame" in m for m in logged), logged


def test_binary_content_and_lone_surrogates(raw: RawServer, hf: FakeInferenceServer) -> None:
    raw.initialize({"url": hf.api_url, "model": MODEL, "context": {"includeFilePath": False}})
    text = "a = b'\x00\x01\x7f'\n\ud800 lone \udfff\nend\x00"
    raw.open("file:///binary.py", text)
    for line, character in [(0, 3), (1, 2), (2, 4)]:
        answer = raw.request(INLINE, inline_params("file:///binary.py", line, character))
        assert "result" in answer, answer  # answered, not an internal error
    sent = [r.body["inputs"] for r in hf.generation_requests()]
    assert sent and "\x00\x01\x7f" in sent[0]
    raw.notify("textDocument/didChange", {
        "textDocument": {"uri": "file:///binary.py", "version": 2},
        "contentChanges": [{"range": {"start": {"line": 1, "character": 0},
                                      "end": {"line": 1, "character": 1}}, "text": "\udc00"}]})
    assert "result" in raw.request(INLINE, inline_params("file:///binary.py", 1, 1))
    raw.alive()


def test_a_50_mb_document_is_opened_and_completed(tmp_path: Path, hf: FakeInferenceServer,
                                                  raw: RawServer) -> None:
    raw.initialize({"url": hf.api_url, "model": MODEL})
    idle = raw.rss_kib()
    line = "    value = compute(alpha, beta, gamma)  # a line of ordinary code\n"
    text = line * (50 * 1024 * 1024 // len(line)) + "def add(a, b):\n    \n"
    started = time.monotonic()
    raw.open("file:///big.py", text)
    rows = text.count("\n")
    answer = raw.request(INLINE, inline_params("file:///big.py", rows - 1, 4), timeout=60)
    took = time.monotonic() - started
    assert [i["insertText"] for i in answer["result"]["items"]] == ["return a + b"]
    # an edit at the end and another completion: no whole-document work per keystroke
    started = time.monotonic()
    for version in range(2, 12):
        raw.notify("textDocument/didChange", {
            "textDocument": {"uri": "file:///big.py", "version": version},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0},
                                          "end": {"line": 0, "character": 0}}, "text": "#"}]})
    assert "result" in raw.request(INLINE, inline_params("file:///big.py", rows - 1, 4))
    typing = time.monotonic() - started
    grown = (raw.rss_kib() - idle) / 1024
    print(f"50 MB: open+complete {took:.2f} s, 10 edits+complete {typing:.3f} s, "
          f"RSS +{grown:.0f} MiB")
    assert took < 30
    assert typing < 2
    assert grown < 50 * 4  # the text, its lines and the JSON it came in: no second copy
    raw.notify("textDocument/didClose", {"textDocument": {"uri": "file:///big.py"}})
    raw.alive()
