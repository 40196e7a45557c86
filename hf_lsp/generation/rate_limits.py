"""Limits per backend: an optional cap a minute, requests at once, and the server's 429s.

hf-lsp sets no cap of its own by default: rate limits are the server's to state. A 429 stops
every request to that backend until its ``Retry-After`` (or an exponential backoff with
jitter when it gives none). While a limit holds a request, an invoked one waits its turn up
to its deadline; an automatic one that would wait longer than ``rateLimit.maxWait`` is
dropped and counted (``dropped`` in ``hfLsp/status``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from hf_lsp.errors import RateLimitedError

FIRST_BACKOFF = 2.0  # seconds after a 429 without Retry-After; doubled on each one after
MAX_BACKOFF = 60.0


def time_limit(seconds: float) -> AbstractAsyncContextManager[None]:
    """:class:`TimeoutError` when the block still runs ``seconds`` from now.

    ``asyncio.timeout`` from Python 3.11 on; a stand-in for 3.10.
    """
    timeout = getattr(asyncio, "timeout", None)
    if timeout is not None:
        return timeout(seconds)  # type: ignore[no-any-return]
    return _deadline(seconds)


@asynccontextmanager
async def _deadline(seconds: float) -> AsyncIterator[None]:
    task = asyncio.current_task()
    assert task is not None
    fired: list[bool] = []

    def fire() -> None:
        fired.append(True)
        task.cancel()

    handle = asyncio.get_running_loop().call_later(seconds, fire)
    try:
        yield
    except asyncio.CancelledError:
        if fired:
            raise TimeoutError from None
        raise
    finally:
        handle.cancel()


class HeldBack(RateLimitedError):
    """A limit on hf-lsp's side held the request back: no request was sent.

    ``dropped``: an automatic request, given up; otherwise an invoked one that could not
    wait as long as the limit asked.
    """

    def __init__(self, message: str, *, retry_after: float | None, dropped: bool) -> None:
        super().__init__(message, status=0, retry_after=retry_after)
        self.dropped = dropped


class Bursts:
    """Say something once per burst.

    A burst ends on :meth:`end`, or ``gap`` seconds after the last time it happened.
    """

    def __init__(self, clock: Callable[[], float], gap: float = 30.0) -> None:
        self._clock = clock
        self._gap = gap
        self._last: dict[str, float] = {}

    def first(self, kind: str) -> bool:
        """Whether this ``kind`` of event starts a burst (and is worth a log line)."""
        now = self._clock()
        last = self._last.get(kind)
        self._last[kind] = now
        return last is None or now - last > self._gap

    def end(self, kind: str) -> None:
        self._last.pop(kind, None)


class RateLimiter:
    """An optional one-minute window, a bound on requests at once, the server's backoff."""

    def __init__(
        self,
        per_minute: int,
        concurrent: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.per_minute = per_minute  # 0: no limit
        self._sent: deque[float] = deque()
        self._slots = asyncio.Semaphore(concurrent)
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self.blocked_until = 0.0  # after a 429: no request before this time
        self.backoff = 0.0
        self.waited = 0  # requests that had to wait for their turn
        self.refused = 0  # invoked requests whose turn would come too late
        self.dropped = 0  # automatic requests given up

    def inherit(self, other: RateLimiter) -> None:
        """Keep the server's backoff across a change of the client-side limits."""
        self.blocked_until, self.backoff = other.blocked_until, other.backoff
        self.waited, self.refused, self.dropped = other.waited, other.refused, other.dropped

    # --- the server's 429 -----------------------------------------------------------------

    def back_off(self, retry_after: float | None) -> float:
        """A 429: wait ``retry_after`` seconds, or back off exponentially with jitter."""
        if retry_after is None:
            self.backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, self.backoff * 2))
            delay = self.backoff * (0.5 + 0.5 * self._jitter())
        else:
            delay = max(0.0, retry_after)
        self.blocked_until = max(self.blocked_until, self._clock() + delay)
        return delay

    def succeeded(self) -> None:
        self.backoff = 0.0

    def retry_in(self) -> float:
        """Seconds until the server's backoff ends (0: none)."""
        return max(0.0, self.blocked_until - self._clock())

    # --- holding a request ----------------------------------------------------------------

    def _delay(self, droppable: bool) -> tuple[float, str]:
        """Seconds until a request may go (``inf``: drop it now), and which limit holds it."""
        backoff = self.retry_in()
        window = 0.0
        if self.per_minute:
            now = self._clock()
            while self._sent and now - self._sent[0] >= 60.0:
                self._sent.popleft()
            if len(self._sent) >= self.per_minute:
                window = 60.0 - (now - self._sent[0])
        if backoff > 0 and (backoff >= window or droppable):
            # an automatic request does not wait out the server's backoff: typing moves on
            why = f"rate limited by the server, retrying in {backoff:.0f} s"
            return (float("inf") if droppable else backoff), why
        return window, (
            f"client-side limit of {self.per_minute} requests a minute reached "
            f"(hfLsp.rateLimit.requestsPerMinute); next request in {window:.0f} s"
        )

    def _refuse(self, why: str, droppable: bool) -> HeldBack:
        if droppable:
            self.dropped += 1
        else:
            self.refused += 1
        retry = self.retry_in() or None
        return HeldBack(why, retry_after=retry, dropped=droppable)

    @asynccontextmanager
    async def slot(self, max_wait: float, *, droppable: bool = True) -> AsyncIterator[None]:
        """Hold one request's place for up to ``max_wait`` seconds, else :class:`HeldBack`.

        ``droppable`` (an automatic request): dropped at once while the server's backoff
        lasts; otherwise it waits that out too, within ``max_wait``.
        """
        deadline = self._clock() + max_wait
        delay, why = self._delay(droppable)
        if delay > max_wait:  # known at once: do not queue behind the others first
            raise self._refuse(why, droppable)
        try:
            # not asyncio.wait_for: on Python 3.11 it hands over a slot acquired in the same
            # turn as a cancellation and drops the cancellation, so the request went out
            async with time_limit(max(max_wait, 0.001)):
                await self._slots.acquire()
        except TimeoutError:
            raise self._refuse(
                "too many requests in flight (hfLsp.rateLimit.maxConcurrent)", droppable
            ) from None
        try:
            waited = False
            while True:
                delay, why = self._delay(droppable)
                if delay <= 0:
                    break
                if self._clock() + delay > deadline:
                    raise self._refuse(why, droppable)
                waited = True
                await self._sleep(delay)
            self.waited += waited
            self._sent.append(self._clock())
            yield
        finally:
            self._slots.release()
