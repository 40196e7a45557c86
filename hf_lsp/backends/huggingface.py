"""The Hugging Face serverless Inference API (text-generation task).

``POST {endpoint}`` with ``{"inputs", "parameters", "options"}`` → ``[{"generated_text"}]``.
Errors arrive as ``{"error": ..., "estimated_time"?: s}`` and are translated here into the
hierarchy of :mod:`hf_lsp.errors`; retrying is the engine's decision, not this adapter's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

import httpx

from hf_lsp.backends.http import (
    body_text,
    error_text,
    json_or_none,
    make_client,
    post_json,
    retry_after,
)
from hf_lsp.engine.generation import Exchange, Generation, GenerationRequest
from hf_lsp.errors import (
    AuthError,
    BackendError,
    BadRequestError,
    HttpStatusError,
    MalformedResponseError,
    ModelLoadingError,
    ModelNotFoundError,
    RateLimitedError,
    ServerError,
    UnusedParametersError,
)

_UNUSED = re.compile(r"model_kwargs`? are not used by the model: (\[[^\]]*\])")


def prepare_request(request: GenerationRequest) -> dict[str, Any]:
    """The JSON body: unset (``None``) parameters are left for the server to default."""
    body: dict[str, Any] = {
        "inputs": request.prompt,
        "parameters": {k: v for k, v in request.parameters.items() if v is not None},
    }
    if request.options:
        body["options"] = dict(request.options)
    return body


def parse_response(status: int, headers: Mapping[str, str], text: str) -> Generation:
    """A :class:`Generation` from a 2xx answer, or the matching :class:`BackendError`."""
    data = json_or_none(text)
    if status >= 400:
        raise status_error(status, headers, data, text)
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
    for item in data:
        if not isinstance(item, Mapping) or not isinstance(item.get("generated_text"), str):
            raise MalformedResponseError(
                f"the API answered {status} without `generated_text`", body=text
            )
        texts.append(item["generated_text"])
        details = item.get("details")
        if isinstance(details, Mapping) and isinstance(details.get("finish_reason"), str):
            finish_reason = finish_reason or details["finish_reason"]
    return Generation(tuple(texts), finish_reason, text)


def status_error(
    status: int, headers: Mapping[str, str], data: Any, text: str
) -> HttpStatusError:
    """Translate an error status and its body."""
    message = error_text(data, text)
    if status in (401, 403):
        return AuthError(
            f"invalid or missing Hugging Face token ({status}: {message}). Set hfLsp.apiToken, "
            "$HF_TOKEN, or run `huggingface-cli login`",
            status=status,
            body=text,
        )
    if status == 404:
        return ModelNotFoundError(
            f"model not found ({status}: {message}). Check hfLsp.model and hfLsp.url",
            status=status,
            body=text,
        )
    estimated = data.get("estimated_time") if isinstance(data, Mapping) else None
    if status == 503 and ("loading" in message.lower() or estimated is not None):
        return ModelLoadingError(
            f"the model is loading ({message})",
            status=status,
            body=text,
            estimated_time=float(estimated) if isinstance(estimated, (int, float)) else None,
        )
    if status == 429:
        return RateLimitedError(
            f"rate limited (429: {message})",
            status=status,
            body=text,
            retry_after=retry_after(headers),
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
        return BadRequestError(f"the API rejected the request ({status}: {message})",
                               status=status, body=text)
    return ServerError(f"the API answered {status}: {message}", status=status, body=text)


def _names(listing: str) -> list[str]:
    try:
        value = ast.literal_eval(listing)
    except (ValueError, SyntaxError):
        return re.findall(r"\w+", listing)
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


class HuggingFaceBackend:
    """One endpoint of the Inference API, with a long-lived HTTP client."""

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        on_exchange: Exchange | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._client = make_client(token, timeout, transport)
        self._on_exchange = on_exchange

    async def generate(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> Generation:
        body = prepare_request(request)
        response = await post_json(self._client, self.endpoint, body, timeout)
        text = body_text(response)
        if self._on_exchange is not None:
            self._on_exchange(self.endpoint, body, response.status_code, text)
        try:
            return parse_response(response.status_code, response.headers, text)
        except BackendError:
            raise
        except Exception as exc:  # a shape no rule above foresaw: still the backend's fault
            raise MalformedResponseError(f"cannot read the answer: {exc}", body=text) from None

    async def aclose(self) -> None:
        await self._client.aclose()
