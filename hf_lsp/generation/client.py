"""The generation client every feature calls: retries, 429s, loading, streaming, long answers.

Completion, code actions and ``hf-lsp check`` all generate through :class:`GenerationClient`:
it owns the backend in use, the rate limiter, the disk cache and the failure reports, and
follows the API's advice on loading models, rejected parameters and rate limits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hf_lsp.config.settings import Settings
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
from hf_lsp.generation.contract import Backend, Generation, GenerationRequest, Limits
from hf_lsp.generation.disk_cache import PersistentCache, default_path
from hf_lsp.generation.rate_limits import Bursts, HeldBack, RateLimiter, time_limit
from hf_lsp.generation.units import Unit

log = logging.getLogger(__name__)

MAX_LOADING_WAIT = 120.0  # seconds: the longest the API's own `max_time` allows
RETRY_NOW_BELOW = 1.0  # a 429 asking to wait less than this is retried at once
ATTEMPTS = 8  # backend calls one generation may make (loading, dropped parameters, 429s)
SLOW_BURST_GAP = 60.0  # seconds without a slow request before the next one is logged again

Alert = Callable[[str, str], None]
"""Called with (cause, message) when the user must act; the client calls it once per cause."""


@dataclass
class CallFigures:
    """What the client counts, for ``hfLsp/status`` (features extend it with their own)."""

    backend_calls: int = 0
    disk_hits: int = 0
    slow_requests: int = 0
    errors: int = 0
    last_error: str | None = None


class GenerationClient:
    """The backend in use behind one call policy; :meth:`generate` is the call to make."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        *,
        figures: CallFigures | None = None,
        alert: Alert | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.figures = figures if figures is not None else CallFigures()
        self._alert = alert
        self._alerted: set[str] = set()
        self._clock = clock
        self._sleep = sleep
        self.limiter = _limiter(settings, clock, sleep)
        self.disk = _disk(settings)
        self.server_limits: Limits | None = None
        self._limits_asked = False
        self.dropped: dict[str, set[str]] = {}  # parameters a model said it does not accept
        self.bursts = Bursts(clock)  # what is logged once per burst, not once per request
        self.slow_bursts = Bursts(clock, SLOW_BURST_GAP)

    async def reconfigure(self, settings: Settings, backend: Backend | None) -> None:
        """Take new settings; ``backend`` replaces the current one when the endpoint changed."""
        old = self.settings
        self.settings = settings
        if backend is not None and backend is not self.backend:
            previous, self.backend = self.backend, backend
            await previous.aclose()
            self.limiter = _limiter(settings, self._clock, self._sleep)  # a new server's limits
            self.server_limits, self._limits_asked = None, False
        elif (old.backend, old.rate_limit) != (settings.backend, settings.rate_limit):
            limiter = _limiter(settings, self._clock, self._sleep)
            limiter.inherit(self.limiter)  # the same server: its backoff still holds
            self.limiter = limiter
        if old.cache != settings.cache:
            if self.disk is not None:
                self.disk.close()
            self.disk = _disk(settings)
        self._alerted.clear()  # a new configuration deserves to hear about its own problems

    async def aclose(self) -> None:
        if self.disk is not None:
            self.disk.close()
        await self.backend.aclose()

    async def learn_limits(self) -> None:
        """Ask the backend once for its token limits (TGI's ``/info``) to size prompts by."""
        if self._limits_asked:
            return
        self._limits_asked = True
        try:
            self.server_limits = await self.backend.limits()
        except Exception as exc:  # limits are a refinement: go without them
            log.info("no token limits from the backend: %s", exc)

    async def stored_or_generated(
        self,
        key: str,
        request: GenerationRequest,
        enough: Callable[[str], bool] | None,
        on_text: Callable[[str], None] | None = None,
        invoked: bool = False,
        budget: str = "",
    ) -> Generation:
        """From the disk cache when it has the answer, else from the backend (then stored)."""
        if self.disk is not None:
            stored = self.disk.get(key)
            if stored is not None:
                self.figures.disk_hits += 1
                return stored
        # a completion's stream must end within requestTimeout in all, not only per read
        generation = await self.generate(
            request, enough, whole=self.settings.request_timeout, on_text=on_text,
            invoked=invoked, budget=budget,
        )
        if self.disk is not None:
            self.disk.put(key, generation)
        return generation

    async def generate(
        self,
        request: GenerationRequest,
        enough: Callable[[str], bool] | None = None,
        max_wait: float | None = None,
        whole: float | None = None,
        on_text: Callable[[str], None] | None = None,
        *,
        invoked: bool = False,
        budget: str = "",
    ) -> Generation:
        """One generation, following the API's advice on loading, limits and parameters.

        ``enough`` lets a streamed generation stop early (closing the stream stops the
        server decoding); ``max_wait`` bounds the wait for a turn while a limit holds the
        request (unset: ``requestTimeout`` when ``invoked``, else ``rateLimit.maxWait``);
        ``whole`` bounds a call's total time (unset: ``requestTimeout``; what a stream sent
        by then is kept, and not cached); ``on_text`` hears a stream's text so far as it
        grows; ``budget`` names the setting behind ``max_new_tokens``, for the slow-request
        log line.
        """
        timeout = self.settings.request_timeout
        whole = timeout if whole is None else whole
        if max_wait is None:
            max_wait = timeout if invoked else self.settings.rate_limit.max_wait
        wait_until = self._clock() + max_wait
        for _attempt in range(ATTEMPTS):
            try:
                async with self.limiter.slot(max(0.0, wait_until - self._clock()),
                                             droppable=not invoked):
                    self.figures.backend_calls += 1
                    sent = self._clock()
                    generation = await self._call(request, timeout, enough, whole, on_text)
                    self._timed(request, self._clock() - sent, budget)
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
                whole = max(whole, timeout)
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
                self.dropped.setdefault(request.model, set()).update(names)
                request = request.without_parameters(names)
                continue
            except RateLimitedError as exc:
                if isinstance(exc, HeldBack):  # held on our side: the backend was not asked
                    raise
                delay = self.limiter.back_off(exc.retry_after)
                if delay < RETRY_NOW_BELOW:
                    await self._sleep(delay)  # the next turn comes in a moment
                    continue
                if self.bursts.first("rate-limited"):
                    log.warning("%s: %s; rate limited, retrying in %.0f s",
                                self.where(), exc, delay)
                if invoked and self._clock() + delay <= wait_until:
                    continue  # the user asked: wait for the next turn
                raise
            self.limiter.succeeded()
            self.bursts.end("rate-limited")
            self.bursts.end("dropped")
            return generation
        raise BackendError("gave up after repeated retries")

    def _timed(self, request: GenerationRequest, seconds: float, budget: str) -> None:
        """A backend call slower than ``slowRequestSeconds`` is explained, once per burst."""
        threshold = self.settings.slow_request_seconds
        if not threshold or seconds <= threshold:
            return
        self.figures.slow_requests += 1
        if not self.slow_bursts.first("slow"):
            return
        asked = request.parameters.get("max_new_tokens")
        tokens = (f"a smaller max_new_tokens ({asked} now: {budget or 'the request'})"
                  if asked is not None else "a smaller max_new_tokens")
        log.warning(
            "%s: a request took %.1f s (hfLsp.slowRequestSeconds: %g). Faster: %s, a smaller "
            "model than %s (hfLsp.model), or a server closer to you (hfLsp.url: a local "
            "tgi, vllm, ollama or llama.cpp server needs no round trip over the internet)",
            self.where(), seconds, threshold, tokens, request.model or self.settings.model,
        )

    def endpoint(self) -> str:
        return str(getattr(self.backend, "endpoint", "") or self.settings.backend)

    def where(self) -> str:
        return f"{self.settings.backend} {getattr(self.backend, 'endpoint', '')}".strip()

    async def _call(
        self,
        request: GenerationRequest,
        timeout: float,
        enough: Callable[[str], bool] | None,
        whole: float,
        on_text: Callable[[str], None] | None = None,
    ) -> Generation:
        """One backend call: streamed (and stopped when ``enough``) or in one answer.

        The call ends within ``whole`` seconds in all, however the server paces its bytes:
        a stream keeps what arrived by then (marked partial), an answer in one piece fails.
        """
        if not self.settings.streaming or request.parameters.get("num_return_sequences", 1) > 1:
            try:
                async with time_limit(whole):
                    return await self.backend.generate(request, timeout)
            except TimeoutError:
                raise BackendTimeoutError(
                    f"{self.endpoint()} did not answer in time ({whole:g} s in all)") from None
        text = ""
        reason: str | None = None
        deadline = self._clock() + whole
        stream = self.backend.stream(request, timeout)
        if on_text is not None:
            on_text(text)  # a retried call starts over
        try:
            async with time_limit(whole):  # in real time, however the bytes are paced
                async for chunk in stream:
                    text += chunk.text
                    reason = chunk.finish_reason or reason
                    if on_text is not None and chunk.text:
                        on_text(text)
                    if enough is not None and enough(text):
                        reason = reason or "enough"
                        break
                    if reason is None and self._clock() > deadline:
                        raise TimeoutError
        except TimeoutError:
            if reason is None:
                if not text:
                    raise BackendTimeoutError(f"{self.endpoint()} did not answer in time "
                                              f"(no text in {whole:g} s)") from None
                log.warning("%s did not answer in time (%g s in all); keeping the %d "
                            "characters streamed so far", self.endpoint(), whole, len(text))
                return Generation((text,), "timeout", partial=True)
        except BackendError as exc:
            if not text.strip():
                raise
            log.warning("the stream broke after %d characters; keeping them: %s", len(text), exc)
            return Generation((text,), "error", partial=True)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return Generation((text,), reason)

    async def generate_long(
        self,
        request: GenerationRequest,
        max_total_new_tokens: int | None = None,
        on_progress: Callable[[str], None] | None = None,
        unit: Unit | None = None,
    ) -> Generation:
        """A generation that may need several requests: continue while one stops at its length.

        Each request asks for at most what the backend allows (the serverless API's 250);
        the total is bounded by ``longGeneration.maxTotalNewTokens`` and ``maxTotalTime``.
        No request is made once ``unit`` finds the code written so far whole (the text is cut
        where it ends). When a budget stops the generation first, the text is cut back to its
        last complete line (``unit.whole``) and ``limit`` says which budget: ``tokens`` or
        ``time``. Raises the backend's error if the first request fails; later failures keep
        the text.
        """
        limits = self.settings.long_generation
        total = min(max_total_new_tokens or limits.max_total_new_tokens,
                    limits.max_total_new_tokens)
        cap = self.backend.max_new_tokens_cap or total
        deadline = self._clock() + limits.max_total_time
        text = ""
        asked = 0
        reason: str | None = None

        def whole_after(before: str) -> Callable[[str], bool] | None:
            """A stream stops once the code is whole (checked as each line ends)."""
            return None if unit is None else unit.stream_check(before)

        while True:
            step = min(cap, total - asked)
            current = request.continued(text).with_parameters(max_new_tokens=step)
            try:
                generation = await self.generate(
                    current, whole_after(text), max_wait=60.0, invoked=True,
                    whole=max(0.001, deadline - self._clock()),  # a stream ends by it too
                    budget="the action's maxNewTokens, longGeneration.maxTotalNewTokens",
                )
            except HfLspError:
                if not text:
                    raise
                kept = unit.whole(text) if unit is not None else text
                if self._clock() >= deadline - 0.05:  # the call was cut by the time budget
                    return Generation((kept,), reason, partial=True, limit="time")
                log.warning("a continued generation failed; keeping %d characters", len(text))
                return Generation((kept,), "error", partial=True)
            piece = generation.texts[0] if generation.texts else ""
            text += piece
            asked += step
            reason = generation.finish_reason
            if on_progress is not None:
                on_progress(text)
            # without a finish reason: fewer characters than tokens asked means it stopped early
            hit_cap = reason in ("length", "max_tokens") or (
                reason is None and len(piece) >= step
            )
            end = unit.end(text) if unit is not None and (hit_cap or reason == "enough") else None
            if end is not None:
                log.info("the code is whole after %d of %d tokens; asking no more", asked, total)
                return Generation((text[:end],), "stop")
            if not piece or not hit_cap:
                return Generation((text,), reason)
            if asked >= total or self._clock() >= deadline:
                break
        limit = "tokens" if asked >= total else "time"
        kept = unit.whole(text) if unit is not None else text
        return Generation((kept,), reason, partial=True, limit=limit)

    # --- reporting ---------------------------------------------------------------------

    def report(self, exc: HfLspError) -> None:
        """Log every failure; alert the user once per cause when they must act.

        An automatic request a limit dropped is no failure: it is counted (``dropped``) and
        logged once per burst; so is the server's 429, whose log line says when hf-lsp
        tries again.
        """
        where = self.where()
        if isinstance(exc, HeldBack) and exc.dropped:
            if self.bursts.first("dropped"):
                log.info("%s: automatic completions are dropped while a limit holds them (%s); "
                         "hfLsp/status counts them (dropped), invoked ones wait their turn",
                         where, exc)
            return
        self.figures.errors += 1
        self.figures.last_error = str(exc)
        if isinstance(exc, HeldBack):
            log.warning("%s: %s", where, exc)  # an invoked request: its turn came too late
            return
        if isinstance(exc, RateLimitedError):
            return  # logged with its retry time by generate, once per burst
        if isinstance(exc, BackendTimeoutError):
            log.warning("%s: %s", where, exc)
            return
        log.error("%s: %s", where, exc)
        cause = _cause(exc)
        if cause is not None and cause not in self._alerted:
            self._alerted.add(cause)
            if self._alert is not None:
                self._alert(cause, f"hf-lsp: {exc}")

    def rate_limited(self) -> str | None:
        """What the status item says while the server's backoff lasts."""
        left = self.limiter.retry_in()
        return f"rate limited, retrying in {max(1, round(left))} s" if left > 0 else None


def _limiter(
    settings: Settings, clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]]
) -> RateLimiter:
    per_minute = settings.rate_limit.requests_per_minute or 0  # unset: no cap of our own
    return RateLimiter(per_minute, settings.rate_limit.max_concurrent, clock=clock, sleep=sleep)


def _disk(settings: Settings) -> PersistentCache | None:
    cache = settings.cache
    if not cache.persistent:
        return None
    path = Path(cache.path).expanduser() if cache.path else default_path()
    return PersistentCache(path, cache.persistent_size, cache.persistent_ttl_seconds)


def _cause(exc: HfLspError) -> str | None:
    """Which user-actionable problem an error is (``None``: nothing the user can do)."""
    if isinstance(exc, BackendError) and exc.cause is not None:
        return exc.cause
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, ModelNotFoundError):
        return "not-found"
    if isinstance(exc, BadRequestError):
        return "bad-request"
    if isinstance(exc, TransportError) and not isinstance(exc, BackendTimeoutError):
        return "unreachable"
    return None
