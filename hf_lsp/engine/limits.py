"""Client-side limits per backend: requests per minute and requests at once.

Typing can ask for a completion many times a second; the free Inference API allows a few
hundred requests an hour. The limiter keeps hf-lsp within a budget and never queues a
completion for longer than its caller is willing to wait.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from hf_lsp.errors import RateLimitedError


class RateLimiter:
    """A sliding one-minute window plus a bound on concurrent requests."""

    def __init__(
        self,
        per_minute: int,
        concurrent: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_minute = per_minute  # 0: no limit
        self._sent: deque[float] = deque()
        self._slots = asyncio.Semaphore(concurrent)
        self._clock = clock
        self._sleep = sleep
        self.waited = 0  # requests that had to wait for their turn
        self.refused = 0  # requests answered empty because the wait was too long

    def _delay(self) -> float:
        """Seconds until the window has room for one more request."""
        if not self.per_minute:
            return 0.0
        now = self._clock()
        while self._sent and now - self._sent[0] >= 60.0:
            self._sent.popleft()
        if len(self._sent) < self.per_minute:
            return 0.0
        return 60.0 - (now - self._sent[0])

    @asynccontextmanager
    async def slot(self, max_wait: float) -> AsyncIterator[None]:
        """Hold one request's place; :class:`RateLimitedError` when it would wait too long."""
        delay = self._delay()
        if delay > max_wait:
            self.refused += 1
            raise RateLimitedError(
                f"client-side limit of {self.per_minute} requests a minute reached "
                f"(hfLsp.rateLimit.requestsPerMinute); next request in {delay:.0f} s",
                status=0,
                retry_after=delay,
            )
        if delay > 0:
            self.waited += 1
            await self._sleep(delay)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=max(max_wait, 0.001))
        except asyncio.TimeoutError:
            self.refused += 1
            raise RateLimitedError(
                "too many requests in flight (hfLsp.rateLimit.maxConcurrent)", status=0
            ) from None
        self._sent.append(self._clock())
        try:
            yield
        finally:
            self._slots.release()
