"""Server-side debounce that follows the user's typing rhythm.

Each completion request for a document is a keystroke. While the user types steadily, a
request is held for about as long as the next keystroke usually takes to come; if it comes,
the newer request supersedes this one and no backend call is made. After a pause (or on the
first keystroke) the hold is short. Cache hits and typing-through are never held.
"""

from __future__ import annotations

from collections import deque


class Rhythm:
    """Recent gaps between keystrokes, per document."""

    def __init__(
        self, min_delay: float, max_delay: float, pause: float = 1.0, keep: int = 16
    ) -> None:
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.pause = pause  # a gap longer than this is a pause, not typing
        self._keep = keep
        self._last: dict[str, float] = {}
        self._gaps: dict[str, deque[float]] = {}

    def keystroke(self, uri: str, now: float) -> None:
        last = self._last.get(uri)
        self._last[uri] = now
        if last is not None and 0 <= now - last < self.pause:
            self._gaps.setdefault(uri, deque(maxlen=self._keep)).append(now - last)

    def delay(self, uri: str) -> float:
        """How long to hold a request that needs the backend (seconds)."""
        gaps = sorted(self._gaps.get(uri, ()))
        if len(gaps) < 2:
            return self.min_delay
        typical = gaps[min(len(gaps) - 1, (len(gaps) * 3) // 4)]  # the 75th percentile
        return max(self.min_delay, min(self.max_delay, typical * 1.2))

    def forget(self, uri: str) -> None:
        self._last.pop(uri, None)
        self._gaps.pop(uri, None)
