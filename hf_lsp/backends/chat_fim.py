"""Inline completion through ``/v1/chat/completions``, for models served only as chat.

The request's prefix and suffix become a chat prompt with the hole marked
(:func:`hf_lsp.completion.chat_fim.fim_messages`); each answer is cleaned to the missing code
(:func:`~hf_lsp.completion.chat_fim.clean_fim_answer`) before the engine post-processes it as any
completion. The answer is read whole: the cleaning needs all of it (a fence or an echo is
only known at its end), so a "stream" is that answer in one chunk.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from hf_lsp.backends.http import Connection, HttpBackend, error_text, url_path
from hf_lsp.backends.openai import base_url, openai_parameters, parse_completion
from hf_lsp.completion.chat_fim import HEADROOM, clean_fim_answer, fim_messages
from hf_lsp.errors import MalformedResponseError
from hf_lsp.generation.contract import Chunk, Exchange, Generation, GenerationRequest, Limits
from hf_lsp.generation.usage import Meter

CHAT_ROUTE = "/v1/chat/completions"
# a stop sequence is sent only when it is a special token: "\n" or a user's "\n\n" would end
# the answer inside its opening fence or its first line of prose
_TOKEN_LIKE = re.compile(r"^(?:<[^<>\s`]+>|\[[A-Z_]+\])$")


def chat_stops(stops: Sequence[str]) -> list[str]:
    """The stop sequences that cannot cut a fenced answer early."""
    return [s for s in stops if _TOKEN_LIKE.match(s) and "fim" not in s.lower()]


class ChatFimBackend(HttpBackend):
    """``POST {url}/v1/chat/completions`` asking an instruction model to fill the hole.

    With a ``fim`` adapter for the same server, only requests marked ``chat`` go through
    chat; the others (a code action's fill-in-the-middle prompt) go to that adapter.
    """

    who = "the chat server"

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_exchange: Exchange | None = None,
        request_body: Mapping[str, Any] | None = None,
        meter: Meter | None = None,
        priced: str | None = None,
        fim: HttpBackend | None = None,
    ) -> None:
        super().__init__(connection, transport=transport, on_exchange=on_exchange,
                         request_body=request_body, meter=meter, priced=priced)
        self.fim = fim

    def _passed_on(self, request: GenerationRequest) -> HttpBackend | None:
        return self.fim if self.fim is not None and not request.chat else None

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
        if (other := self._passed_on(request)) is not None:
            return await other.generate(request, timeout)
        answer = await super().generate(request, timeout)
        texts = tuple(clean_fim_answer(t, request.prefix, request.suffix) for t in answer.texts)
        return Generation(texts, answer.finish_reason, answer.raw, answer.partial)

    async def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]:
        if (other := self._passed_on(request)) is not None:
            stream = other.stream(request, timeout)
            try:
                async for chunk in stream:
                    yield chunk
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
            return
        generation = await self.generate(request, timeout)
        yield Chunk(generation.texts[0] if generation.texts else "", generation.finish_reason)

    async def limits(self) -> Limits | None:
        return await self.fim.limits() if self.fim is not None else None

    async def aclose(self) -> None:
        await super().aclose()
        if self.fim is not None:
            await self.fim.aclose()


__all__ = ["HEADROOM", "ChatFimBackend", "chat_stops"]
