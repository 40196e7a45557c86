"""The limiter: an optional cap a minute, requests at once, and the server's backoff."""

from __future__ import annotations

import asyncio

import pytest

from hf_lsp.generation.rate_limits import (
    FIRST_BACKOFF,
    MAX_BACKOFF,
    Bursts,
    HeldBack,
    RateLimiter,
    _deadline,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_an_invoked_request_waits_for_the_window_an_automatic_one_is_dropped() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 2, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        async with limiter.slot(0):
            pass
    with pytest.raises(HeldBack, match="requestsPerMinute") as caught:
        async with limiter.slot(2.0):
            pass
    assert caught.value.dropped and limiter.dropped == 1
    async with limiter.slot(120.0, droppable=False):  # waits its turn: the window's minute
        pass
    assert clock.slept == [60.0] and limiter.waited == 1
    async with limiter.slot(0):
        pass
    with pytest.raises(HeldBack) as caught:
        async with limiter.slot(10.0, droppable=False):
            pass
    assert not caught.value.dropped and limiter.refused == 1


async def test_no_cap_by_default_and_the_servers_backoff_grows_with_jitter() -> None:
    clock = Clock()
    limiter = RateLimiter(0, 2, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    for _ in range(1000):
        async with limiter.slot(0):
            pass
    delays = [limiter.back_off(None) for _ in range(7)]
    assert delays == [FIRST_BACKOFF * 2**i for i in range(5)] + [MAX_BACKOFF] * 2
    low = RateLimiter(0, 1, clock=clock, sleep=clock.sleep, jitter=lambda: 0.0)
    assert low.back_off(None) == FIRST_BACKOFF / 2  # jitter: between half and all of it
    assert limiter.back_off(5.0) == 5.0  # Retry-After is honoured as given


async def test_during_a_backoff_automatic_requests_drop_and_invoked_ones_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(0, 2, clock=clock, sleep=clock.sleep)
    limiter.back_off(1.5)
    with pytest.raises(HeldBack, match="rate limited by the server, retrying in 2 s"):
        async with limiter.slot(2.0):  # even within maxWait: typing moves on
            pass
    async with limiter.slot(30.0, droppable=False):
        pass
    assert clock.slept == [1.5]
    limiter.succeeded()
    assert limiter.back_off(None) <= FIRST_BACKOFF  # success reset the backoff


def test_bursts_say_things_once_until_they_end_or_go_quiet() -> None:
    clock = Clock()
    bursts = Bursts(clock, gap=10)
    assert [bursts.first("x") for _ in range(3)] == [True, False, False]
    clock.now = 9
    assert not bursts.first("x")
    clock.now = 20
    assert bursts.first("x")  # quiet for more than the gap
    bursts.end("x")
    assert bursts.first("x") and bursts.first("y")


async def test_the_time_limit_stand_in_for_python_3_10_ends_a_block_in_time() -> None:
    with pytest.raises(TimeoutError):
        async with _deadline(0.05):
            await asyncio.sleep(5)
    async with _deadline(5):  # a block that ends in time is left alone
        await asyncio.sleep(0)
    task = asyncio.ensure_future(asyncio.sleep(5))
    outer = asyncio.ensure_future(_wrapped(task))
    await asyncio.sleep(0.01)
    outer.cancel()  # a cancellation from outside stays a cancellation
    with pytest.raises(asyncio.CancelledError):
        await outer


async def _wrapped(task: asyncio.Future[None]) -> None:
    async with _deadline(5):
        await task


@pytest.mark.parametrize("turns", range(6))
async def test_a_request_cancelled_while_taking_its_slot_is_not_sent(turns: int) -> None:
    """However the cancellation and a free slot meet, the cancelled request never goes out
    (``asyncio.wait_for`` on Python 3.11 returns the slot and drops the cancellation)."""
    limiter = RateLimiter(0, 4)
    sent: list[int] = []

    async def request() -> None:
        async with limiter.slot(5.0):
            sent.append(turns)
            await asyncio.sleep(0.05)

    task = asyncio.ensure_future(request())
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sent in ([], [turns]) and task.cancelled()
    async with limiter.slot(0.1):  # every slot was given back
        async with limiter.slot(0.1), limiter.slot(0.1), limiter.slot(0.1):
            pass
