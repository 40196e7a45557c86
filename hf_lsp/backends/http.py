"""What every HTTP adapter shares: the client, the error edge, streaming, error-body reading.

An adapter subclasses :class:`HttpBackend` and says only what its wire format is: where to
post, what body to send, how to read an answer, a stream event and an error. Everything
httpx raises is turned into :mod:`hf_lsp.errors` here.
"""

from __future__ import annotations

import email.utils
import json
import logging
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource, SSEError

from hf_lsp import __version__
from hf_lsp.config.settings import Network
from hf_lsp.errors import (
    AuthError,
    BackendError,
    BackendTimeoutError,
    BadRequestError,
    HttpStatusError,
    MalformedResponseError,
    ModelNotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from hf_lsp.generation.contract import (
    Chunk,
    Exchange,
    Generation,
    GenerationRequest,
    Limits,
    Usage,
)
from hf_lsp.generation.usage import Meter
from hf_lsp.redact import redact

log = logging.getLogger(__name__)

USER_AGENT = f"hf-lsp/{__version__}"
RAW_LIMIT = 64_000  # characters of a streamed answer kept for --show-request


@dataclass(frozen=True)
class Connection:
    """How to reach a backend: endpoint, token, timeouts, proxy and TLS.

    ``verbatim``: the endpoint is the very URL to POST to, not a base to add routes to.
    """

    endpoint: str
    token: str | None = None
    timeout: float = 30.0
    connect_timeout: float = 10.0
    proxy: str | None = None
    ca_bundle: str | None = None
    tls_verify: bool = True
    verbatim: bool = False

    @classmethod
    def reaching(
        cls, endpoint: str, network: Network, *, token: str | None = None,
        timeout: float = 30.0, verbatim: bool = False,
    ) -> Connection:
        """A connection to ``endpoint`` through the ``network`` settings."""
        return cls(endpoint, token, timeout, network.connect_timeout, network.proxy,
                   network.ca_bundle, network.tls_verify, verbatim)


def make_client(
    connection: Connection, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """One long-lived client per endpoint; redirects are not followed, so the token stays put."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if connection.token:
        headers["Authorization"] = f"Bearer {connection.token}"
    return httpx.AsyncClient(
        headers=headers,
        timeout=_timeout(connection.timeout, connection.connect_timeout),
        transport=transport,
        follow_redirects=False,
        proxy=connection.proxy,
        verify=tls(connection),
        trust_env=True,  # HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE
    )


def tls(connection: Connection) -> ssl.SSLContext | bool:
    """The ``verify`` httpx needs for the connection's TLS settings (a warning when it is off)."""
    verify: ssl.SSLContext | bool = True
    if not connection.tls_verify:
        log.warning(
            "TLS verification is OFF for %s (network.tlsVerify=false): anyone on the path can "
            "read and change this traffic",
            connection.endpoint,
        )
        verify = False
    elif connection.ca_bundle:
        try:
            verify = ssl.create_default_context(cafile=connection.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            log.error(
                "cannot use network.caBundle %s (%s); verifying with the system's authorities",
                connection.ca_bundle,
                exc,
            )
    return verify


def _timeout(read: float, connect: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=min(read, connect))


async def post_json(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any], timeout: float | None
) -> httpx.Response:
    """POST ``body`` and read the whole answer; httpx errors become hf-lsp errors here."""
    kwargs: dict[str, Any] = {}
    if timeout is not None:
        kwargs["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 10.0))
    try:
        response = await client.post(url, json=body, **kwargs)
        await response.aread()
    except httpx.HTTPError as exc:
        raise translate(exc, url) from None
    return response


def translate(exc: httpx.HTTPError, url: str) -> TransportError:
    """An httpx exception as an hf-lsp transport error that names the URL."""
    if isinstance(exc, httpx.TimeoutException):
        return BackendTimeoutError(f"{url} did not answer in time ({type(exc).__name__})")
    return TransportError(f"no answer from {url}: {redact(describe(exc))}")


def describe(exc: BaseException) -> str:
    """An httpx error as one readable phrase (some of them have an empty message)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def body_text(response: httpx.Response) -> str:
    """The response body as text, token-free."""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = response.content.decode("utf-8", "replace")
    return redact(text)


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def error_text(data: Any, fallback: str) -> str:
    """The human part of an error body.

    ``{"error": str}``, ``{"error": {"message"}}``, ``{"detail"}`` or the raw text.
    """
    if isinstance(data, Mapping):
        for key in ("error", "detail", "message"):
            value = data.get(key)
            if isinstance(value, Mapping):
                value = value.get("message") or json.dumps(value)
            if isinstance(value, list):
                value = "; ".join(_detail(v) for v in value)
            if value:
                return str(value)
    fallback = fallback.strip()
    if fallback.lstrip().startswith("<"):
        return "an HTML page instead of JSON (a proxy or gateway error?)"
    return fallback or "an empty body"


def _detail(item: Any) -> str:
    """One entry of a FastAPI ``detail`` list: ``{"loc": [...], "msg": ...}``."""
    if isinstance(item, Mapping) and "msg" in item:
        where = ".".join(str(p) for p in item.get("loc", ()))
        return f"{where}: {item['msg']}" if where else str(item["msg"])
    return str(item)


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP date."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def status_error(
    status: int, headers: Mapping[str, str], data: Any, text: str, *, who: str
) -> HttpStatusError:
    """The error every backend means by a status; adapters handle their own cases first."""
    message = error_text(data, text)
    if status in (401, 403):
        return AuthError(
            f"{who} refused the token ({status}: {message}): invalid or missing token. Set "
            "hfLsp.apiToken, $HF_TOKEN, or run `huggingface-cli login`",
            status=status,
            body=text,
        )
    if status == 404:
        return ModelNotFoundError(
            f"{who} answered 404 ({message}): model not found or wrong URL path. Check "
            "hfLsp.model, hfLsp.url and hfLsp.backend",
            status=status,
            body=text,
        )
    if status == 429:
        return RateLimitedError(
            f"{who} is rate limiting (429: {message})",
            status=status,
            body=text,
            retry_after=retry_after(headers),
        )
    if status in (400, 413, 422):
        return BadRequestError(
            f"{who} rejected the request ({status}: {message})", status=status, body=text
        )
    return ServerError(f"{who} answered {status}: {message}", status=status, body=text)


class HttpBackend:
    """The HTTP plumbing of an adapter; subclasses define the wire format."""

    who = "the backend"
    framing = "sse"  # or "ndjson"
    max_new_tokens_cap: int | None = None
    # a wire format that streams at a route of its own (TGI's): with a verbatim URL, only a
    # URL ending in it streams, any other answers whole
    stream_route: str | None = None

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        on_exchange: Exchange | None = None,
        request_body: Mapping[str, Any] | None = None,
        meter: Meter | None = None,
        priced: str | None = None,
    ) -> None:
        self.endpoint = connection.endpoint
        self.connection = connection
        self.verbatim = connection.verbatim
        self._client = make_client(connection, transport)
        self._on_exchange = on_exchange
        self._extra = dict(request_body or {})
        self.meter = meter
        self.priced = priced  # the router base whose /v1/models prices calls under it

    # --- the wire format (subclasses) ---------------------------------------------------

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return self.endpoint

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, status: int, data: Any, text: str) -> Generation:
        raise NotImplementedError

    def event(self, data: Any) -> Chunk | None:
        """One stream event as a chunk (``None`` to skip it); raise for an error event."""
        raise NotImplementedError

    def error(
        self, status: int, headers: Mapping[str, str], data: Any, text: str
    ) -> HttpStatusError:
        return status_error(status, headers, data, text, who=self.who)

    async def limits(self) -> Limits | None:
        return None

    # --- requests -----------------------------------------------------------------------

    async def prepare(
        self, request: GenerationRequest, stream: bool
    ) -> tuple[str, dict[str, Any]]:
        """URL and body, with ``requestBody`` merged over what the settings map."""
        url = self.endpoint if self.verbatim else self.url(request, stream)
        return url, merge_body(self.body(request, stream), self._extra)

    def at_stream_route(self) -> bool | None:
        """Whether a verbatim URL is the stream route (``None``: no such route to be at)."""
        if not (self.verbatim and self.stream_route):
            return None
        return url_path(self.endpoint).endswith(self.stream_route)

    async def generate(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> Generation:
        if self.at_stream_route():  # that URL only streams: read the stream to its end
            return await collect(self.stream(request, timeout))
        url, body = await self.prepare(request, False)
        status, data, text, headers = await self.exchange(url, body, timeout)
        _check_not_empty(self.who, status, text)
        try:
            generation = self.parse(status, data, text)
        except BackendError:
            raise
        except Exception as exc:  # a shape no rule foresaw: still the backend's fault
            raise MalformedResponseError(
                f"cannot read {self.who}'s answer ({type(exc).__name__}: {exc})", body=text
            ) from None
        self.count(url, request, generation.texts, generation.usage, headers)
        return generation

    async def post(
        self, url: str, body: Mapping[str, Any], timeout: float | None
    ) -> tuple[int, Any, str]:
        """POST one JSON body: ``(status, parsed JSON or None, token-free text)``.

        The exchange is reported, and an error status raised as this backend's error.
        """
        status, data, text, _ = await self.exchange(url, body, timeout)
        return status, data, text

    async def exchange(
        self, url: str, body: Mapping[str, Any], timeout: float | None
    ) -> tuple[int, Any, str, httpx.Headers]:
        """:meth:`post`, with the response headers."""
        response = await post_json(self._client, url, body, timeout)
        text = body_text(response)
        if self._on_exchange is not None:
            self._on_exchange(url, body, response.status_code, text)
        data = json_or_none(text)
        if response.status_code >= 400:
            raise self.error(response.status_code, response.headers, data, text)
        return response.status_code, data, text, response.headers

    def count(
        self,
        url: str,
        request: GenerationRequest,
        texts: tuple[str, ...] | list[str],
        usage: Usage | None,
        headers: Mapping[str, str],
    ) -> None:
        """Record one call's tokens: the body's figures, else the headers', else estimates."""
        if self.meter is None:
            return
        usage = (usage or Usage()).over(header_usage(headers))
        priced = self.priced if self.priced is not None and url.startswith(self.priced) else None
        provider = provider_of(url, request.model, headers, self.priced)
        self.meter.record(request.billed_model, provider, request.prompt, texts, usage,
                          priced_by=priced)

    async def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]:
        """Yield the generation as it arrives; closing the generator closes the connection."""
        if self.at_stream_route() is False:  # a verbatim URL that does not stream
            generation = await self.generate(request, timeout)
            yield Chunk(generation.texts[0] if generation.texts else "", generation.finish_reason)
            return
        url, body = await self.prepare(request, True)
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        accept = "text/event-stream" if self.framing == "sse" else "application/x-ndjson"
        raw: list[str] = []
        status = 0
        parts: list[str] = []  # what arrived, for the token count (also of a stream cut short)
        usage: Usage | None = None
        headers: Mapping[str, str] = {}
        try:
            async with self._client.stream(
                "POST", url, json=body, headers={"Accept": accept}, **kwargs
            ) as response:
                status = response.status_code
                if status >= 400 or not _is_stream(response, self.framing):
                    await response.aread()
                    text = body_text(response)
                    raw.append(text)
                    whole = self._whole(status, response.headers, text)
                    headers, usage = response.headers, whole.usage
                    parts.append(whole.text)
                    yield whole
                    return
                headers = response.headers
                async for data in self._events(response, raw):
                    chunk = self.event(data)
                    if chunk is None:
                        continue
                    usage = chunk.usage or usage
                    if not chunk.text and chunk.finish_reason is None:
                        continue  # a usage-only event
                    parts.append(chunk.text)
                    yield chunk
        except httpx.HTTPError as exc:
            raise translate(exc, url) from None
        finally:
            if self._on_exchange is not None and status:
                self._on_exchange(url, body, status, "".join(raw)[:RAW_LIMIT])
            if 200 <= status < 400 and (parts or usage is not None):
                self.count(url, request, ["".join(parts)], usage, headers)

    def _whole(self, status: int, headers: Mapping[str, str], text: str) -> Chunk:
        """A server that answered a stream request with one JSON body (or an error)."""
        data = json_or_none(text)
        if status >= 400:
            raise self.error(status, headers, data, text)
        _check_not_empty(self.who, status, text)
        generation = self.parse(status, data, text)
        return Chunk(
            generation.texts[0] if generation.texts else "",
            generation.finish_reason,
            generation.usage,
        )

    async def _events(self, response: httpx.Response, raw: list[str]) -> AsyncIterator[Any]:
        if self.framing == "sse":
            try:
                async for sse in EventSource(response).aiter_sse():
                    payload = sse.data.strip()
                    if len(raw) < 4096:
                        raw.append(f"{sse.event}: {payload}\n")
                    if not payload:
                        continue
                    if payload == "[DONE]":
                        return
                    yield self._decode(payload, sse.event == "error")
            except SSEError as exc:
                raise MalformedResponseError(f"{self.who} sent a broken stream: {exc}") from None
        else:
            async for line in response.aiter_lines():
                if len(raw) < 4096:
                    raw.append(line + "\n")
                if line.strip():
                    yield self._decode(line, False)

    def _decode(self, payload: str, is_error: bool) -> Any:
        data = json_or_none(payload)
        if data is None:
            raise MalformedResponseError(
                f"{self.who} sent a stream event that is not JSON", body=redact(payload)
            )
        if is_error or (isinstance(data, Mapping) and "error" in data):
            raise ServerError(
                f"{self.who} reported an error mid-stream: {error_text(data, payload)}",
                status=200,
                body=redact(payload),
            )
        return data

    async def aclose(self) -> None:
        await self._client.aclose()


async def collect(chunks: AsyncIterator[Chunk]) -> Generation:
    """A whole generation from a stream of chunks."""
    parts: list[str] = []
    reason: str | None = None
    usage: Usage | None = None
    async for chunk in chunks:
        parts.append(chunk.text)
        reason = chunk.finish_reason or reason
        usage = chunk.usage or usage
    return Generation(("".join(parts),), reason, usage=usage)


def header_usage(headers: Mapping[str, str]) -> Usage | None:
    """``x-prompt-tokens`` / ``x-generated-tokens`` (the HF API, TGI)."""
    return Usage.read(headers.get("x-prompt-tokens"), headers.get("x-generated-tokens"))


ROUTING_POLICIES = frozenset({"fastest", "cheapest", "preferred", "auto"})


def provider_of(
    url: str, model: str, headers: Mapping[str, str], router: str | None
) -> str | None:
    """Which provider served a call (``None``: not known).

    The router's ``x-inference-provider`` header, else the model's ``:provider`` suffix,
    else the first path segment under the router base.
    """
    named = str(headers.get("x-inference-provider") or "").strip()
    if named:
        return named
    _, _, suffix = model.partition(":")
    if suffix and suffix not in ROUTING_POLICIES:
        return suffix
    if router is not None and url.startswith(router):
        segment = url[len(router):].lstrip("/").split("/", 1)[0]
        if segment and segment not in ("v1", "models"):
            return segment
    return None


def url_path(url: str) -> str:
    """The path of ``url``, without a trailing slash."""
    return urlsplit(url).path.rstrip("/")


def _check_not_empty(who: str, status: int, text: str) -> None:
    """A success with nothing in it says so, rather than naming a field it lacks."""
    if not text.strip():
        raise MalformedResponseError(f"{who} answered {status} with an empty body")


def _is_stream(response: httpx.Response, framing: str) -> bool:
    content_type = str(response.headers.get("content-type", "")).split(";")[0].strip().lower()
    if framing == "sse":
        return content_type == "text/event-stream"
    return content_type in ("application/x-ndjson", "application/jsonl", "application/json-seq")


def merge_body(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``requestBody`` over the mapped body: objects merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_body(out[key], value)
        else:
            out[key] = value
    return out
