"""The backend fault matrix, end to end over LSP, for the serverless API and every local server.

One language server per backend meets each fault in turn. Every case ends the same way: each
request is answered (empty or with text) within its deadline, each failed request leaves
exactly one log line that names the failure and carries the raw body, at most one pop-up
appears per case (and per cause, over the whole run), and the next request goes through.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import MODEL, Starter, inline, open_doc
from fake_backends import KINDS, FakeBackend, error_fault
from hf_server import RATE_LIMIT_MESSAGE, FakeInferenceServer, FakeModel, Fault
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_e2e_backends import settings_for

SOURCE = "def add(a, b):\n    \n"
TIMEOUT = 0.5  # requestTimeout for the whole run
SLACK = 2.5  # what a loaded CI machine may add to a deadline
NGINX_413 = (
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx/1.25.3"
    "</center>\r\n</body>\r\n</html>\r\n"
)
VALIDATION = "Input validation error: `inputs` must have less than 4000 tokens. Given: 4242"


@dataclass(frozen=True)
class Case:
    name: str
    fault: Callable[[str], Fault | None]  # by backend kind; None: no HTTP fault
    needle: str  # what of the raw body (or the failure) the one log line must show
    text: bool = False  # the request is still answered with text (a retried fault)
    chunk_delay: float = 0.0  # a trickling stream instead
    kinds: tuple[str, ...] = ("huggingface", *KINDS)


def loading_fault(kind: str) -> Fault:
    if kind == "huggingface":  # the API's 503 while loading, here without estimated_time
        return Fault.status(503, {"error": f"Model {MODEL} is currently loading"})
    return error_fault(kind, 503, "Loading model") if kind != "tgi" else Fault.status(
        503, {"error": "Loading model", "error_type": "unavailable"})


def validation_fault(kind: str) -> Fault:
    if kind == "huggingface":
        return Fault.status(422, {"error": VALIDATION, "error_type": "validation"})
    return error_fault(kind, 422, VALIDATION)  # type: ignore[arg-type]


CASES = [
    Case("503-loading-without-estimated-time", loading_fault,
         "currently loading", text=True, kinds=("huggingface",)),
    Case("503-loading", loading_fault, "Loading model", kinds=KINDS),
    Case("413-html-from-a-proxy",
         lambda kind: Fault("reply", 413, NGINX_413.encode(), (("Content-Type", "text/html"),)),
         "<center>nginx/1.25.3</center>"),
    Case("422-validation", validation_fault, "must have less than 4000 tokens. Given: 4242"),
    Case("504-html-from-a-proxy", lambda kind: Fault.html(504), "<h1>504 Gateway Timeout</h1>"),
    Case("wrong-shape-object", lambda kind: Fault.status(200, {"unexpected": [1, 2, 3]}),
         '"unexpected": [1, 2, 3]'),
    Case("wrong-shape-list", lambda kind: Fault.status(200, ["generated", "text"]),
         '["generated", "text"]'),
    Case("wrong-shape-scalar", lambda kind: Fault.status(200, "42"), "42"),
    Case("empty-body", lambda kind: Fault.empty(), "empty body"),
    Case("read-timeout", lambda kind: Fault.delay(5), "did not answer in time"),
    Case("slow-trickle", lambda kind: None, "did not answer in time", chunk_delay=TIMEOUT * 3,
         kinds=KINDS),
]


@contextmanager
def backend(kind: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    common = {"requestTimeout": TIMEOUT, "cache": {"size": 0},
              "rateLimit": {"requestsPerMinute": 0}}
    if kind == "huggingface":
        with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as hf:
            yield hf, {"url": hf.api_url, "model": MODEL, "context": {"includeFilePath": False},
                       **common}
    else:
        with FakeBackend(kind, "return a + b\n") as server:  # type: ignore[arg-type]
            yield server, settings_for(server, **common)


def queue(server: Any, fault: Fault) -> None:
    if isinstance(server, FakeBackend):
        server.fault(fault)
    else:
        server.fault(MODEL, fault)


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: connections are refused


class Run:
    """One server against one backend; collects what each request left behind."""

    def __init__(self, client: LanguageClient, server: Any, kind: str) -> None:
        self.client, self.server, self.kind = client, server, kind
        self.uri = open_doc(client, SOURCE)
        self.problems: list[str] = []

    async def request(self, case: str, needle: str, *, text: bool = False,
                      deadline: float = TIMEOUT + SLACK) -> None:
        before = len(self.client.log_messages)
        started = asyncio.get_running_loop().time()
        items = await asyncio.wait_for(inline(self.client, self.uri, 1, 4), 30)
        took = asyncio.get_running_loop().time() - started
        lines = [m for m in self.client.log_messages[before:] if needle in m.message]
        if took > deadline:
            self.problems.append(f"{case}: answered after {took:.2f} s (deadline {deadline} s)")
        if text and [i.insert_text for i in items] != ["return a + b"]:
            self.problems.append(f"{case}: expected the retried answer, got {items}")
        if len(lines) != 1:
            seen = [m.message for m in self.client.log_messages[before:]]
            self.problems.append(f"{case}: {len(lines)} log lines with {needle!r}: {seen}")
        elif not text and lines[0].type not in (types.MessageType.Error,
                                                 types.MessageType.Warning):
            self.problems.append(f"{case}: logged at {lines[0].type!r}: {lines[0].message}")

    async def alive(self, case: str) -> None:
        items = await asyncio.wait_for(inline(self.client, self.uri, 1, 4), 30)
        if [i.insert_text for i in items] != ["return a + b"]:
            self.problems.append(f"{case}: the next request got {items}")


@pytest.mark.parametrize("kind", ["huggingface", *KINDS])
async def test_fault_matrix(start: Starter, kind: str) -> None:
    with backend(kind) as (server, settings):
        client = await start(settings)
        run = Run(client, server, kind)
        for case in CASES:
            if kind not in case.kinds:
                continue
            shown_before = len(client.messages)
            for _ in range(3):
                fault = case.fault(kind)
                if fault is not None:
                    queue(server, fault)
                if case.chunk_delay:
                    server.chunk_delay = case.chunk_delay
                await run.request(case.name, case.needle, text=case.text)
                server.chunk_delay = 0.0
            popups = client.messages[shown_before:]
            if len(popups) > 1:
                run.problems.append(f"{case.name}: {len(popups)} pop-ups: {popups}")
            await run.alive(case.name)

        await rate_limit_burst(run)
        # of all these, only the rejected requests (413, 422) are the user's to act on, and
        # that cause pops up once for the whole run
        (popup,) = client.messages
        assert "rejected the request" in popup.message, popup
        await connection_refused(run, settings)

        assert run.problems == []
        assert server.active == 0


async def rate_limit_burst(run: Run) -> None:
    """A 429 without Retry-After: one request, then hf-lsp backs off instead of retrying."""
    kind, server = run.kind, run.server
    if kind == "huggingface":
        fault, needle = Fault.rate_limited(), RATE_LIMIT_MESSAGE[:40]
    else:
        needle = "Model is overloaded" if kind == "tgi" else "Too many requests, slow down"
        fault = error_fault(kind, 429, needle)  # type: ignore[arg-type]
    server.set_default(fault)
    sent = len(server.generation_requests())
    shown = len(run.client.messages)
    before = len(run.client.log_messages)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(8):  # a burst of typing: the cursor moves, every request is new
        line = 1 if i % 2 else 0
        await asyncio.wait_for(inline(run.client, run.uri, line, 4 - i % 4), 30)
    burst = loop.time() - started
    lines = [m.message for m in run.client.log_messages[before:] if needle in m.message]
    if len(server.generation_requests()) - sent != 1:
        run.problems.append(f"429: the burst sent {len(server.generation_requests()) - sent} "
                            "requests, expected 1 and a backoff")
    if len(lines) != 1:
        run.problems.append(f"429: {len(lines)} log lines name it: {lines}")
    if len(run.client.messages) != shown:
        run.problems.append(f"429: pop-ups {run.client.messages[shown:]}")
    if burst > 2:
        run.problems.append(f"429: the burst took {burst:.2f} s")
    server.set_default(None)
    # the backoff ends: a request goes through again, after at most a few seconds
    deadline = loop.time() + 5
    while True:
        items = await asyncio.wait_for(inline(run.client, run.uri, 1, 4), 30)
        if items:
            break
        if loop.time() > deadline:
            run.problems.append("429: still backing off after 5 s")
            break
        await asyncio.sleep(0.1)
    if len(server.generation_requests()) - sent > 3:
        run.problems.append(f"429: {len(server.generation_requests()) - sent} requests in all")


async def connection_refused(run: Run, settings: dict[str, Any]) -> None:
    port = dead_port()
    tail = {"openai": "/v1", "huggingface": "/models/{model}"}.get(run.kind, "")
    url = f"http://127.0.0.1:{port}" + tail
    shown = len(run.client.messages)
    run.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"hfLsp": {**settings, "url": url}}))
    for _ in range(3):
        await run.request("connection-refused", f"no answer from http://127.0.0.1:{port}")
    popups = run.client.messages[shown:]
    if len(popups) != 1 or f"127.0.0.1:{port}" not in popups[0].message:
        run.problems.append(f"connection refused: pop-ups {popups}")
    status = await run.client.protocol.send_request_async("hfLsp/status", {})
    if status.endpoint is None or str(port) not in status.endpoint:
        run.problems.append(f"connection refused: status {status}")
