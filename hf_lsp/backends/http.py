"""What every HTTP adapter shares: the client, the error edge, and error-body reading."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from hf_lsp import __version__
from hf_lsp.errors import BackendTimeoutError, TransportError
from hf_lsp.redact import redact

USER_AGENT = f"hf-lsp/{__version__}"


def make_client(
    token: str | None, timeout: float, transport: httpx.AsyncBaseTransport | None
) -> httpx.AsyncClient:
    """One long-lived client per endpoint; redirects are not followed, so the token stays put."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        transport=transport,
        follow_redirects=False,
    )


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
    except httpx.TimeoutException as exc:
        raise BackendTimeoutError(f"{url} did not answer in time ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise TransportError(f"no answer from {url}: {redact(describe(exc))}") from None
    return response


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
                value = "; ".join(str(v) for v in value)
            if value:
                return str(value)
    fallback = fallback.strip()
    if fallback.lstrip().startswith("<"):
        return "an HTML page instead of JSON (a proxy or gateway error?)"
    return fallback or "an empty body"


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
