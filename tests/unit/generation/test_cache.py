from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from hf_lsp.generation.cache import CompletionCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Backend:
    """A compute function that counts its calls and can be held until released."""

    def __init__(self, value: str = "v") -> None:
        self.value = value
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.cancelled = False

    def hold(self) -> Backend:
        self.release.clear()
        return self

    async def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return self.value


def const(value: str) -> Callable[[], Awaitable[str]]:
    async def compute() -> str:
        return value

    return compute


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


# --- hits, misses, expiry, eviction ---------------------------------------------------------


async def test_miss_then_hit() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    backend = Backend("v")
    assert await cache.get_or_compute("k", backend) == ("v", False)
    assert await cache.get_or_compute("k", backend) == ("v", True)
    assert backend.calls == 1
    assert (cache.hits, cache.misses, cache.shared) == (1, 1, 0)
    assert len(cache) == 1


async def test_different_keys_are_different_entries() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    assert await cache.get_or_compute("a", const("A")) == ("A", False)
    assert await cache.get_or_compute("b", const("B")) == ("B", False)
    assert cache.get("a") == "A" and cache.get("b") == "B"
    assert cache.get("c") is None


@pytest.mark.parametrize(
    ("elapsed", "hit"),
    [
        pytest.param(0.0, True, id="fresh"),
        pytest.param(59.9, True, id="just-before-ttl"),
        pytest.param(60.0, False, id="at-ttl"),
        pytest.param(3600.0, False, id="long-after"),
    ],
)
async def test_ttl_expiry(elapsed: float, hit: bool) -> None:
    clock = Clock()
    cache: CompletionCache[str] = CompletionCache(10, 60, timer=clock)
    backend = Backend("v")
    await cache.get_or_compute("k", backend)
    clock.now += elapsed
    value, from_cache = await cache.get_or_compute("k", backend)
    assert value == "v"
    assert from_cache is hit
    assert backend.calls == (1 if hit else 2)


async def test_lru_eviction() -> None:
    cache: CompletionCache[str] = CompletionCache(2, 60)
    await cache.get_or_compute("a", const("A"))
    await cache.get_or_compute("b", const("B"))
    assert cache.get("a") == "A"  # "a" is now the most recently used
    await cache.get_or_compute("c", const("C"))
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") == "A"
    assert cache.get("c") == "C"


@pytest.mark.parametrize(
    ("size", "ttl"),
    [pytest.param(0, 60, id="size-0"), pytest.param(10, 0, id="ttl-0")],
)
async def test_disabled(size: int, ttl: float) -> None:
    cache: CompletionCache[str] = CompletionCache(size, ttl)
    backend = Backend("v")
    assert await cache.get_or_compute("k", backend) == ("v", False)
    assert await cache.get_or_compute("k", backend) == ("v", False)
    assert backend.calls == 2
    cache.put("k", "x")
    assert cache.get("k") is None
    assert len(cache) == 0
    cache.clear()


async def test_clear() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    cache.put("k", "v")
    assert cache.get("k") == "v"
    cache.clear()
    assert cache.get("k") is None and len(cache) == 0


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        pytest.param("text", True, id="truthy-kept"),
        pytest.param("", False, id="empty-not-kept"),
    ],
)
async def test_default_keep_is_truthiness(value: str, kept: bool) -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    assert await cache.get_or_compute("k", const(value)) == (value, False)
    assert (cache.get("k") == value) is kept
    assert (len(cache) == 1) is kept


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        pytest.param("good", True, id="kept"),
        pytest.param("bad", False, id="refused"),
    ],
)
async def test_keep_predicate(value: str, kept: bool) -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    seen: list[str] = []

    def keep(v: str) -> bool:
        seen.append(v)
        return v == "good"

    assert await cache.get_or_compute("k", const(value), keep=keep) == (value, False)
    assert seen == [value]
    second = await cache.get_or_compute("k", const("again"), keep=keep)
    assert second == ((value, True) if kept else ("again", False))


# --- sharing in-flight calls ------------------------------------------------------------------


async def test_concurrent_identical_misses_share_one_call() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    backend = Backend("v").hold()
    tasks = [asyncio.create_task(cache.get_or_compute("k", backend)) for _ in range(5)]
    await backend.started.wait()
    await settle()
    backend.release.set()
    results = await asyncio.gather(*tasks)
    assert results == [("v", False)] * 5
    assert backend.calls == 1
    assert (cache.misses, cache.shared) == (1, 4)


async def test_concurrent_different_keys_do_not_share() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    backend = Backend("v").hold()
    tasks = [asyncio.create_task(cache.get_or_compute(k, backend)) for k in "abc"]
    await settle()
    backend.release.set()
    await asyncio.gather(*tasks)
    assert backend.calls == 3
    assert cache.shared == 0


async def test_sharing_works_with_the_cache_disabled() -> None:
    cache: CompletionCache[str] = CompletionCache(0, 60)
    backend = Backend("v").hold()
    tasks = [asyncio.create_task(cache.get_or_compute("k", backend)) for _ in range(3)]
    await settle()
    backend.release.set()
    assert await asyncio.gather(*tasks) == [("v", False)] * 3
    assert backend.calls == 1


async def test_cancelled_waiter_does_not_cancel_the_shared_call() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    backend = Backend("v").hold()
    first = asyncio.create_task(cache.get_or_compute("k", backend))
    second = asyncio.create_task(cache.get_or_compute("k", backend))
    await backend.started.wait()
    await settle()
    first.cancel()
    await settle()
    assert first.cancelled()
    assert not backend.cancelled
    backend.release.set()
    assert await second == ("v", False)
    assert backend.calls == 1
    assert cache.get("k") == "v"


async def test_last_waiter_cancelling_cancels_the_call() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    backend = Backend("v").hold()
    waiters = [asyncio.create_task(cache.get_or_compute("k", backend)) for _ in range(2)]
    await backend.started.wait()
    await settle()
    waiters[0].cancel()
    await settle()
    assert not backend.cancelled
    waiters[1].cancel()
    await settle()
    assert all(w.cancelled() for w in waiters)
    assert backend.cancelled
    assert cache.get("k") is None


async def test_new_caller_after_the_last_waiter_left_starts_afresh() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    slow = Backend("old").hold()
    waiter = asyncio.create_task(cache.get_or_compute("k", slow))
    await slow.started.wait()
    waiter.cancel()
    await asyncio.sleep(0)  # the waiter has left; the shared call is still being cancelled
    assert waiter.cancelled()
    # an identical request arriving now must not join the dying call
    assert await cache.get_or_compute("k", const("new")) == ("new", False)
    await settle()
    assert slow.cancelled
    assert cache.get("k") == "new"


async def test_new_caller_after_a_completed_call_is_answered_from_the_cache() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    backend = Backend("v")
    await cache.get_or_compute("k", backend)
    await settle()
    assert await cache.get_or_compute("k", backend) == ("v", True)
    assert backend.calls == 1


# --- errors -------------------------------------------------------------------------------------


class Boom(Exception):
    pass


async def test_exception_propagates_and_is_not_cached() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        raise Boom("backend down")

    with pytest.raises(Boom, match="backend down"):
        await cache.get_or_compute("k", failing)
    assert cache.get("k") is None
    with pytest.raises(Boom):
        await cache.get_or_compute("k", failing)
    assert calls == 2
    assert await cache.get_or_compute("k", const("ok")) == ("ok", False)


async def test_exception_reaches_every_waiter() -> None:
    cache: CompletionCache[str] = CompletionCache(10, 60)
    release = asyncio.Event()
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        raise Boom("shared failure")

    tasks = [asyncio.create_task(cache.get_or_compute("k", failing)) for _ in range(3)]
    await settle()
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, Boom) for r in results)
    assert cache.get("k") is None
