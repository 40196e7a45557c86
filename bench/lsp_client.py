"""A minimal JSON-RPC client over a child process's stdio, for timing hf-lsp from outside."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from typing import Any


class StdioClient:
    """Starts a server command and talks LSP to it; requests are futures keyed by id."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.command = command
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.notifications: list[dict[str, Any]] = []

    async def start(self) -> float:
        started = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=self.env or dict(os.environ),
            limit=64 * 1024 * 1024,
        )
        self._reader = asyncio.ensure_future(self._read())
        return started

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def send(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        self._write({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return ident, future

    async def request(self, method: str, params: Any) -> Any:
        _, future = self.send(method, params)
        return await future

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def cancel(self, ident: int) -> None:
        self.notify("$/cancelRequest", {"id": ident})

    async def drain(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        await self.proc.stdin.drain()

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await out.readexactly(length))
            if "id" in message and "method" in message:  # a request from the server
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    if "error" in message:
                        future.set_result({"error": message["error"]})
                    else:
                        future.set_result(message.get("result"))
            else:
                self.notifications.append(message)

    async def initialize(self, options: dict[str, Any] | None = None) -> Any:
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {
                    "textDocument": {"inlineCompletion": {}, "synchronization": {}},
                    "workspace": {"configuration": False},
                },
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return result

    async def stop(self) -> None:
        if self.proc is None:
            return
        try:
            await asyncio.wait_for(self.request("shutdown", None), 5)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 5)
        except (asyncio.TimeoutError, ConnectionError, BrokenPipeError):
            self.proc.kill()
        if self._reader is not None:
            self._reader.cancel()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_ms(pid: int) -> float:
    """CPU time the process has used so far (ns resolution; less load-sensitive than wall time)."""
    with open(f"/proc/{pid}/schedstat") as schedstat:
        return int(schedstat.read().split()[0]) / 1e6


PYTHON = sys.executable
