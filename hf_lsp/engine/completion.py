"""The completion service: document + cursor → prompt → backend (cached, retried) → clean text.

It knows no LSP and no HTTP: handlers hand it a :class:`Document` and a position, and a
backend built by whoever configures it. Failures never escape :meth:`CompletionEngine.complete`:
they are logged, turned into at most one alert per cause, and answered with no completion.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hf_lsp.engine.cache import CompletionCache
from hf_lsp.engine.context import Spot, Window, language_from_path, path_header, window
from hf_lsp.engine.document import Document
from hf_lsp.engine.generation import Backend, Generation, GenerationRequest
from hf_lsp.engine.limits import RateLimiter
from hf_lsp.engine.postprocess import Cleanup, clean
from hf_lsp.engine.prompts import COMMON_SPECIAL, FimTemplate, custom_template, template_for
from hf_lsp.errors import (
    AuthError,
    BackendError,
    BackendTimeoutError,
    BadRequestError,
    HfLspError,
    ModelLoadingError,
    ModelNotFoundError,
    RateLimitedError,
    TransportError,
    UnusedParametersError,
)
from hf_lsp.settings import Settings

log = logging.getLogger(__name__)

Alert = Callable[[str, str], None]
"""Called with (cause, message) when the user must act; the engine calls it once per cause."""

DEFAULT_REQUESTS_PER_MINUTE = {"huggingface": 60}  # the free tier; local servers: no limit
MAX_STOP_SEQUENCES = 4  # TGI's default `max_stop_sequences`; the HF API answers 422 above it
MAX_LOADING_WAIT = 120.0  # seconds: the longest the API's own `max_time` allows
RETRY_NOW_BELOW = 1.0  # a 429 asking to wait less than this is retried at once


@dataclass(frozen=True)
class Completion:
    """Text to insert at the cursor, ``(line, index)`` in Python string units."""

    text: str
    line: int
    index: int


@dataclass
class Outcome:
    """What one completion request produced, with what it cost."""

    completions: list[Completion]
    from_cache: bool = False
    request: GenerationRequest | None = None
    error: str | None = None
    spot: Spot | None = None


@dataclass
class Figures:
    """Running figures for ``hfLsp/status`` and the log."""

    requests: int = 0
    backend_calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    last_error: str | None = None
    last_max_new_tokens: int | None = None
    last_latency_ms: float | None = None
    skipped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class CompletionEngine:
    """Owns the settings in force, the backend, the cache and the retry policy."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        *,
        alert: Alert | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self._alert = alert
        self._alerted: set[str] = set()
        self._clock = clock
        self._sleep = sleep
        self.cache: CompletionCache[Generation] = CompletionCache(
            settings.cache.size, settings.cache.ttl_seconds, timer=clock
        )
        self.limiter = _limiter(settings, clock, sleep)
        self._dropped: dict[str, set[str]] = {}  # parameters a model said it does not accept
        self._blocked_until = 0.0  # after a 429: no calls before this time
        self._backoff = 0.0
        self.figures = Figures()

    # --- configuration ------------------------------------------------------------------

    async def reconfigure(self, settings: Settings, backend: Backend | None) -> None:
        """Take new settings; ``backend`` replaces the current one when the endpoint changed."""
        old = self.settings
        self.settings = settings
        if backend is not None and backend is not self.backend:
            previous, self.backend = self.backend, backend
            await previous.aclose()
            self._blocked_until = 0.0
            self._backoff = 0.0
            self.limiter = _limiter(settings, self._clock, self._sleep)
        elif (old.backend, old.rate_limit) != (settings.backend, settings.rate_limit):
            self.limiter = _limiter(settings, self._clock, self._sleep)
        if (old.cache.size, old.cache.ttl_seconds) != (
            settings.cache.size,
            settings.cache.ttl_seconds,
        ):
            self.cache = CompletionCache(
                settings.cache.size, settings.cache.ttl_seconds, timer=self._clock
            )
        self._alerted.clear()  # a new configuration deserves to hear about its own problems

    async def aclose(self) -> None:
        await self.backend.aclose()

    # --- the prompt ---------------------------------------------------------------------

    def template(self) -> FimTemplate:
        fim = self.settings.fim
        base = template_for(self.settings.model, fim.template)
        if fim.prefix and fim.suffix and fim.middle:
            return custom_template(fim.prefix, fim.suffix, fim.middle, base)
        return base

    def build_request(
        self, doc: Document, line: int, index: int, path: str | None = None
    ) -> tuple[GenerationRequest, Window]:
        """The generation request for a cursor at ``(line, index)`` of ``doc``.

        ``path`` is how the prompt names the file (e.g. relative to the workspace); by
        default, the path of the document's URI.
        """
        s = self.settings
        win = window(doc, line, index, s.context)
        template = self.template()
        prefix = win.prefix
        if s.context.include_file_path:
            path = path or _display_path(doc.uri)
            prefix = path_header(path, doc.language_id or language_from_path(path)) + prefix
        prompt = template.render(prefix, win.suffix) if s.fim.enabled else prefix
        return GenerationRequest(
            prompt=prompt,
            parameters=self._parameters(win, template),
            options={"use_cache": s.options.use_cache, "wait_for_model": s.options.wait_for_model},
            model=s.model,
            prefix=prefix,
            suffix=win.suffix if s.fim.enabled else "",
            fim=s.fim.enabled,
        ), win

    def max_new_tokens(self, spot: Spot) -> int:
        chosen = self.settings.parameters.max_new_tokens
        if chosen is not None:
            return chosen
        by_spot = self.settings.max_new_tokens
        return {
            Spot.MID_WORD: by_spot.mid_line,
            Spot.MID_LINE: by_spot.mid_line,
            Spot.END_OF_LINE: by_spot.end_of_line,
            Spot.EMPTY_LINE: by_spot.empty_line,
            Spot.BLOCK_OPENER: by_spot.block_opener,
        }[spot]

    def _parameters(self, win: Window, template: FimTemplate) -> dict[str, Any]:
        p = self.settings.parameters
        stops = list(p.stop)
        if win.single_line:
            stops.append("\n")  # finish this line only: stop the server there, save the tokens
        stops.extend(template.stop)
        params: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens(win.spot),
            "temperature": p.temperature,
            "top_p": p.top_p,
            "top_k": p.top_k,
            "repetition_penalty": p.repetition_penalty,
            "max_time": p.max_time,
            "return_full_text": p.return_full_text,
            "num_return_sequences": p.num_return_sequences,
            "do_sample": p.do_sample,
            "stop": list(dict.fromkeys(s for s in stops if s))[:MAX_STOP_SEQUENCES],
        }
        if p.temperature == 0:  # greedy: TGI-backed models reject a zero temperature
            params["temperature"] = None
            params["do_sample"] = False
        if p.top_p is not None and p.top_p >= 1.0:
            params["top_p"] = None  # 1.0 means "no nucleus cut"; TGI rejects it
        for name in self._dropped.get(self.settings.model, ()):
            params.pop(name, None)
        return {k: v for k, v in params.items() if v is not None}

    # --- the request --------------------------------------------------------------------

    async def complete(
        self, doc: Document, line: int, index: int, path: str | None = None
    ) -> Outcome:
        """Completions for the cursor at ``(line, index)``; never raises a backend error."""
        self.figures.requests += 1
        request, win = self.build_request(doc, line, index, path)
        if win.spot is Spot.MID_WORD:
            self.figures.skipped += 1
            log.debug("no completion in the middle of a word")
            return Outcome([], spot=win.spot)
        self.figures.last_max_new_tokens = request.parameters.get("max_new_tokens")
        key = request.cache_key(getattr(self.backend, "endpoint", ""))
        started = self._clock()
        enough = _first_line_done if win.single_line else None
        try:
            generation, from_cache = await self.cache.get_or_compute(
                key,
                lambda: self._generate(request, enough),
                keep=lambda g: bool(g.texts) and not g.partial,
            )
        except HfLspError as exc:
            self._report(exc)
            return Outcome([], request=request, error=str(exc), spot=win.spot)
        if from_cache:
            self.figures.cache_hits += 1
        else:
            self.figures.last_latency_ms = round((self._clock() - started) * 1000, 1)
        template = self.template()
        cleanup = Cleanup(
            prompt=request.prompt,
            prefix=win.prefix,
            suffix=win.suffix,
            line_after=win.line_after,
            stops=tuple(self.settings.parameters.stop),
            special_tokens=tuple(dict.fromkeys((*template.special_tokens, *COMMON_SPECIAL))),
            single_line=win.single_line,
        )
        texts = list(dict.fromkeys(clean(t, cleanup) for t in generation.texts))
        completions = [Completion(t, line, index) for t in texts if t]
        return Outcome(completions, from_cache=from_cache, request=request, spot=win.spot)

    async def _generate(
        self,
        request: GenerationRequest,
        enough: Callable[[str], bool] | None = None,
        max_wait: float | None = None,
    ) -> Generation:
        """One generation, following the API's advice on loading, limits and parameters.

        ``enough`` lets a streamed generation stop early (closing the stream stops the
        server decoding); ``max_wait`` bounds the wait for a rate-limit slot.
        """
        timeout = self.settings.request_timeout
        wait = self.settings.rate_limit.max_wait if max_wait is None else max_wait
        for _attempt in range(4):
            now = self._clock()
            if now < self._blocked_until:
                raise RateLimitedError(
                    f"rate limited: waiting {self._blocked_until - now:.0f} s more before the "
                    "next request",
                    status=0,
                    retry_after=self._blocked_until - now,
                )
            try:
                async with self.limiter.slot(wait):
                    self.figures.backend_calls += 1
                    generation = await self._call(request, timeout, enough)
            except ModelLoadingError as exc:
                if request.options.get("wait_for_model"):
                    raise
                estimated = exc.estimated_time
                log.warning(
                    "%s is loading%s; retrying with options.wait_for_model=true: %s",
                    request.model,
                    f" (estimated {estimated:.0f} s)" if estimated is not None else "",
                    exc,
                )
                request = request.with_options(wait_for_model=True)
                timeout = min(MAX_LOADING_WAIT, max(timeout, (estimated or 0.0) + timeout))
                continue
            except UnusedParametersError as exc:
                names = set(exc.names) & set(request.parameters)
                if not names:
                    raise
                log.warning(
                    "%s does not accept %s; sending without them from now on",
                    request.model,
                    ", ".join(sorted(names)),
                )
                self._dropped.setdefault(request.model, set()).update(names)
                request = request.without_parameters(names)
                continue
            except RateLimitedError as exc:
                if exc.status == 0:  # our own limiter: the backend was not asked
                    raise
                delay = exc.retry_after
                if delay is None:
                    self._backoff = min(60.0, max(1.0, self._backoff * 2))
                    delay = self._backoff
                if delay < RETRY_NOW_BELOW:
                    await self._sleep(delay)
                    continue
                self._blocked_until = self._clock() + delay
                raise
            self._backoff = 0.0
            return generation
        raise BackendError("gave up after repeated retries")

    async def _call(
        self, request: GenerationRequest, timeout: float, enough: Callable[[str], bool] | None
    ) -> Generation:
        """One backend call: streamed (and stopped when ``enough``) or in one answer."""
        if not self.settings.streaming or request.parameters.get("num_return_sequences", 1) > 1:
            return await self.backend.generate(request, timeout)
        parts: list[str] = []
        reason: str | None = None
        stream = self.backend.stream(request, timeout)
        try:
            async for chunk in stream:
                parts.append(chunk.text)
                reason = chunk.finish_reason or reason
                if enough is not None and enough("".join(parts)):
                    reason = reason or "enough"
                    break
        except BackendError as exc:
            if not "".join(parts).strip():
                raise
            log.warning("the stream broke after %d characters; keeping them: %s",
                        len("".join(parts)), exc)
            return Generation(("".join(parts),), "error", partial=True)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return Generation(("".join(parts),), reason)

    async def generate_long(
        self,
        request: GenerationRequest,
        max_total_new_tokens: int | None = None,
        on_progress: Callable[[str], None] | None = None,
    ) -> Generation:
        """A generation that may need several requests: continue while one stops at its length.

        Each request asks for at most what the backend allows (the serverless API's 250);
        the total is bounded by ``longGeneration.maxTotalNewTokens`` and ``maxTotalTime``.
        Raises the backend's error if the first request fails; later failures keep the text.
        """
        limits = self.settings.long_generation
        total = min(max_total_new_tokens or limits.max_total_new_tokens,
                    limits.max_total_new_tokens)
        cap = self.backend.max_new_tokens_cap or total
        deadline = self._clock() + limits.max_total_time
        text = ""
        asked = 0
        reason: str | None = None
        while asked < total:
            step = min(cap, total - asked)
            current = request.continued(text).with_parameters(max_new_tokens=step)
            try:
                generation = await self._generate(current, max_wait=60.0)
            except HfLspError:
                if not text:
                    raise
                log.warning("a continued generation failed; keeping %d characters", len(text))
                return Generation((text,), "error", partial=True)
            piece = generation.texts[0] if generation.texts else ""
            text += piece
            asked += step
            reason = generation.finish_reason
            if on_progress is not None:
                on_progress(text)
            hit_cap = reason in ("length", "max_tokens") or (reason is None and piece and
                                                               step == cap)
            if not piece or not hit_cap or self._clock() >= deadline:
                break
        return Generation((text,), reason)

    # --- reporting ----------------------------------------------------------------------

    def _report(self, exc: HfLspError) -> None:
        """Log every failure; alert the user once per cause when they must act."""
        self.figures.errors += 1
        self.figures.last_error = str(exc)
        where = f"{self.settings.backend} {getattr(self.backend, 'endpoint', '')}".strip()
        if isinstance(exc, RateLimitedError) and exc.status == 0:
            log.info("%s: %s", where, exc)  # held back on our side: no request was sent
            return
        if isinstance(exc, (RateLimitedError, BackendTimeoutError)):
            log.warning("%s: %s", where, exc)
            return
        log.error("%s: %s", where, exc)
        cause = _cause(exc)
        if cause is not None and cause not in self._alerted:
            self._alerted.add(cause)
            if self._alert is not None:
                self._alert(cause, f"hf-lsp: {exc}")

    def status(self) -> Mapping[str, Any]:
        f = self.figures
        return {
            "backend": self.settings.backend,
            "endpoint": getattr(self.backend, "endpoint", None),
            "model": self.settings.model,
            "requests": f.requests,
            "backendCalls": f.backend_calls,
            "cacheHits": f.cache_hits,
            "cacheEntries": len(self.cache),
            "skipped": f.skipped,
            "errors": f.errors,
            "lastError": f.last_error,
            "lastMaxNewTokens": f.last_max_new_tokens,
            "lastLatencyMs": f.last_latency_ms,
        }


def _first_line_done(text: str) -> bool:
    """A single-line completion needs nothing after its first newline."""
    return "\n" in text


def _limiter(
    settings: Settings, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
) -> RateLimiter:
    per_minute = settings.rate_limit.requests_per_minute
    if per_minute is None:
        per_minute = DEFAULT_REQUESTS_PER_MINUTE.get(settings.backend, 0)
    return RateLimiter(per_minute, settings.rate_limit.max_concurrent, clock=clock, sleep=sleep)


def _cause(exc: HfLspError) -> str | None:
    """Which user-actionable problem an error is (``None``: nothing the user can do)."""
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, ModelNotFoundError):
        return "not-found"
    if isinstance(exc, BadRequestError):
        return "bad-request"
    if isinstance(exc, TransportError) and not isinstance(exc, BackendTimeoutError):
        return "unreachable"
    return None


def _display_path(uri: str) -> str:
    """A file URI as a path for the prompt's header comment."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme in ("file", ""):
        return unquote(parsed.path)
    return unquote(parsed.path) or uri
