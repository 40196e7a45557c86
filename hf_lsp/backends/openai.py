"""OpenAI-compatible servers: vLLM, llama.cpp's server, LM Studio, TGI's ``/v1``.

``POST {url}/v1/completions`` with the rendered FIM prompt (vLLM and TGI reject ``suffix``)
→ ``choices[].text``; streaming is ``data: {json}`` lines ending with ``data: [DONE]``.
Errors come as ``{"error": {"message", "type"}}``, flat ``{"message"}`` or ``{"detail"}``.
``POST {url}/v1/chat/completions`` serves instruction models.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from hf_lsp.backends.http import HttpBackend, error_text
from hf_lsp.errors import BadRequestError, MalformedResponseError
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Usage

log = logging.getLogger(__name__)

MAX_STOPS = 4  # OpenAI's own limit; vLLM takes more, but a valid setting must work everywhere


def base_url(url: str) -> str:
    """The server root, whether the setting ends in ``/v1``, ``/v1/completions`` or neither."""
    url = url.rstrip("/")
    for tail in ("/chat/completions", "/completions"):
        if url.endswith(tail):
            url = url[: -len(tail)]
    if url.endswith("/v1"):
        url = url[:-3]
    return url


def openai_parameters(model: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The user's Hugging Face-named parameters as OpenAI completion fields."""
    p = {k: v for k, v in parameters.items() if v is not None}
    body: dict[str, Any] = {"model": model, "max_tokens": p.get("max_new_tokens", 128)}
    if p.get("do_sample") is False:
        body["temperature"] = 0.0  # greedy
    elif "temperature" in p:
        body["temperature"] = p["temperature"]
    if "top_p" in p and p.get("do_sample") is not False:
        body["top_p"] = p["top_p"]
    if p.get("stop"):
        body["stop"] = list(p["stop"])[:MAX_STOPS]
    if p.get("num_return_sequences", 1) > 1:
        body["n"] = p["num_return_sequences"]
    # not OpenAI's, but vLLM, llama.cpp and LM Studio read them: sent only when set
    if "top_k" in p:
        body["top_k"] = p["top_k"]
    if "repetition_penalty" in p:
        body["repetition_penalty"] = p["repetition_penalty"]
    return body


def parse_completion(data: Any, text: str, *, chat: bool = False) -> Generation:
    choices = data.get("choices") if isinstance(data, Mapping) else None
    if not isinstance(choices, list) or not choices:
        raise MalformedResponseError("the server answered without `choices`", body=text)
    texts = []
    for choice in sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c, Mapping) else 0):
        value = _choice_text(choice, chat)
        if value is None:
            raise MalformedResponseError("a choice without text", body=text)
        texts.append(value)
    first = choices[0] if isinstance(choices[0], Mapping) else {}
    return Generation(tuple(texts), first.get("finish_reason"), text, usage=openai_usage(data))


def openai_usage(data: Any) -> Usage | None:
    """``usage: {prompt_tokens, completion_tokens}`` of an answer or a stream's last event."""
    usage = data.get("usage") if isinstance(data, Mapping) else None
    if not isinstance(usage, Mapping):
        return None
    return Usage.read(usage.get("prompt_tokens"), usage.get("completion_tokens"))


def _choice_text(choice: Any, chat: bool) -> str | None:
    if not isinstance(choice, Mapping):
        return None
    if chat:
        message = choice.get("message") or choice.get("delta") or {}
        content = message.get("content") if isinstance(message, Mapping) else None
        return content if isinstance(content, str) else ("" if "delta" in choice else None)
    value = choice.get("text")
    return value if isinstance(value, str) else None


class OpenAIBackend(HttpBackend):
    """An OpenAI-compatible completions server."""

    who = "the OpenAI-compatible server"

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return base_url(self.endpoint) + "/v1/completions"

    # ask a stream for its token counts in a last event (OpenAI, vLLM, llama.cpp, Ollama's /v1
    # and the router take it); a server that rejects the field is asked without it from then on
    usage_option = True

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        body = openai_parameters(request.model, request.parameters)
        body["prompt"] = request.prompt
        body["stream"] = stream
        return self.with_usage_option(body, stream)

    def with_usage_option(self, body: dict[str, Any], stream: bool) -> dict[str, Any]:
        if stream and self.usage_option:
            body["stream_options"] = {"include_usage": True}
        return body

    async def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]:
        try:
            async for chunk in super().stream(request, timeout):
                yield chunk
        except BadRequestError as exc:
            if not self.usage_option or "stream_options" not in str(exc):
                raise
            log.warning("%s does not take stream_options; streaming without token counts",
                        self.who)
            self.usage_option = False
            async for chunk in super().stream(request, timeout):
                yield chunk

    def parse(self, status: int, data: Any, text: str) -> Generation:
        if isinstance(data, Mapping) and data.get("object") == "error":  # older vLLM, with 200
            raise MalformedResponseError(f"the server answered: {error_text(data, text)}",
                                         body=text)
        return parse_completion(data, text)

    def event(self, data: Any) -> Chunk | None:
        usage = openai_usage(data)
        choices = data.get("choices") if isinstance(data, Mapping) else None
        if not isinstance(choices, list) or not choices:
            return Chunk("", None, usage) if usage is not None else None  # usage-only
        choice = choices[0]
        text = _choice_text(choice, chat="delta" in choice) or ""
        reason = choice.get("finish_reason") if isinstance(choice, Mapping) else None
        if not text and reason is None and usage is None:
            return None
        return Chunk(text, reason, usage)

    async def chat(
        self,
        messages: Sequence[Mapping[str, str]],
        parameters: Mapping[str, Any],
        model: str,
        timeout: float | None = None,
    ) -> Generation:
        """One ``/v1/chat/completions`` answer, for instruction models."""
        url = base_url(self.endpoint) + "/v1/chat/completions"
        body = openai_parameters(model, parameters)
        body["messages"] = [dict(m) for m in messages]
        _, data, text = await self.post(url, body, timeout)
        return parse_completion(data, text, chat=True)
