"""The Hugging Face serverless Inference API (text-generation task).

``POST {endpoint}`` with ``{"inputs", "parameters", "options"}`` → ``[{"generated_text"}]``;
with ``"stream": true`` a TGI-backed model answers Server-Sent Events like TGI's
``/generate_stream``. Errors arrive as ``{"error": ..., "estimated_time"?: s}``.
Retrying is the engine's decision, not this adapter's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from hf_lsp.backends.http import HttpBackend, error_text, status_error
from hf_lsp.config.settings import SERVERLESS_MAX_NEW_TOKENS
from hf_lsp.errors import (
    HttpStatusError,
    MalformedResponseError,
    ModelLoadingError,
    ServerError,
    UnusedParametersError,
)
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Usage

_UNUSED = re.compile(r"model_kwargs`? are not used by the model: (\[[^\]]*\])")


def prepare_request(request: GenerationRequest, stream: bool = False) -> dict[str, Any]:
    """The JSON body: unset (``None``) parameters are left for the server to default."""
    parameters = {k: v for k, v in request.parameters.items() if v is not None}
    if "max_new_tokens" in parameters:
        parameters["max_new_tokens"] = min(parameters["max_new_tokens"], SERVERLESS_MAX_NEW_TOKENS)
    body: dict[str, Any] = {"inputs": request.prompt, "parameters": parameters}
    if request.options:
        body["options"] = dict(request.options)
    if stream:
        body["stream"] = True
    return body


def parse_response(status: int, data: Any, text: str) -> Generation:
    """A :class:`Generation` from a 2xx answer."""
    if isinstance(data, Mapping):
        if "error" in data:
            raise ServerError(
                f"the API answered {status} with an error: {error_text(data, text)}",
                status=status,
                body=text,
            )
        data = [data]
    if not isinstance(data, list) or not data:
        what = "an empty body" if not text.strip() else "a body that is not a list of generations"
        raise MalformedResponseError(f"the API answered {status} with {what}", body=text)
    texts: list[str] = []
    finish_reason = None
    generated: list[Any] = []
    for item in data:
        if not isinstance(item, Mapping) or not isinstance(item.get("generated_text"), str):
            raise MalformedResponseError(
                f"the API answered {status} without `generated_text`", body=text
            )
        texts.append(item["generated_text"])
        details = item.get("details")
        if isinstance(details, Mapping) and isinstance(details.get("finish_reason"), str):
            finish_reason = finish_reason or details["finish_reason"]
        generated.append(details.get("generated_tokens") if isinstance(details, Mapping) else None)
    counts = [Usage.read(None, g) for g in generated]
    usage = None
    if counts and all(c is not None for c in counts):  # TGI's count of every sequence
        usage = Usage(None, sum(c.completion_tokens or 0 for c in counts if c is not None))
    return Generation(tuple(texts), finish_reason, text, usage=usage)


def tgi_event(data: Any) -> Chunk | None:
    """One TGI stream event: ``{"token": {"text", "special"}, "details": null | {...}}``.

    The last event's ``details`` count the tokens: ``generated_tokens``, and ``input_length``
    (TGI 2).
    """
    if not isinstance(data, Mapping):
        raise MalformedResponseError(f"unexpected stream event {data!r}")
    token = data.get("token")
    details = data.get("details")
    reason = details.get("finish_reason") if isinstance(details, Mapping) else None
    text = ""
    if isinstance(token, Mapping) and not token.get("special"):
        text = str(token.get("text") or "")
    if not text and reason is None:
        return None
    usage = None
    if isinstance(details, Mapping):
        usage = Usage.read(details.get("input_length"), details.get("generated_tokens"))
    return Chunk(text, reason, usage)


def status_error_hf(
    status: int, headers: Mapping[str, str], data: Any, text: str
) -> HttpStatusError:
    """The API's own cases (loading, unused parameters), then the common ones."""
    message = error_text(data, text)
    estimated = data.get("estimated_time") if isinstance(data, Mapping) else None
    if status == 503 and ("loading" in message.lower() or estimated is not None):
        return ModelLoadingError(
            f"the model is loading ({message})",
            status=status,
            body=text,
            estimated_time=float(estimated) if isinstance(estimated, (int, float)) else None,
        )
    if status in (400, 422):
        unused = _UNUSED.search(message)
        if unused:
            return UnusedParametersError(
                f"the model does not accept some parameters ({message})",
                status=status,
                body=text,
                names=_names(unused.group(1)),
            )
    if status == 410:
        from hf_lsp.backends.providers import gone

        return gone(HttpStatusError(message, status=status, body=text))
    return status_error(status, headers, data, text, who="the Inference API")


def _names(listing: str) -> list[str]:
    try:
        value = ast.literal_eval(listing)
    except (ValueError, SyntaxError):
        return re.findall(r"\w+", listing)
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


class HuggingFaceBackend(HttpBackend):
    """One model on the serverless Inference API."""

    who = "the Inference API"
    max_new_tokens_cap = SERVERLESS_MAX_NEW_TOKENS
    # a verbatim URL may be a TGI route (an Inference Endpoint's `/generate`), where `stream`
    # in the body does nothing: stream only at the route that does
    stream_route = "/generate_stream"

    async def prepare(
        self, request: GenerationRequest, stream: bool
    ) -> tuple[str, dict[str, Any]]:
        host = (urlsplit(self.endpoint).hostname or "").lower()
        if self.connection.token is None and (host == "huggingface.co"
                                              or host.endswith(".huggingface.co")):
            from hf_lsp.backends.providers import token_missing

            raise token_missing()  # Hugging Face's own hosts answer nothing without a token
        return await super().prepare(request, stream)

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        return prepare_request(request, stream)

    def parse(self, status: int, data: Any, text: str) -> Generation:
        return parse_response(status, data, text)

    def event(self, data: Any) -> Chunk | None:
        return tgi_event(data)

    def error(
        self, status: int, headers: Mapping[str, str], data: Any, text: str
    ) -> HttpStatusError:
        return status_error_hf(status, headers, data, text)
