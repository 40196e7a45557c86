"""hf-lsp over stdio, driven from synchronous code: the client's event loop runs in a thread.

Hypothesis's ``@given`` wants a plain function; the pytest-lsp client wants an event loop. A
:class:`ThreadedServer` owns a loop in a background thread, starts the real server there, and
runs coroutines on it with :func:`asyncio.run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from conftest import clean_env, inline
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import make_test_lsp_client

T = TypeVar("T")


class ThreadedServer:
    """One hf-lsp process and its pytest-lsp client, on a loop in a background thread."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="lsp-client",
                                       daemon=True)
        self.thread.start()
        self.client: LanguageClient | None = None
        self.result: types.InitializeResult | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self, settings: dict[str, Any], capabilities: types.ClientCapabilities,
              args: list[str] | None = None) -> types.InitializeResult:
        async def go() -> types.InitializeResult:
            config = ClientServerConfig(
                server_command=[sys.executable, "-m", "hf_lsp", *(args or [])],
                server_env=clean_env(self.home),
                client_factory=make_test_lsp_client,
            )
            client = await config.start()
            assert isinstance(client, LanguageClient)
            self.client = client
            return await client.initialize_session(
                types.InitializeParams(capabilities=capabilities,
                                       initialization_options=settings,
                                       client_info=types.ClientInfo(name="pytest-thread"))
            )

        self.result = self.run(go(), timeout=60)
        return self.result

    def inline(self, uri: str, line: int, character: int) -> list[types.InlineCompletionItem]:
        assert self.client is not None
        return self.run(inline(self.client, uri, line, character))

    def notify(self, send: Any, params: Any) -> None:
        """Send a notification from the loop's thread (the client is not thread-safe)."""
        self.loop.call_soon_threadsafe(send, params)

    def close(self) -> None:
        async def stop() -> None:
            if self.client is not None:
                try:
                    await asyncio.wait_for(self.client.shutdown_session(), 10)
                finally:
                    await self.client.stop()

        try:
            self.run(stop(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()
