"""Cross-file context: windows of other open documents and recent edits, ranked by similarity.

Each candidate is a window of ``window_lines`` lines (sliding by half a window); its score is
the Jaccard similarity between its identifiers and those of the code just before the cursor.
Window sets are kept per document version, so an unchanged document is not re-read.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from hf_lsp.language.document import Document

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENT.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


@dataclass(frozen=True)
class Snippet:
    """A piece of another file for the prompt."""

    uri: str
    start: int  # first line
    text: str
    score: float


MAX_LINES_READ = 5_000  # lines of one document compared (a huge file: its first lines)


class CrossFile:
    """Remembers window sets per document version and the regions edited lately."""

    def __init__(self, recent: int = 16) -> None:
        self._windows: dict[str, tuple[int, int, list[tuple[int, frozenset[str]]]]] = {}
        self.edits: deque[tuple[str, int]] = deque(maxlen=recent)

    def edited(self, uri: str, line: int) -> None:
        """Note an edit at ``line`` of ``uri`` (the newest last; one entry per place)."""
        for i, (u, ln) in enumerate(self.edits):
            if u == uri and abs(ln - line) < 4:
                del self.edits[i]
                break
        self.edits.append((uri, line))

    def forget(self, uri: str) -> None:
        self._windows.pop(uri, None)

    def _windows_of(self, doc: Document, size: int) -> list[tuple[int, frozenset[str]]]:
        cached = self._windows.get(doc.uri)
        if cached is not None and cached[0] == doc.version and cached[1] == size:
            return cached[2]
        step = max(1, size // 2)
        lines = doc.lines[:MAX_LINES_READ]
        found = [
            (start, identifiers("".join(lines[start : start + size])))
            for start in range(0, max(1, len(lines) - size + step), step)
        ]
        self._windows[doc.uri] = (doc.version, size, found)
        return found

    def snippets(
        self,
        query: str,
        current: Document,
        cursor_line: int,
        others: Iterable[Document],
        *,
        window_lines: int,
        max_snippets: int,
        min_similarity: float,
        near: int,
    ) -> list[Snippet]:
        """The best windows for ``query`` (the code before the cursor), best first.

        Windows of the current document count only around recent edits farther than
        ``near`` lines from the cursor (the prompt already has what is near).
        """
        docs = {d.uri: d for d in others}
        docs[current.uri] = current
        if max_snippets <= 0 or (len(docs) == 1 and not self.edits):
            return []  # nothing to compare with: spare the work
        want = identifiers(query)
        if not want:
            return []
        scored: list[Snippet] = []
        for doc in docs.values():
            if doc.uri == current.uri:
                continue
            best: tuple[float, int] | None = None
            for start, ids in self._windows_of(doc, window_lines):
                score = jaccard(want, ids)
                if score >= min_similarity and (best is None or score > best[0]):
                    best = (score, start)
            if best is not None:
                scored.append(self._snippet(doc, best[1], window_lines, best[0]))
        for uri, line in reversed(self.edits):
            edited = docs.get(uri)
            if edited is None or line >= len(edited.lines):
                continue
            if uri == current.uri and abs(line - cursor_line) <= near:
                continue
            start = max(0, line - window_lines // 2)
            if any(s.uri == uri and abs(s.start - start) < window_lines for s in scored):
                continue
            text = "".join(edited.lines[start : start + window_lines])
            score = jaccard(want, identifiers(text))
            if score >= min_similarity:
                scored.append(Snippet(uri, start, text, score))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored[:max_snippets]

    @staticmethod
    def _snippet(doc: Document, start: int, size: int, score: float) -> Snippet:
        return Snippet(doc.uri, start, "".join(doc.lines[start : start + size]), score)
