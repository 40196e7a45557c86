"""The settings in force: layered from the editor's sources, validated, applied without a restart.

Layers, later ones winning key by key: the settings the server was built with,
``initializationOptions``, the last ``workspace/didChangeConfiguration`` push, the last
``workspace/configuration`` pull. A bad setting is reported once and the last good settings
stay in force. Applying rebuilds only what changed: a new endpoint or token → a new backend.
It owns what holds an HTTP client — the completion engine's backend, the code actions' chat
engine — and closes them at shutdown.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hf_lsp.completion.service import CompletionEngine
from hf_lsp.config.api_token import resolve_token
from hf_lsp.config.settings import (
    ROUTER_URL,
    SECTION,
    Network,
    Settings,
    hub_endpoint,
    is_legacy,
    merge,
    parse_settings,
    to_json,
    unknown_keys,
    wire_name,
)
from hf_lsp.errors import SettingsError
from hf_lsp.generation.contract import Backend, Exchange, Generation, GenerationRequest
from hf_lsp.generation.usage import Meter
from hf_lsp.language.token_count import Fetch
from hf_lsp.redact import scan_for_tokens

if TYPE_CHECKING:
    import httpx  # only for annotations: httpx loads with the first backend

log = logging.getLogger(__name__)

# "llm-ls": the settings llm.nvim / llm-vscode send with every `llm-ls/getCompletions`
LAYERS = ("init", "push", "pull", "llm-ls")


def section_of(data: Any) -> Mapping[str, Any] | None:
    """Our settings inside what a client sent: ``{"hfLsp": {...}}`` or the object itself."""
    if not isinstance(data, Mapping):
        return None
    if not data:
        return data
    inner = data.get(SECTION)
    if isinstance(inner, Mapping):
        return inner
    if inner is not None:
        return {SECTION: inner}  # let validation name the bad value
    known = {wire_name(Settings, f.name) for f in Settings.__attrs_attrs__}
    return data if any(key in known for key in data) else None


HF_HOSTS = (".huggingface.co", ".hf.space", ".huggingface.cloud")


def scoped_token(settings: Settings) -> tuple[str | None, str]:
    """The token to send, and where it came from.

    The `apiToken` setting goes to whatever backend is configured. A token found in the
    environment or the login file is a Hugging Face token: it goes only to Hugging Face
    (the `huggingface` and `tgi` backends, or a Hugging Face host), never to a local server.
    """
    token, source = resolve_token(settings.api_token)
    if token is None or settings.api_token:
        return token, source
    host = (urlsplit(settings.endpoint()).hostname or "").lower()
    if settings.backend in ("huggingface", "tgi") or host.endswith(HF_HOSTS) or host in (
        "huggingface.co",
    ):
        return token, source
    return None, f"none ({source} is only sent to Hugging Face)"


class LazyBackend:
    """A backend built on first use, so that start-up does not pay for an HTTP client.

    Everything but ``endpoint`` and ``aclose`` is the real backend's (``generate`` and what
    other adapters add).
    """

    def __init__(self, build: Callable[[], Backend], endpoint: str) -> None:
        self._build = build
        self._real: Backend | None = None
        self.endpoint = endpoint

    @property
    def route_in_use(self) -> Any:
        """The Inference Providers route taken (``None`` before the first request)."""
        return getattr(self._real, "route_in_use", None)

    def route_kind(self, model: str) -> str | None:
        """The kind of route ``model`` takes, once known (``None``: not yet, or no router)."""
        kind = getattr(self._real, "route_kind", None)
        return kind(model) if kind is not None else None

    def real(self) -> Backend:
        if self._real is None:
            self._real = self._build()
        return self._real

    async def generate(self, request: GenerationRequest, timeout: float | None = None
                       ) -> Generation:
        return await self.real().generate(request, timeout)

    async def aclose(self) -> None:
        if self._real is not None:
            await self._real.aclose()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real(), name)


def fetcher(network: Network) -> Fetch:
    """Downloads with the network settings (httpx is imported on the first download)."""

    def fetch(url: str, path: str) -> None:
        from hf_lsp.backends.download import download

        download(url, path, network)

    return fetch


class Configuration:
    """Holds the layers, the settings in force, the token and the engines."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        alert: Callable[[str, str], None] | None = None,
        on_exchange: Exchange | None = None,
    ) -> None:
        self.base = settings or Settings()
        self.layers: dict[str, Mapping[str, Any]] = dict.fromkeys(LAYERS, {})
        self._transport = transport
        self._alert = alert
        self._on_exchange = on_exchange
        self._reported: set[str] = set()
        self._noticed: set[str] = set()
        self.settings = self.base
        self._legacy_notice(self.base)
        self.token, self.token_source = scoped_token(self.base)
        self.engine = CompletionEngine(
            self.settings, self._backend(self.settings), alert=alert
        )
        self.engine.counters.token = self.token
        self.engine.counters.fetch = fetcher(self.settings.network)
        self.meter = Meter(self._count)
        self.meter.want_prices = self._want_prices
        self._tasks: set[asyncio.Task[None]] = set()
        self._backend_key = self._key(self.settings)
        self._chat: CompletionEngine | None = None
        self._chat_key: Any = None

    def _key(self, settings: Settings) -> tuple[Any, ...]:
        """What the backend is built from: a change in any of it means a new backend."""
        return (
            settings.backend,
            settings.endpoint(),
            settings.verbatim,
            settings.completion_mode,
            settings.model,  # `auto` reads the route from the model id
            self.token,
            settings.request_timeout,
            settings.network,
            settings.provider,
            hub_endpoint(settings),
            json.dumps(settings.request_body, sort_keys=True, default=str),
        )

    def _backend(self, settings: Settings) -> Backend:
        token, transport, on_exchange = self.token, self._transport, self._on_exchange

        def build() -> Backend:
            from hf_lsp.backends import make_backend  # httpx is imported here, off start-up

            return make_backend(settings, token, transport=transport, on_exchange=on_exchange,
                                meter=self.meter)

        return LazyBackend(build, settings.endpoint())

    def warm(self) -> None:
        """Build the backend now (its HTTP client's TLS set-up costs ~50 ms), off start-up."""
        backend = self.engine.backend
        if isinstance(backend, LazyBackend):
            prefetch = getattr(backend.real(), "prefetch", None)
            if prefetch is not None:  # Inference Providers: who serves the model, looked up now
                prefetch(self.settings.model)

    def raw(self) -> dict[str, Any]:
        """The merged layers, as the JSON they came in."""
        data = to_json(self.base)
        if self.base.api_token:
            data["apiToken"] = self.base.api_token
        for layer in LAYERS:
            data = merge(data, self.layers[layer])
        return data

    async def update(self, layer: str, data: Any) -> bool:
        """Replace one layer and apply the result; ``False`` when it was rejected."""
        section = section_of(data) if data is not None else {}
        if section is None:
            log.info("ignoring settings without an %s section: %s", SECTION, list(data or ()))
            return True
        scan_for_tokens(dict(section))
        previous = self.layers[layer]
        self.layers[layer] = section
        raw = self.raw()
        for key in unknown_keys(section):
            log.warning("unknown setting %s (ignored)", key)
        try:
            settings = parse_settings(raw)
        except SettingsError as exc:
            self.layers[layer] = previous
            self._report(str(exc))
            return False
        await self.apply(settings)
        return True

    async def apply(self, settings: Settings) -> None:
        self.token, self.token_source = scoped_token(settings)
        # the Hub serves tokenizers: a gated model's needs the Hugging Face token
        self.engine.counters.token = resolve_token(settings.api_token)[0]
        self.engine.counters.fetch = fetcher(settings.network)
        backend = None
        key = self._key(settings)
        if settings == self.settings and key == self._backend_key:
            return  # the same settings again (a pull after the push): nothing to rebuild
        if key != self._backend_key:
            backend = self._backend(settings)
            self._backend_key = key
        await self.engine.reconfigure(settings, backend)
        self.settings = settings
        self._legacy_notice(settings)
        if self._chat is not None and self._chat_settings(settings) != self._chat_key:
            chat, self._chat = self._chat, None
            await chat.aclose()  # the next chat prompt builds one for the new settings
        self._reported.clear()
        log.info(
            "settings applied: backend %s, endpoint %s, model %s, token from %s",
            settings.backend,
            settings.endpoint(),
            settings.model,
            self.token_source,
        )

    def _legacy_notice(self, settings: Settings) -> None:
        """Once: a `url` on the retired serverless API goes to the router instead."""
        url = settings.url or ""
        if settings.backend != "huggingface" or not is_legacy(url) or url in self._noticed:
            return
        self._noticed.add(url)
        message = (f"hf-lsp: hfLsp.url {url} is the retired serverless Inference API (it "
                   f"answers 410 Gone); requests go to {ROUTER_URL} (Inference Providers) "
                   "instead. Unset hfLsp.url, or set it to the router, to silence this notice.")
        log.warning("%s", message)
        if self._alert is not None:
            self._alert("legacy-url", message)

    def _report(self, message: str) -> None:
        log.error("invalid settings, keeping the previous ones: %s", message)
        if message not in self._reported:
            self._reported.add(message)
            if self._alert is not None:
                self._alert("settings", f"hf-lsp: invalid settings: {message}")

    @staticmethod
    def _chat_settings(settings: Settings) -> tuple[Settings, str | None]:
        from hf_lsp.backends.chat import chat_settings

        chat = chat_settings(settings)
        return chat, scoped_token(chat)[0]

    def chat_engine(self) -> CompletionEngine:
        """The engine for chat prompts (code actions), built on first use."""
        if self._chat is None:
            from hf_lsp.backends.chat import make_chat_backend

            self._chat_key = self._chat_settings(self.settings)
            settings, token = self._chat_key
            self._chat = CompletionEngine(
                settings,
                make_chat_backend(settings, token, self._transport, self.meter),
                alert=self._alert,
            )
        return self._chat

    def _count(self, text: str) -> int:
        """hf-lsp's token counter for the settings in force (for figures a server left out)."""
        s, t = self.settings, self.settings.tokens
        counter = self.engine.counters.get(
            t.tokenizer_path, s.model, t.allow_download, t.chars_per_token,
            repository=t.tokenizer_repository, url=t.tokenizer_url,
        )
        return counter.count(text)

    def _want_prices(self, router: str) -> None:
        """Read the router's prices once, in the background: no completion waits for them."""
        try:
            task = asyncio.get_running_loop().create_task(self._read_prices(router))
        except RuntimeError:  # no loop: nothing to price with
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_prices(self, router: str) -> None:
        from hf_lsp.backends.catalog import router_facts
        from hf_lsp.backends.listing import Listing
        from hf_lsp.errors import HfLspError

        # the listing needs no token: send the Hugging Face one only, never a local server's key
        token = self.token if self.settings.backend == "huggingface" else None
        listing = Listing(self.settings.network, token, trusted=[router],
                          transport=self._transport)
        try:
            data = await listing.router_models(router)
        except HfLspError as exc:
            log.info("no prices from %s/v1/models: %s", router, exc)
            return
        finally:
            await listing.aclose()
        self.meter.prices = {
            key: (fact[2], fact[3])
            for key, fact in router_facts(data).items()
            if fact[2] is not None and fact[3] is not None
        }
        log.info("prices for %d model/provider pairs from %s/v1/models",
                 len(self.meter.prices), router)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.engine.aclose()
        if self._chat is not None:
            await self._chat.aclose()
