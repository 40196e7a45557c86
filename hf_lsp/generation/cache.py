"""The completion cache: LRU with a time-to-live, plus sharing of identical in-flight calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")


class CompletionCache(Generic[V]):
    """Answers identical requests from memory; concurrent identical misses share one call.

    A caller that is cancelled stops waiting; the shared call itself is cancelled only when
    every caller waiting on it has gone, so one impatient editor request cannot starve another.
    """

    def __init__(self, size: int, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._store: TTLCache[str, V] | None = (
            TTLCache(maxsize=size, ttl=ttl, timer=timer) if size > 0 and ttl > 0 else None
        )
        self._inflight: dict[str, tuple[asyncio.Task[V], list[int]]] = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0

    def get(self, key: str) -> V | None:
        if self._store is None:
            return None
        return self._store.get(key)

    def put(self, key: str, value: V) -> None:
        if self._store is not None:
            self._store[key] = value

    def clear(self) -> None:
        if self._store is not None:
            self._store.clear()

    def __len__(self) -> int:
        return 0 if self._store is None else len(self._store)

    @property
    def in_flight(self) -> int:
        """Backend calls running now (each shared by its identical requests)."""
        return len(self._inflight)

    async def get_or_compute(
        self, key: str, compute: Callable[[], Awaitable[V]], keep: Callable[[V], bool] = bool
    ) -> tuple[V, bool]:
        """Return ``(value, from_cache)``; ``keep`` decides whether a fresh value is stored."""
        cached = self.get(key)
        if cached is not None:
            self.hits += 1
            return cached, True
        entry = self._inflight.get(key)
        if entry is None:
            self.misses += 1

            async def run() -> V:
                value = await compute()
                if keep(value):
                    self.put(key, value)
                return value

            task = asyncio.ensure_future(run())
            entry = (task, [0])
            self._inflight[key] = entry
            task.add_done_callback(lambda done: self._forget(key, done))
        else:
            self.shared += 1
        task, waiters = entry
        waiters[0] += 1
        try:
            return await asyncio.shield(task), False
        except asyncio.CancelledError:
            if task.done() and not task.cancelled():
                raise
            waiters[0] -= 1
            if waiters[0] <= 0 and not task.done():
                task.cancel()
                # a caller arriving before the cancellation lands must start afresh, not join
                # a dying call and receive a CancelledError it did not ask for
                self._forget(key, task)
            raise
        finally:
            if task.done():
                waiters[0] = max(0, waiters[0] - 1)

    def _forget(self, key: str, task: asyncio.Task[V]) -> None:
        entry = self._inflight.get(key)
        if entry is not None and entry[0] is task:
            del self._inflight[key]
