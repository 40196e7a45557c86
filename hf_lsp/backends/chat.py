"""OpenAI-compatible ``/v1/chat/completions`` as a backend, for code actions on instruction models.

The engine's requests carry a prompt string; a chat request carries its messages as JSON in
that string (:func:`~hf_lsp.generation.contract.chat_prompt`), so the engine's cache, retry
policy, rate limiter and streaming serve chat unchanged. Every backend hf-lsp speaks has this
route (TGI, vLLM, llama.cpp's server, Ollama's ``/v1``), and Hugging Face's router serves it
at ``https://router.huggingface.co/v1``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from hf_lsp.backends.http import Connection
from hf_lsp.backends.openai import OpenAIBackend, base_url, openai_parameters, parse_completion
from hf_lsp.config.settings import Fim, Settings
from hf_lsp.errors import MalformedResponseError
from hf_lsp.generation.contract import Generation, GenerationRequest
from hf_lsp.generation.usage import Meter

ROUTER_CHAT_URL = "https://router.huggingface.co/v1"


def chat_settings(settings: Settings) -> Settings:
    """The settings of the chat server: its URL and model, an OpenAI wire format, no FIM.

    Without ``actions.chatUrl``, a verbatim completion URL (``urlPathCompletion`` off) names
    a route of its own: the chat route is looked for at the root of its server.
    """
    actions = settings.actions
    url = actions.chat_url
    model = actions.chat_model or settings.model
    if url is None and settings.provider_routing:  # the router (or a proxy of it) in use
        url = settings.endpoint() + "/v1"
        if settings.provider != "auto" and ":" not in model:
            model = f"{model}:{settings.provider}"  # the router's `<id>:<provider>`
    elif url is None and settings.backend == "huggingface":
        url = ROUTER_CHAT_URL
    elif url is None and settings.verbatim:
        parts = urlsplit(settings.endpoint())
        url = f"{parts.scheme}://{parts.netloc}"
    elif url is None:
        url = settings.endpoint()
    return attrs.evolve(
        settings,
        backend="openai",
        url=url,
        url_path_completion=True,
        model=model,
        fim=Fim(enabled=False),
    )


class ChatBackend(OpenAIBackend):
    """``POST {url}/v1/chat/completions``; streamed answers arrive as ``delta`` chunks."""

    who = "the chat server"

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return base_url(self.endpoint) + "/v1/chat/completions"

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        try:
            messages = json.loads(request.prompt)
        except ValueError:
            messages = [{"role": "user", "content": request.prompt}]
        parameters = {k: v for k, v in request.parameters.items() if k != "stop"}
        body = openai_parameters(request.model, parameters)
        body["messages"] = messages
        body["stream"] = stream
        return self.with_usage_option(body, stream)

    def parse(self, status: int, data: Any, text: str) -> Generation:
        if isinstance(data, Mapping) and data.get("object") == "error":
            raise MalformedResponseError(f"the server answered: {text[:200]}", body=text)
        return parse_completion(data, text, chat=True)


def make_chat_backend(
    settings: Settings,
    token: str | None,
    transport: httpx.AsyncBaseTransport | None = None,
    meter: Meter | None = None,
) -> ChatBackend:
    """A chat backend for ``chat_settings(...)``, with its own HTTP client."""
    from hf_lsp.backends.catalog import priced_router

    connection = Connection.reaching(
        settings.endpoint(), settings.network, token=token, timeout=settings.request_timeout
    )
    return ChatBackend(connection, transport=transport, request_body=settings.request_body,
                       meter=meter, priced=priced_router(settings))
