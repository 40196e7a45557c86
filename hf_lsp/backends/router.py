"""The `huggingface` backend through the Inference Providers router.

Each request finds its route first (:mod:`hf_lsp.backends.providers`: the Hub's mapping,
fetched once per model and kept), then goes through the adapter of that route: the OpenAI
completions body (``openai.py``) for a provider's text-generation route, the serverless
API's body (``huggingface.py``) for ``hf-inference``, the chat fill-in-the-middle adapter
(``chat_fim.py``) for a model served only as ``conversational``. The router's errors are
turned into what the user has to do. Without a token nothing is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from hf_lsp.backends.catalog import Offer
from hf_lsp.backends.chat_fim import ChatFimBackend
from hf_lsp.backends.http import (
    Connection,
    HttpBackend,
    body_text,
    error_text,
    json_or_none,
    make_client,
    translate,
)
from hf_lsp.backends.huggingface import HuggingFaceBackend
from hf_lsp.backends.openai import OpenAIBackend
from hf_lsp.backends.providers import (
    MODELS_HINT,
    POLICIES,
    Entry,
    MappingStore,
    Route,
    choose,
    explain,
    hub_error,
    mapping_url,
    not_supported,
    read_mapping,
    token_missing,
)
from hf_lsp.backends.suggest import read_offers, suggested, with_suggestions
from hf_lsp.config.api_token import resolve_token
from hf_lsp.config.settings import Network
from hf_lsp.errors import BackendError, HttpStatusError, ModelLoadingError
from hf_lsp.generation.contract import Chunk, Exchange, Generation, GenerationRequest, Limits
from hf_lsp.generation.rate_limits import time_limit
from hf_lsp.generation.usage import Meter

log = logging.getLogger(__name__)

FAILED_LOOKUP_RETRY = 30.0  # seconds before a failed mapping lookup is tried again
REFRESH_AT_MOST = 30.0  # seconds between two lookups after "not supported" answers
STARTING_WAIT = 120.0  # seconds, in all, to wait for a deployment that scales up from zero
FIRST_PAUSE = 2.0
SUGGEST_WAIT = 5.0  # seconds an unserved model's message waits for the served models, at most


class ProviderCompletions(OpenAIBackend):
    """A provider's OpenAI-style completions route behind the router."""

    who = "the Inference Provider"

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return self.endpoint


class RouterBackend:
    """One Hugging Face model through whichever provider serves it (``provider``)."""

    max_new_tokens_cap: int | None = None

    def __init__(
        self,
        connection: Connection,
        *,
        hub: str,
        provider: str = "auto",
        store: Path | None = None,
        token_setting: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        on_exchange: Exchange | None = None,
        request_body: Mapping[str, Any] | None = None,
        meter: Meter | None = None,
        priced: str | None = None,
        network: Network | None = None,
    ) -> None:
        self.endpoint = connection.endpoint
        self.network = network or Network()
        self.meter = meter  # every route's adapter counts the session's tokens into it
        self.priced = priced
        self.connection = connection
        self.hub = hub.rstrip("/")
        self.provider = provider
        self.store = MappingStore(store)
        self._token_setting = token_setting  # a token from the settings is replaced by settings
        self._transport = transport
        self._on_exchange = on_exchange
        self._extra = dict(request_body or {})
        self._adapters: dict[Route, HttpBackend] = {}
        self._hub_client: httpx.AsyncClient | None = None
        self._lock = asyncio.Lock()
        self._failed: dict[str, tuple[float, BackendError]] = {}
        self._refreshed: dict[str, float] = {}
        self._recheck_token = connection.token is None
        self.route_in_use: Route | None = None
        self._prefetch: asyncio.Task[None] | None = None
        self._offers: asyncio.Task[list[Offer] | None] | None = None

    # --- the token ------------------------------------------------------------------------

    async def _token(self) -> None:
        """Raise when there is no token; pick up a new one from the environment or file."""
        if self._recheck_token and not self._token_setting:
            found, source = resolve_token(None)
            if found is not None and found != self.connection.token:
                log.info("using the Hugging Face token from %s", source)
                await self._close_clients()
                self.connection = replace(self.connection, token=found)
            self._recheck_token = self.connection.token is None
        if self.connection.token is None:
            raise token_missing()

    # --- the route ------------------------------------------------------------------------

    async def route(self, model: str) -> Route:
        """The route for ``model``; the Hub is asked once per model (and after failures)."""
        await self._token()
        try:
            if self.provider in POLICIES:
                chosen = choose(model, self.provider, None, self.endpoint)
            else:
                chosen = choose(model, self.provider, await self.mapping(model), self.endpoint)
        except BackendError as exc:
            raise await self._suggested(exc, model) from None
        if chosen != self.route_in_use:
            log.info("%s goes to %s", model, chosen.describe())
        self.route_in_use = chosen
        return chosen

    def route_kind(self, model: str) -> str | None:
        """The kind of route (``raw``, ``hf-inference``, ``chat``) ``model`` takes, once known.

        Read from the kept mapping without asking the Hub, so the engine can build the prompt
        the route needs (a chat prompt for ``chat``); ``None`` before the mapping is known or
        when no route serves the model.
        """
        if self.provider in POLICIES:
            return "chat"
        entries = self.store.get(self.hub, model)
        if entries is None:
            return None
        try:
            return choose(model, self.provider, entries, self.endpoint).kind
        except BackendError:
            return None

    async def mapping(self, model: str, fresh: bool = False) -> list[Entry]:
        """The providers serving ``model``, from the store or the Hub."""
        async with self._lock:
            if not fresh:
                kept = self.store.get(self.hub, model)
                if kept is not None:
                    return kept
                failed = self._failed.get(model)
                if failed is not None and time.monotonic() - failed[0] < FAILED_LOOKUP_RETRY:
                    raise failed[1]  # explained once already: not asked again per keystroke
            try:
                entries = await self._lookup(model)
            except BackendError as exc:
                self._failed[model] = (time.monotonic(), exc)
                raise
            self._failed.pop(model, None)
            self.store.put(self.hub, model, entries)
            return entries

    async def _lookup(self, model: str) -> list[Entry]:
        if self._hub_client is None:
            hub = replace(self.connection, endpoint=self.hub, verbatim=False)
            self._hub_client = make_client(hub, self._transport)
        url = mapping_url(self.hub, model)
        try:
            response = await self._hub_client.get(url)
            await response.aread()
        except httpx.HTTPError as exc:
            raise translate(exc, url) from None
        text = body_text(response)
        data = json_or_none(text)
        log.debug("provider mapping of %s: %s %s", model, response.status_code, text[:2000])
        if response.status_code >= 400:
            raise hub_error(response.status_code, model, error_text(data, text), text)
        entries = read_mapping(data)
        log.info("providers serving %s: %s", model,
                 ", ".join(f"{e.provider}/{e.task}/{e.status}" for e in entries) or "none")
        return entries

    def adapter(self, route: Route) -> HttpBackend:
        found = self._adapters.get(route)
        if found is None:
            kinds: dict[str, type[HttpBackend]] = {
                "raw": ProviderCompletions, "hf-inference": HuggingFaceBackend,
                "chat": ChatFimBackend,
            }
            endpoint = self.endpoint if route.kind == "chat" else route.url
            connection = replace(self.connection, endpoint=endpoint, verbatim=False)
            found = kinds[route.kind](connection, transport=self._transport,
                                      on_exchange=self._on_exchange, request_body=self._extra,
                                      meter=self.meter, priced=self.priced)
            self._adapters[route] = found
        return found

    # --- requests -------------------------------------------------------------------------

    def prefetch(self, model: str) -> None:
        """Look the model's providers up now, off the first keystroke's path."""
        if self.connection.token is None or self.provider in POLICIES:
            return

        async def lookup() -> None:
            try:
                choose(model, self.provider, await self.mapping(model), self.endpoint)
            except BackendError as exc:  # the first completion explains it
                log.debug("looking up the providers of %s failed: %s", model, exc)
                if MODELS_HINT in exc.message:
                    self._served_offers()  # the models that are served, for that message

        self._prefetch = asyncio.get_running_loop().create_task(lookup())

    async def generate(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> Generation:
        route = await self.route(request.model)
        waited = 0.0
        while True:
            try:
                return await self.adapter(route).generate(_for(route, request), timeout)
            except HttpStatusError as exc:
                pause = _starting(exc, waited)
                if pause is None:
                    raise await self._explained(exc, route, request.model) from None
            waited = await self._wait(route, waited, pause)

    async def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]:
        route = await self.route(request.model)
        waited = 0.0
        while True:
            chunks = self.adapter(route).stream(_for(route, request), timeout)
            started = False
            try:
                async for chunk in chunks:
                    started = True
                    yield chunk
                return
            except HttpStatusError as exc:
                pause = None if started else _starting(exc, waited)
                if pause is None:
                    raise await self._explained(exc, route, request.model) from None
            finally:
                await chunks.aclose()  # type: ignore[attr-defined]
            waited = await self._wait(route, waited, pause)

    async def _wait(self, route: Route, waited: float, pause: float) -> float:
        """One pause while the deployment starts, said in the log (the progress)."""
        log.warning("%s is starting (503): waiting %.0f s more (%.0f s so far, at most %.0f s)",
                    route.provider, pause, waited, STARTING_WAIT)
        await asyncio.sleep(pause)
        return waited + pause

    async def _explained(self, exc: HttpStatusError, route: Route, model: str) -> BackendError:
        if exc.status in (401, 403):
            self._recheck_token = True  # a new token in the file or environment is taken up
        entries = await self._refresh(model) if not_supported(exc) else None
        return await self._suggested(explain(exc, route, model, entries), model)

    # --- the models that are served, for a model that is not --------------------------------

    def _served_offers(self) -> asyncio.Task[list[Offer] | None]:
        """The listings of served code models, read once in the background."""
        if self._offers is None:
            self._offers = asyncio.get_running_loop().create_task(read_offers(
                self.network, self.connection.token, self.endpoint, self.hub,
                trusted=(self.endpoint, self.hub), transport=self._transport,
            ))
        return self._offers

    async def _suggested(self, exc: BackendError, model: str) -> BackendError:
        """``exc``, naming code models that are served where it points to `hf-lsp models`."""
        if MODELS_HINT not in exc.message:
            return exc
        try:
            async with time_limit(SUGGEST_WAIT):  # wait_for can drop a cancellation on 3.11
                rows = await asyncio.shield(self._served_offers())
        except TimeoutError:
            log.info("the model listings took over %.0f s: not naming served models",
                     SUGGEST_WAIT)
            return exc
        except Exception as error:  # noqa: BLE001 - a suggestion never hides the real error
            log.info("cannot list the served models: %s", error)
            return exc
        return with_suggestions(exc, suggested(rows, exclude=model)) if rows else exc

    async def _refresh(self, model: str) -> list[Entry] | None:
        """The mapping again after a "not supported" answer (at most every 30 s)."""
        last = self._refreshed.get(model)
        if last is not None and time.monotonic() - last < REFRESH_AT_MOST:
            return self.store.get(self.hub, model)
        self._refreshed[model] = time.monotonic()
        try:
            return await self.mapping(model, fresh=True)
        except BackendError as exc:
            log.warning("cannot look up the providers of %s again: %s", model, exc)
            return None

    async def limits(self) -> Limits | None:
        return None

    async def _close_clients(self) -> None:
        adapters, self._adapters = list(self._adapters.values()), {}
        for adapter in adapters:
            await adapter.aclose()
        if self._hub_client is not None:
            client, self._hub_client = self._hub_client, None
            await client.aclose()

    async def aclose(self) -> None:
        for task in (self._prefetch, self._offers):
            if task is not None:
                task.cancel()
        await self._close_clients()


def _starting(exc: HttpStatusError, waited: float) -> float | None:
    """The pause before asking again a deployment that answered 503 (``None``: give up)."""
    if exc.status != 503 or isinstance(exc, ModelLoadingError) or waited >= STARTING_WAIT:
        return None  # a model loading on hf-inference: the engine retries with wait_for_model
    return min(max(FIRST_PAUSE, waited), STARTING_WAIT - waited)


def _for(route: Route, request: GenerationRequest) -> GenerationRequest:
    """The request as the route's adapter reads it: ``model`` is what the body names."""
    return replace(request, model=route.model, hub_model=request.model)
