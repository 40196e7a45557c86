"""Typing-through: answer from the suggestion already shown while the user types its start.

When a suggestion was shown at a cursor and the user then types characters that begin it
(or deletes some of what they typed since), the rest of it is the answer: no prompt is built
and no request is made. The anchor is the cursor where the suggestion was made; it is kept
until a fresh suggestion replaces it, so backspacing back towards it works too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hf_lsp.language.document import Document


@dataclass(frozen=True)
class Shown:
    """A suggestion and the document around the cursor it was made for."""

    uri: str
    version: int
    line: int
    index: int
    before: str  # the cursor line up to the cursor
    after: str  # the cursor line after the cursor, without its ending
    next_line: str | None  # the line below, to notice an edit elsewhere
    line_count: int
    texts: tuple[str, ...]
    replaced: tuple[int, ...]  # characters after the cursor each item replaces


def snapshot(
    doc: Document, line: int, index: int, texts: tuple[str, ...], replaced: tuple[int, ...]
) -> Shown:
    content = doc.line_text(line)
    below = doc.lines[line + 1] if line + 1 < len(doc.lines) else None
    return Shown(
        doc.uri, doc.version, line, index, content[:index], content[index:], below,
        len(doc.lines), texts, replaced,
    )


def typed_since(shown: Shown, doc: Document, line: int, index: int) -> str | None:
    """What was typed between the anchor and the cursor; ``None``: not typed from there.

    A cursor before the anchor (backspace) is ``None`` here too: :func:`remainders` handles it.
    """
    lines = doc.lines
    if line < shown.line or len(lines) - shown.line_count != line - shown.line:
        return None
    first = lines[shown.line].rstrip("\r\n")
    if not first.startswith(shown.before):
        return None
    current = doc.line_text(line)
    if current[index:] != shown.after:
        return None
    below = lines[line + 1] if line + 1 < len(lines) else None
    if below != shown.next_line:
        return None
    if line == shown.line:
        if index < shown.index:
            return None
        return current[shown.index : index]
    middle = "".join(lines[shown.line + 1 : line])
    return lines[shown.line][shown.index :] + middle + current[:index]


def remainders(shown: Shown, doc: Document, line: int, index: int) -> list[tuple[str, int]] | None:
    """The rest of each shown suggestion for the cursor now, or ``None`` when it does not apply.

    An empty list means the suggestion has been typed out in full.
    """
    if doc.uri != shown.uri:
        return None
    if line == shown.line and index < shown.index:
        current = doc.line_text(line)
        if (
            current[:index] != shown.before[:index]
            or current[index:] != shown.after
            or len(doc.lines) != shown.line_count
        ):
            return None
        deleted = shown.before[index:]
        return [(deleted + t, r) for t, r in zip(shown.texts, shown.replaced, strict=True)]
    typed = typed_since(shown, doc, line, index)
    if typed is None:
        return None
    typed = typed.replace("\r\n", "\n")
    if not typed:
        return None  # the same cursor again: the cache answers that, and counts it
    return rest_after(shown.texts, shown.replaced, typed)


def rest_after(
    texts: Sequence[str], replaced: Sequence[int], typed: str
) -> list[tuple[str, int]] | None:
    """What is left of each suggestion that begins with ``typed``, with what it replaces.

    ``None``: none begins so; an empty list: those that do have been typed out in full.
    """
    out = [
        (text[len(typed) :], r)
        for text, r in zip(texts, replaced, strict=True)
        if text.startswith(typed)
    ]
    if not out:
        return None
    return [(t, r) for t, r in out if t.strip()]
