"""The opt-in completion cache on disk: SQLite, one file, mode 0600, never fatal.

Rows are keyed by the SHA-256 of the in-memory cache key (endpoint, model, prompt, suffix,
parameters — a different model or FIM template is a different key) plus a schema version,
so neither the prompt nor anything secret is written: only the generated text. A file that
cannot be read is logged and replaced; a locked one is skipped; the size is bounded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hf_lsp.generation.contract import Generation

if TYPE_CHECKING:
    import sqlite3  # imported where used: sqlite3 and hashlib cost ~5 ms of start-up, and the
    # persistent cache is off by default

log = logging.getLogger(__name__)

SCHEMA = 1
_TABLE = f"completions_v{SCHEMA}"


def default_path() -> Path:
    """``completions.sqlite3`` in the platform's user cache directory."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("hf-lsp", appauthor=False)) / "completions.sqlite3"


def digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(f"{SCHEMA}\x00{key}".encode()).hexdigest()


class PersistentCache:
    """Completions on disk. Every method swallows storage errors after logging them."""

    def __init__(
        self,
        path: Path,
        max_entries: int,
        ttl: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._db: sqlite3.Connection | None = None
        self.hits = 0
        self.errors = 0
        self._open()

    def _open(self) -> None:
        import sqlite3

        try:
            self._db = self._connect()
        except OSError as exc:
            log.error("no persistent cache: %s cannot be created (%s)", self.path, exc)
        except sqlite3.DatabaseError as exc:
            log.warning("the cache file %s cannot be used (%s); starting a new one", self.path, exc)
            self._replace()

    def _connect(self) -> sqlite3.Connection:
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)
        db = sqlite3.connect(self.path, timeout=0.2, isolation_level=None)
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, texts TEXT NOT NULL, "
            "finish TEXT, created REAL NOT NULL, used REAL NOT NULL)"
        )
        db.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()  # a corrupt file fails here
        return db

    def _replace(self) -> None:
        import sqlite3

        self.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")
        try:
            self._db = self._connect()
        except (OSError, sqlite3.Error) as exc:
            log.error("no persistent cache: %s cannot be created (%s)", self.path, exc)
            self._db = None

    def get(self, key: str) -> Generation | None:
        import sqlite3

        if self._db is None:
            return None
        now = self._clock()
        try:
            row = self._db.execute(
                f"SELECT texts, finish, created FROM {_TABLE} WHERE key = ?", (digest(key),)
            ).fetchone()
            if row is None:
                return None
            if now - row[2] > self.ttl:
                self._db.execute(f"DELETE FROM {_TABLE} WHERE key = ?", (digest(key),))
                return None
            self._db.execute(f"UPDATE {_TABLE} SET used = ? WHERE key = ?", (now, digest(key)))
            texts = json.loads(row[0])
        except (sqlite3.Error, ValueError) as exc:
            self._failed("read", exc)
            return None
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return None
        self.hits += 1
        return Generation(tuple(texts), row[1])

    def put(self, key: str, generation: Generation) -> None:
        import sqlite3

        if self._db is None or generation.partial or not generation.texts:
            return
        now = self._clock()
        try:
            self._db.execute(
                f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?)",
                (digest(key), json.dumps(list(generation.texts)), generation.finish_reason,
                 now, now),
            )
            count = self._db.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()[0]
            if count > self.max_entries:
                self._db.execute(
                    f"DELETE FROM {_TABLE} WHERE key IN (SELECT key FROM {_TABLE} "
                    "ORDER BY used ASC LIMIT ?)",
                    (count - self.max_entries,),
                )
        except sqlite3.Error as exc:
            self._failed("write", exc)

    def __len__(self) -> int:
        import sqlite3

        if self._db is None:
            return 0
        try:
            return int(self._db.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()[0])
        except sqlite3.Error:
            return 0

    def _failed(self, what: str, exc: Exception) -> None:
        import sqlite3

        self.errors += 1
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            log.info("the cache file %s is locked; %s skipped", self.path, what)
            return
        log.warning("the cache file %s failed to %s (%s); starting a new one", self.path,
                    what, exc)
        self._replace()

    def close(self) -> None:
        import sqlite3

        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
