"""The two listings of what Inference Providers serve: the router's and the Hub's.

- ``GET {router}/v1/models``: the chat models, each with its providers' status, context
  length and price (USD per million tokens, input and output).
- ``GET {hub}/api/models?inference_provider=all&pipeline_tag=text-generation&expand[]=
  inferenceProviderMapping…``: the models whose mapping names a provider, with the task each
  provider serves them for (``text-generation`` is raw prompting, so fill-in-the-middle);
  the answer comes in pages, the next one named by the ``Link`` header.

The token goes to Hugging Face hosts only (``huggingface.co``, ``hf.co`` and their
subdomains), to the host of ``$HF_ENDPOINT`` and to ``trusted`` hosts (the router base the
settings already send it to): never to another URL given on the command line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from hf_lsp.backends.http import (
    Connection,
    body_text,
    json_or_none,
    make_client,
    status_error,
    translate,
)
from hf_lsp.config.settings import Network
from hf_lsp.errors import MalformedResponseError, TransportError

log = logging.getLogger(__name__)

HF_DOMAINS = ("huggingface.co", "hf.co")
HUB_QUERY: tuple[tuple[str, str], ...] = (
    ("inference_provider", "all"),
    ("pipeline_tag", "text-generation"),
    ("expand[]", "inferenceProviderMapping"),
    ("expand[]", "pipeline_tag"),
    ("expand[]", "tags"),
    ("limit", "1000"),
)
MAX_PAGES = 20
TIMEOUT = 20.0


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def is_hf_host(url: str, trusted: Iterable[str] = ()) -> bool:
    """Whether the token may be sent to ``url``."""
    host = host_of(url)
    if not host:
        return False
    if any(host == d or host.endswith("." + d) for d in HF_DOMAINS):
        return True
    return host in {host_of(t) for t in trusted if t}


class Listing:
    """Reads the listings with the network settings; one client per host, closed by ``aclose``."""

    def __init__(
        self,
        network: Network,
        token: str | None,
        *,
        trusted: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self._network = network
        self._token = token
        self._trusted = tuple(trusted)
        self._transport = transport
        self._timeout = timeout
        self._clients: dict[tuple[str, bool], httpx.AsyncClient] = {}

    def sends_token(self, url: str) -> bool:
        return self._token is not None and is_hf_host(url, self._trusted)

    def _client(self, url: str) -> httpx.AsyncClient:
        with_token = self.sends_token(url)
        key = (host_of(url), with_token)
        if key not in self._clients:
            connection = Connection.reaching(
                url, self._network, token=self._token if with_token else None,
                timeout=self._timeout,
            )
            self._clients[key] = make_client(connection, self._transport)
        return self._clients[key]

    async def get(self, url: str, params: Any = None) -> tuple[Any, httpx.Headers]:
        """GET one JSON document; errors are hf-lsp errors that name the URL."""
        try:
            response = await self._client(url).get(url, params=params)
        except httpx.HTTPError as exc:
            raise translate(exc, url) from None
        except (httpx.InvalidURL, ValueError) as exc:
            raise TransportError(f"{url} is not a URL hf-lsp can ask ({exc})") from None
        text = body_text(response)
        data = json_or_none(text)
        if response.status_code >= 400:
            raise status_error(
                response.status_code, response.headers, data, text, who=_strip_query(url)
            )
        if data is None:
            raise MalformedResponseError(f"{_strip_query(url)} did not answer JSON", body=text)
        return data, response.headers

    async def router_models(self, router: str) -> Any:
        """The router's ``/v1/models`` answer."""
        data, _ = await self.get(router.rstrip("/") + "/v1/models")
        return data

    async def hub_models(self, hub: str) -> list[Any]:
        """Every page of the Hub's listing of provider-served text-generation models."""
        url: str | None = hub.rstrip("/") + "/api/models"
        params: Any = list(HUB_QUERY)
        items: list[Any] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            data, headers = await self.get(url, params)
            if not isinstance(data, list):
                raise MalformedResponseError(f"{_strip_query(url)} did not answer a list")
            items.extend(data)
            url, params = _next_link(headers.get("link", "")), None
            if url is not None and not is_hf_host(url, (hub,)):
                log.warning("not following a next page on another host: %s", _strip_query(url))
                break
        return items

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header."""
    for part in header.split(","):
        target, _, rest = part.partition(";")
        if 'rel="next"' in rest.replace(" ", "") or "rel=next" in rest.replace(" ", ""):
            return target.strip().strip("<>")
    return None


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]
