"""Shared fixtures: a loopback Inference API, and hf-lsp started over stdio with pytest-lsp."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hf_server import FakeInferenceServer, FakeModel
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

MODEL = "bigcode/starcoder2-15b"
CONTINUATION = "return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
TOKEN = "hf_e2eSecretTokenValue0123456789"

Starter = Callable[..., Awaitable[LanguageClient]]


@pytest.fixture
def hf() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel(CONTINUATION)}) as server:
        yield server


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The server's environment: no token from this machine, a private HOME."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HF_", "HUGGING_FACE", "XDG_")) and k not in ("HOME",)
    }
    env["HOME"] = str(home)
    env.update(extra)
    return env


def capabilities(profile: str) -> types.ClientCapabilities:
    """``vscode`` (inline completion, configuration pull), ``neovim`` (0.11) or ``emacs``
    (Eglot in Emacs 29.1, without yasnippet: no snippets)."""
    if profile == "neovim":
        return client_capabilities("neovim@v0.11.0")
    if profile == "emacs":
        return client_capabilities("emacs@v29.1")
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return caps


@pytest_asyncio.fixture
async def start(tmp_path: Path) -> AsyncIterator[Starter]:
    """Start hf-lsp over stdio; ``await start(settings, profile=..., env=..., args=...)``."""
    clients: list[LanguageClient] = []

    async def starter(
        settings: dict[str, Any] | None = None,
        *,
        profile: str = "vscode",
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        configuration: dict[str, Any] | None = None,
        root_uri: str | None = None,
    ) -> LanguageClient:
        config = ClientServerConfig(
            server_command=[sys.executable, "-m", "hf_lsp", *(args or ["-v"])],
            server_env=clean_env(tmp_path, **(env or {})),
            client_factory=make_test_lsp_client,
        )
        if settings is not None and "model" not in settings and settings.get(
            "backend", "huggingface"
        ) == "huggingface" and "{model}" in str(settings.get("url", "")):
            # the fake serverless API knows MODEL (the default model is served by providers)
            settings = {"model": MODEL, **settings}
        client = await config.start()
        assert isinstance(client, LanguageClient)
        clients.append(client)
        if configuration is not None:
            client.set_configuration(configuration)
        await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities(profile),
                initialization_options=settings,
                client_info=types.ClientInfo(name=f"pytest-{profile}"),
                root_uri=root_uri,
            )
        )
        return client

    yield starter
    for client in clients:
        try:
            await client.shutdown_session()
        except RuntimeError:
            pass  # the test shut this one down itself
        finally:
            await client.stop()


def open_doc(client: LanguageClient, text: str, uri: str = "file:///work/demo.py",
             language: str = "python") -> str:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                                 text=text)
        )
    )
    return uri


async def inline(client: LanguageClient, uri: str, line: int, character: int,
                 ) -> list[types.InlineCompletionItem]:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )
    if result is None:
        return []
    return list(result.items) if isinstance(result, types.InlineCompletionList) else list(result)


async def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until ``predicate()`` is truthy (notifications arrive asynchronously)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.02)


def logged(client: LanguageClient, text: str) -> list[str]:
    return [m.message for m in client.log_messages if text in m.message]


def shown(client: LanguageClient, text: str = "") -> list[str]:
    return [m.message for m in client.messages if text in m.message]
