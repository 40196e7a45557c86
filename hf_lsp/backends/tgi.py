"""text-generation-inference (and Hugging Face Inference Endpoints, which run it).

``POST {url}/generate`` → ``{"generated_text", "details"}``; ``POST {url}/generate_stream`` →
SSE ``data:{json}`` events; ``GET {url}/info`` → the server's token limits. Settings are
translated so that a valid setting never earns a 422: TGI wants ``temperature`` > 0,
0 < ``top_p`` < 1, at most ``max_stop_sequences`` stops, and input + new tokens within
``max_total_tokens`` (``truncate`` keeps the input inside it). A verbatim URL (``url`` with
``urlPathCompletion`` off) streams only when it is a ``/generate_stream`` route, and ``/info`` is
asked for only beside a ``/generate`` or ``/generate_stream`` route.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hf_lsp.backends.http import HttpBackend, json_or_none, status_error, url_path
from hf_lsp.backends.huggingface import parse_response, tgi_event
from hf_lsp.errors import HttpStatusError, RateLimitedError
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Limits

log = logging.getLogger(__name__)

# the parameters TGI's /generate accepts, by their (shared) Hugging Face names
_KNOWN = ("temperature", "top_p", "top_k", "repetition_penalty", "do_sample", "stop",
          "max_new_tokens", "seed", "typical_p", "frequency_penalty", "truncate", "watermark")
DEFAULT_MAX_STOPS = 4
ROUTES = ("/generate_stream", "/generate")


def tgi_parameters(
    parameters: Mapping[str, Any], limits: Limits | None
) -> dict[str, Any]:
    """The user's parameters made valid for TGI's validation."""
    out = {k: v for k, v in parameters.items() if k in _KNOWN and v is not None}
    if not out.get("temperature") or out["temperature"] <= 0:
        out.pop("temperature", None)
    top_p = out.get("top_p")
    if top_p is not None and not 0 < top_p < 1:
        out.pop("top_p")
    if out.get("repetition_penalty") is not None and out["repetition_penalty"] <= 0:
        out.pop("repetition_penalty")
    if out.get("do_sample") is False:
        for name in ("temperature", "top_p", "top_k"):
            out.pop(name, None)
    max_stops = (limits.max_stop_sequences if limits else None) or DEFAULT_MAX_STOPS
    if out.get("stop"):
        out["stop"] = list(out["stop"])[:max_stops]
    total = limits.max_total_tokens if limits else None
    if total:
        wanted = out.get("max_new_tokens") or 20
        out["max_new_tokens"] = max(1, min(wanted, total - 1))
        room = total - out["max_new_tokens"]
        cap = limits.max_input_tokens if limits and limits.max_input_tokens else room
        out["truncate"] = max(1, min(room, cap))
    out["return_full_text"] = False
    out["details"] = True
    return out


def parse_info(data: Any) -> Limits | None:
    if not isinstance(data, Mapping):
        return None

    def number(*keys: str) -> int | None:
        for key in keys:
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None

    return Limits(
        max_input_tokens=number("max_input_tokens", "max_input_length"),
        max_total_tokens=number("max_total_tokens"),
        max_stop_sequences=number("max_stop_sequences"),
    )


class TgiBackend(HttpBackend):
    """A text-generation-inference server or Inference Endpoint."""

    who = "the TGI server"
    stream_route = "/generate_stream"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits: Limits | None = None
        self._asked = False

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return self.endpoint + ("/generate_stream" if stream else "/generate")

    def info_url(self) -> str | None:
        """Where ``/info`` is: beside the generation routes (``None``: nowhere to be sure of)."""
        if not self.verbatim:
            return self.endpoint + "/info"
        path = url_path(self.endpoint)
        route = next((r for r in ROUTES if path.endswith(r)), None)
        if route is None:
            return None
        parts = urlsplit(self.endpoint)
        return urlunsplit(parts._replace(path=path[: -len(route)] + "/info", query=""))

    async def limits(self) -> Limits | None:
        """``GET /info``, once: the limits every request must fit."""
        url = self.info_url()
        if not self._asked and url is not None:
            self._asked = True
            try:
                response = await self._client.get(url, timeout=5.0)
            except Exception as exc:  # no /info (an old or proxied server): go without
                log.info("no limits from %s: %s", url, exc)
                return None
            if response.status_code == 200:
                self._limits = parse_info(json_or_none(response.text))
                log.info("%s limits: %s", url, self._limits)
        return self._limits

    async def prepare(
        self, request: GenerationRequest, stream: bool
    ) -> tuple[str, dict[str, Any]]:
        await self.limits()
        return await super().prepare(request, stream)

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        return {"inputs": request.prompt, "parameters": tgi_parameters(request.parameters,
                                                                      self._limits)}

    def parse(self, status: int, data: Any, text: str) -> Generation:
        return parse_response(status, data, text)

    def event(self, data: Any) -> Chunk | None:
        return tgi_event(data)

    def error(
        self, status: int, headers: Mapping[str, str], data: Any, text: str
    ) -> HttpStatusError:
        error = status_error(status, headers, data, text, who=self.who)
        kind = data.get("error_type") if isinstance(data, Mapping) else None
        if kind == "overloaded" and not isinstance(error, RateLimitedError):
            return RateLimitedError(str(error), status=status, body=text)
        return error

