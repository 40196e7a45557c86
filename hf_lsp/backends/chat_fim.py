"""Inline completion through ``/v1/chat/completions``, for models served only as chat.

The request's prefix and suffix become a chat prompt with the hole marked
(:func:`hf_lsp.engine.chat_fim.fim_messages`); each answer is cleaned to the missing code
(:func:`~hf_lsp.engine.chat_fim.clean_fim_answer`) before the engine post-processes it as any
completion. The answer is read whole: the cleaning needs all of it (a fence or an echo is
only known at its end), so a "stream" is that answer in one chunk.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from hf_lsp.backends.http import HttpBackend, error_text, url_path
from hf_lsp.backends.openai import base_url, openai_parameters, parse_completion
from hf_lsp.engine.chat_fim import HEADROOM, clean_fim_answer, fim_messages
from hf_lsp.engine.generation import Chunk, Generation, GenerationRequest
from hf_lsp.errors import MalformedResponseError

CHAT_ROUTE = "/v1/chat/completions"
# a stop sequence is sent only when it is a special token: "\n" or a user's "\n\n" would end
# the answer inside its opening fence or its first line of prose
_TOKEN_LIKE = re.compile(r"^(?:<[^<>\s`]+>|\[[A-Z_]+\])$")


def chat_stops(stops: Sequence[str]) -> list[str]:
    """The stop sequences that cannot cut a fenced answer early."""
    return [s for s in stops if _TOKEN_LIKE.match(s) and "fim" not in s.lower()]


class ChatFimBackend(HttpBackend):
    """``POST {url}/v1/chat/completions`` asking an instruction model to fill the hole."""

    who = "the chat server"

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return base_url(self.endpoint) + CHAT_ROUTE

    async def prepare(
        self, request: GenerationRequest, stream: bool
    ) -> tuple[str, dict[str, Any]]:
        url, body = await super().prepare(request, False)
        if self.verbatim and not url_path(url).endswith("/chat/completions"):
            # a completion URL written out: the chat route is at the root of its server
            parts = urlsplit(url)
            url = f"{parts.scheme}://{parts.netloc}{CHAT_ROUTE}"
        return url, body

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        parameters = dict(request.parameters)
        parameters["max_new_tokens"] = int(parameters.get("max_new_tokens") or 128) + HEADROOM
        parameters["stop"] = chat_stops(list(parameters.get("stop") or ()))
        body = openai_parameters(request.model, parameters)
        body["messages"] = fim_messages(
            request.prefix, request.suffix, language=request.language or None,
            path=request.path or None,
        )
        body["stream"] = False
        return body

    def parse(self, status: int, data: Any, text: str) -> Generation:
        if isinstance(data, Mapping) and data.get("object") == "error":
            raise MalformedResponseError(f"the server answered: {error_text(data, text)}",
                                         body=text)
        return parse_completion(data, text, chat=True)

    async def generate(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> Generation:
        answer = await super().generate(request, timeout)
        texts = tuple(clean_fim_answer(t, request.prefix, request.suffix) for t in answer.texts)
        return Generation(texts, answer.finish_reason, answer.raw, answer.partial)

    async def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]:
        generation = await self.generate(request, timeout)
        yield Chunk(generation.texts[0] if generation.texts else "", generation.finish_reason)


__all__ = ["HEADROOM", "ChatFimBackend", "chat_stops"]
