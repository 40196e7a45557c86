"""Ollama: ``POST {url}/api/generate``.

Ollama does fill-in-the-middle itself from ``prompt`` + ``suffix`` with the model's own
template; a model without one answers 400 "does not support insert", and hf-lsp then sends
the rendered FIM prompt with ``raw: true`` instead (and remembers). Streaming is NDJSON
(``{"response", "done"}`` lines, ``{"error"}`` also mid-stream); ``stream`` defaults to true,
so it is always sent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from hf_lsp.backends.http import HttpBackend, error_text, status_error
from hf_lsp.errors import (
    BadRequestError,
    HttpStatusError,
    MalformedResponseError,
    ModelNotFoundError,
)
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Usage

log = logging.getLogger(__name__)


class NoInsertError(BadRequestError):
    """The model has no FIM template: Ollama cannot use ``suffix``."""


def ollama_options(parameters: Mapping[str, Any]) -> dict[str, Any]:
    p = {k: v for k, v in parameters.items() if v is not None}
    options: dict[str, Any] = {"num_predict": p.get("max_new_tokens", 128)}
    if p.get("do_sample") is False:
        options["temperature"] = 0.0
    elif "temperature" in p:
        options["temperature"] = p["temperature"]
    for ours, theirs in (("top_p", "top_p"), ("top_k", "top_k"),
                         ("repetition_penalty", "repeat_penalty")):
        if ours in p:
            options[theirs] = p[ours]
    if p.get("stop"):
        options["stop"] = list(p["stop"])
    return options


class OllamaBackend(HttpBackend):
    """An Ollama server."""

    who = "Ollama"
    framing = "ndjson"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.raw_models: set[str] = set()  # models that cannot take `suffix`

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return self.endpoint + "/api/generate"

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "stream": stream,
            "options": ollama_options(request.parameters),
        }
        if request.fim and request.model not in self.raw_models:
            body["prompt"] = request.prefix
            body["suffix"] = request.suffix
        else:
            body["prompt"] = request.prompt
            body["raw"] = True
        return body

    async def generate(self, request: GenerationRequest, timeout: float | None = None
                       ) -> Generation:
        try:
            return await super().generate(request, timeout)
        except NoInsertError:
            self._fall_back(request)
            return await super().generate(request, timeout)

    def _fall_back(self, request: GenerationRequest) -> None:
        log.warning("%s cannot fill in the middle itself; sending the FIM prompt raw",
                    request.model)
        self.raw_models.add(request.model)

    async def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]:
        try:
            async for chunk in super().stream(request, timeout):
                yield chunk
        except NoInsertError:
            self._fall_back(request)
            async for chunk in super().stream(request, timeout):
                yield chunk

    def parse(self, status: int, data: Any, text: str) -> Generation:
        if not isinstance(data, Mapping) or not isinstance(data.get("response"), str):
            raise MalformedResponseError("Ollama answered without `response`", body=text)
        return Generation((data["response"],), data.get("done_reason"), text,
                          usage=Usage.read(data.get("prompt_eval_count"), data.get("eval_count")))

    def event(self, data: Any) -> Chunk | None:
        if not isinstance(data, Mapping):
            raise MalformedResponseError(f"unexpected stream line {data!r}")
        text = data.get("response") or ""
        reason = (data.get("done_reason") or "stop") if data.get("done") else None
        if not text and reason is None:
            return None
        usage = Usage.read(data.get("prompt_eval_count"), data.get("eval_count"))
        return Chunk(str(text), reason, usage)

    def error(
        self, status: int, headers: Mapping[str, str], data: Any, text: str
    ) -> HttpStatusError:
        message = error_text(data, text)
        if status == 400 and "does not support insert" in message:
            return NoInsertError(f"Ollama: {message}", status=status, body=text)
        if status == 404 and "not found" in message:
            return ModelNotFoundError(
                f"Ollama: {message} (run `ollama pull <model>`, or check hfLsp.model)",
                status=status,
                body=text,
            )
        return status_error(status, headers, data, text, who=self.who)
