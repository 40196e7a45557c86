"""Backend adapters: one per wire format, and the only code in hf-lsp that imports httpx."""

from __future__ import annotations

import httpx

from hf_lsp.backends.huggingface import HuggingFaceBackend
from hf_lsp.engine.generation import Backend, Exchange
from hf_lsp.settings import Settings

__all__ = ["HuggingFaceBackend", "make_backend"]


def make_backend(
    settings: Settings,
    token: str | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_exchange: Exchange | None = None,
) -> Backend:
    """The adapter for ``settings.backend``, with its own long-lived HTTP client."""
    if settings.backend == "huggingface":
        return HuggingFaceBackend(
            settings.endpoint(),
            token,
            timeout=settings.request_timeout,
            transport=transport,
            on_exchange=on_exchange,
        )
    raise ValueError(f"unknown backend {settings.backend!r}")  # settings validation prevents it
