"""Counting tokens and fitting the prompt into the model's context window.

With a ``tokenizer.json`` (a path, a file downloaded to that path from a URL the user gave, or a
Hub repository's file when the user names it or allows downloads) tokens are counted exactly
with the ``tokenizers`` library, loaded on first use; downloads run in the background.
Without one, a calibrated estimate stands in: characters per token, rounded up, which
over-counts rather than under-counts so the backend never sees a prompt that is too long.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Counter(Protocol):
    name: str

    def count(self, text: str) -> int: ...


@dataclass
class Estimate:
    """Tokens ≈ characters / ``chars_per_token``, rounded up."""

    chars_per_token: float = 3.2
    name: str = "estimate"

    def count(self, text: str) -> int:
        return math.ceil(len(text) / self.chars_per_token) if text else 0


class TokenizerCounter:
    """Exact counts with a ``tokenizers.Tokenizer``."""

    def __init__(self, tokenizer: Any, name: str) -> None:
        self._tokenizer = tokenizer
        self.name = name

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    @classmethod
    def from_file(cls, path: str, name: str | None = None) -> TokenizerCounter:
        tokenizers = importlib.import_module("tokenizers")
        return cls(tokenizers.Tokenizer.from_file(path), name or f"tokenizer {path}")


def hub_counter(model: str, token: str | None = None) -> TokenizerCounter:
    """A repository's ``tokenizer.json`` from the Hub (network: only when the user asks for it).

    ``token`` opens gated and private models (StarCoder2's, for one).
    """
    tokenizers = importlib.import_module("tokenizers")
    tokenizer = tokenizers.Tokenizer.from_pretrained(model, token=token)
    return TokenizerCounter(tokenizer, f"tokenizer of {model}")


Fetch = Callable[[str, str], None]
"""Called with (url, path): download ``url`` into the file ``path`` (raise on failure)."""


class Counters:
    """Picks the counter for the settings in force, loading tokenizers once each."""

    def __init__(
        self,
        download: Callable[[str, str | None], TokenizerCounter] = hub_counter,
        fetch: Fetch | None = None,
    ) -> None:
        self.token: str | None = None  # the Hugging Face token, for gated models' tokenizers
        self.fetch = fetch  # set by whoever knows the network settings
        self._files: dict[str, Counter | None] = {}  # None: being downloaded
        self._hub: dict[str, Counter | None] = {}
        self._download = download
        self._lock = threading.Lock()

    def get(
        self,
        tokenizer_path: str | None,
        model: str,
        allow_download: bool,
        chars_per_token: float,
        *,
        repository: str | None = None,
        url: str | None = None,
    ) -> Counter:
        """The counter to use now; the estimate while a tokenizer is being downloaded.

        ``url``: where to download ``tokenizer_path`` from when that file does not exist.
        ``repository``: a Hub repository to take the tokenizer from (``allow_download``
        allows the model's own).
        """
        fallback = Estimate(chars_per_token)
        if tokenizer_path:
            counter = self._file(tokenizer_path, url)
            return counter if isinstance(counter, TokenizerCounter) else fallback
        repository = repository or (model if allow_download else None)
        if repository:
            with self._lock:
                if repository not in self._hub:
                    self._hub[repository] = None  # fetching: estimate until it is there
                    self._background(self._from_hub, repository, self.token)
                found = self._hub[repository]
            if found is not None:
                return found
        return fallback

    def _file(self, path: str, url: str | None) -> Counter | None:
        with self._lock:
            if path in self._files:
                return self._files[path]
            if url and not os.path.exists(path):
                self._files[path] = None  # downloading: estimate until it is there
                self._background(self._from_url, url, path)
                return None
        counter = _load(path)
        with self._lock:
            self._files[path] = counter
        return counter

    @staticmethod
    def _background(target: Callable[[str, Any], None], *args: Any) -> None:
        threading.Thread(target=target, args=args, name="tokenizer-download", daemon=True).start()

    def _from_hub(self, repository: str, token: str | None) -> None:
        try:
            counter: Counter = self._download(repository, token)
        except Exception as exc:
            log.warning("cannot download the tokenizer of %s (%s): estimating tokens",
                        repository, exc)
            return
        with self._lock:
            self._hub[repository] = counter

    def _from_url(self, url: str, path: str) -> None:
        """Download to a file beside ``path``, check that it loads, then move it into place."""
        partial = f"{path}.{os.getpid()}.part"
        counter: Counter | None = None
        try:
            if self.fetch is None:
                raise OSError("no downloader is configured")
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self.fetch(url, partial)
            counter = TokenizerCounter.from_file(partial, f"tokenizer {path}")
            os.replace(partial, path)
            log.info("downloaded the tokenizer %s from %s", path, url)
        except Exception as exc:
            log.warning("cannot download the tokenizer %s from %s (%s): estimating tokens",
                        path, url, exc)
            counter = Estimate()
        finally:
            with contextlib.suppress(OSError):
                os.remove(partial)  # still there only when something failed
        with self._lock:
            self._files[path] = counter


def _load(path: str) -> Counter:
    """The tokenizer in ``path``; the estimate (and one warning) when it cannot be read."""
    try:
        return TokenizerCounter.from_file(path)
    except Exception as exc:
        log.warning("cannot read the tokenizer %s (%s): estimating tokens", path, exc)
        return Estimate()


def plan(
    context_window: int,
    max_new_tokens: int,
    template_tokens: int,
    prefix_ratio: float,
) -> tuple[int, int, int]:
    """``(total, prefix share, suffix share)`` of the tokens left for code."""
    total = max(0, context_window - max_new_tokens - template_tokens)
    prefix = int(total * prefix_ratio)
    return total, prefix, total - prefix


def fit(
    prefix: str,
    suffix: str,
    counter: Counter,
    total: int,
    prefix_share: int,
) -> tuple[str, str]:
    """Cut ``prefix`` from the top and ``suffix`` from the bottom, on line boundaries.

    Each side gets its share; what one side does not use goes to the other. The cursor
    line's part of the prefix is kept whole if it fits at all (its start may be cut when it
    alone is over budget), so the text next to the cursor is never lost first.
    """
    p_count = counter.count(prefix)
    s_count = counter.count(suffix)
    if p_count + s_count <= total:
        return prefix, suffix
    suffix_share = total - prefix_share
    if s_count <= suffix_share:
        p_budget, s_budget = total - s_count, s_count
    elif p_count <= prefix_share:
        p_budget, s_budget = p_count, total - p_count
    else:
        p_budget, s_budget = prefix_share, suffix_share
    return _keep_end(prefix, counter, p_budget), _keep_start(suffix, counter, s_budget)


def _keep_end(text: str, counter: Counter, budget: int) -> str:
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = counter.count(line)
        if used + cost > budget:
            if not kept:  # the cursor line alone is too long: keep its end
                return _chars_within(line, counter, budget, from_end=True)
            break
        kept.append(line)
        used += cost
    return "".join(reversed(kept))


def _keep_start(text: str, counter: Counter, budget: int) -> str:
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    used = 0
    for line in lines:
        cost = counter.count(line)
        if used + cost > budget:
            if not kept:
                return _chars_within(line, counter, budget, from_end=False)
            break
        kept.append(line)
        used += cost
    return "".join(kept)


def _chars_within(line: str, counter: Counter, budget: int, *, from_end: bool) -> str:
    lo, hi = 0, len(line)
    while lo < hi:  # the longest piece that fits
        mid = (lo + hi + 1) // 2
        piece = line[len(line) - mid :] if from_end else line[:mid]
        if counter.count(piece) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return line[len(line) - lo :] if from_end else line[:lo]
