"""Backend adapters: one per wire format, and the only code in hf-lsp that speaks HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx

from hf_lsp.backends.catalog import priced_router
from hf_lsp.backends.chat_fim import ChatFimBackend
from hf_lsp.backends.http import Connection, HttpBackend
from hf_lsp.backends.huggingface import HuggingFaceBackend
from hf_lsp.backends.llamacpp import LlamaCppBackend
from hf_lsp.backends.ollama import OllamaBackend
from hf_lsp.backends.openai import OpenAIBackend
from hf_lsp.backends.tgi import TgiBackend
from hf_lsp.completion.chat_fim import completion_route
from hf_lsp.config.settings import Settings, hub_endpoint
from hf_lsp.generation.contract import Backend, Exchange
from hf_lsp.generation.usage import Meter

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
    meter: Meter | None = None,
) -> Backend:
    """The adapter for ``settings.backend``, with its own long-lived HTTP client.

    Completions through a chat prompt (``completionMode``) take :class:`ChatFimBackend`,
    which passes the other requests on to that adapter.
    """
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
            meter=meter, priced=priced_router(settings), network=settings.network,
        )
    adapter = ADAPTERS[settings.backend](
        connection,
        transport=transport,
        on_exchange=on_exchange,
        request_body=settings.request_body,
        meter=meter,
        priced=priced_router(settings),
    )
    if completion_route(settings) != "chat":
        return adapter
    # an instruction model: completions fill the hole through a chat prompt, and a code
    # action's fill-in-the-middle prompt still goes to the backend's own route
    return ChatFimBackend(
        connection,
        transport=transport,
        on_exchange=on_exchange,
        request_body=settings.request_body,
        meter=meter,
        priced=priced_router(settings),
        fim=adapter,
    )


def mapping_path(settings: Settings) -> Path | None:
    """Where provider mappings are kept on disk: beside the persistent cache, when it is on."""
    if not settings.cache.persistent:
        return None
    if settings.cache.path:
        return Path(settings.cache.path).expanduser().parent / "provider-mapping.json"
    from hf_lsp.generation.disk_cache import default_path

    return default_path().parent / "provider-mapping.json"
