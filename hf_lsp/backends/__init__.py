"""Backend adapters: one per wire format, and the only code in hf-lsp that speaks HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from hf_lsp.backends.http import Connection, HttpBackend
from hf_lsp.backends.huggingface import HuggingFaceBackend
from hf_lsp.backends.llamacpp import LlamaCppBackend
from hf_lsp.backends.ollama import OllamaBackend
from hf_lsp.backends.openai import OpenAIBackend
from hf_lsp.backends.tgi import TgiBackend
from hf_lsp.engine.generation import Backend, Exchange
from hf_lsp.settings import Settings, hub_endpoint

__all__ = ["ADAPTERS", "Connection", "make_backend"]

ADAPTERS: dict[str, type[HttpBackend]] = {
    "huggingface": HuggingFaceBackend,
    "tgi": TgiBackend,
    "openai": OpenAIBackend,
    "ollama": OllamaBackend,
    "llamacpp": LlamaCppBackend,
}


def make_backend(
    settings: Settings,
    token: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_exchange: Exchange | None = None,
) -> Backend:
    """The adapter for ``settings.backend``, with its own long-lived HTTP client."""
    connection = Connection.reaching(
        settings.endpoint(), settings.network, token=token, timeout=settings.request_timeout,
        verbatim=settings.verbatim,
    )
    if settings.provider_routing:
        from hf_lsp.backends.router import RouterBackend

        return RouterBackend(
            connection, hub=hub_endpoint(settings), provider=settings.provider,
            store=mapping_path(settings), token_setting=bool(settings.api_token),
            transport=transport, on_exchange=on_exchange, request_body=settings.request_body,
        )
    adapter = ADAPTERS[settings.backend]
    return adapter(
        connection,
        transport=transport,
        on_exchange=on_exchange,
        request_body=settings.request_body,
    )


def mapping_path(settings: Settings) -> Path | None:
    """Where provider mappings are kept on disk: beside the persistent cache, when it is on."""
    if not settings.cache.persistent:
        return None
    if settings.cache.path:
        return Path(settings.cache.path).expanduser().parent / "provider-mapping.json"
    from hf_lsp.engine.persistent import default_path

    return default_path().parent / "provider-mapping.json"
