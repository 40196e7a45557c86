"""The opt-in disk cache: round trip, bounds, file mode, corrupt and locked files, restarts."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from conftest import MODEL, TOKEN, Starter, inline, open_doc, wait_for
from hf_server import FakeInferenceServer, FakeModel

from hf_lsp.generation.contract import Generation
from hf_lsp.generation.disk_cache import PersistentCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_round_trip_and_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.sqlite3"
    cache = PersistentCache(path, 10, 60)
    cache.put("k", Generation(("a", "b"), "length"))
    assert cache.get("k") == Generation(("a", "b"), "length")
    assert cache.get("other") is None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cache.close()
    assert PersistentCache(path, 10, 60).get("k") == Generation(("a", "b"), "length")


def test_partial_and_empty_generations_are_not_stored(tmp_path: Path) -> None:
    cache = PersistentCache(tmp_path / "c", 10, 60)
    cache.put("partial", Generation(("x",), "error", partial=True))
    cache.put("empty", Generation((), None))
    assert cache.get("partial") is None and cache.get("empty") is None and len(cache) == 0


def test_entries_expire(tmp_path: Path) -> None:
    clock = Clock()
    cache = PersistentCache(tmp_path / "c", 10, 60, clock=clock)
    cache.put("k", Generation(("a",)))
    clock.now += 59
    assert cache.get("k") is not None
    clock.now += 2
    assert cache.get("k") is None and len(cache) == 0


def test_size_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    clock = Clock()
    cache = PersistentCache(tmp_path / "c", 3, 600, clock=clock)
    for key in "abc":
        clock.now += 1
        cache.put(key, Generation((key,)))
    clock.now += 1
    assert cache.get("a") is not None  # "a" is now the most recently used
    clock.now += 1
    cache.put("d", Generation(("d",)))
    assert len(cache) == 3
    assert cache.get("b") is None and cache.get("a") is not None


def test_a_corrupt_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = PersistentCache(path, 10, 60)
    cache.put("k", Generation(("a",)))
    assert cache.get("k") == Generation(("a",))


def test_a_locked_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = PersistentCache(path, 10, 60)
    cache.put("k", Generation(("a",)))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        cache.put("k2", Generation(("b",)))  # locked: skipped, no exception
        assert cache.get("k") is None  # reading is blocked too: a miss, not a crash
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert cache.get("k") == Generation(("a",))


def test_an_uncreatable_file_disables_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = PersistentCache(blocker / "c.sqlite3", 10, 60)  # a file where a folder should be
    cache.put("k", Generation(("a",)))
    assert cache.get("k") is None and len(cache) == 0


async def test_completions_survive_a_restart(start: Starter, tmp_path: Path) -> None:
    path = tmp_path / "completions.sqlite3"
    settings = {"apiToken": TOKEN, "cache": {"persistent": True, "path": str(path)}}
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n"),
                              "org/other": FakeModel("return b + a\n")}) as hf:
        settings["url"] = hf.api_url
        first = await start(settings)
        uri = open_doc(first, "def add(a, b):\n    \n")
        assert [i.insert_text for i in await inline(first, uri, 1, 4)] == ["return a + b"]
        await first.shutdown_session()

        second = await start(settings)
        uri = open_doc(second, "def add(a, b):\n    \n")
        assert [i.insert_text for i in await inline(second, uri, 1, 4)] == ["return a + b"]
        assert len(hf.generation_requests()) == 1  # the second server asked nobody
        status = await second.protocol.send_request_async("hfLsp/status", {})
        assert status.diskHits == 1

        third = await start({**settings, "model": "org/other"})
        uri = open_doc(third, "def add(a, b):\n    \n")
        assert [i.insert_text for i in await inline(third, uri, 1, 4)] == ["return b + a"]
        await wait_for(lambda: len(hf.generation_requests()) == 2)

    content = path.read_bytes()
    assert TOKEN.encode() not in content
    assert b"def add" not in content  # prompts are not stored, only their hashes
    assert b"return a + b" in content
