r"""Open documents as lists of lines, with LSP positions in UTF-16, UTF-8 or UTF-32 units.

A document is kept as its lines (each with its own line ending, the last one without), so an
incremental edit touches only the lines it changes and reading the text around the cursor
never joins the whole file. Line breaks are ``\n``, ``\r\n`` and ``\r``, as in LSP. A position
past the end of a line means the end of that line; past the last line, the end of the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_SURROGATE = re.compile("[\ud800-\udfff]")

UTF16 = "utf-16"
UTF8 = "utf-8"
UTF32 = "utf-32"


def scrub(text: str) -> str:
    """Replace lone surrogates with U+FFFD.

    JSON lets a client send them as escapes although they are not text: they could
    not be encoded into a request body. U+FFFD has the same length in UTF-8, UTF-16 and
    UTF-32 units, so no position moves.
    """
    return _SURROGATE.sub("\ufffd", text)


def split_lines(text: str) -> list[str]:
    """Split into lines that keep their endings; the result always ends with the last line."""
    lines = _LINE.findall(scrub(text))
    if not lines or lines[-1].endswith(("\n", "\r")):
        lines.append("")
    return lines


def _units(ch: str, encoding: str) -> int:
    if encoding == UTF16:
        return 2 if ord(ch) > 0xFFFF else 1
    if encoding == UTF8:
        return len(ch.encode("utf-8", "surrogatepass"))
    return 1


def column_to_index(line: str, column: int, encoding: str = UTF16) -> int:
    """Map an LSP character offset on ``line`` to a Python string index (clamped to the line)."""
    content = line.rstrip("\r\n")
    if column <= 0:
        return 0
    if encoding == UTF32 or content.isascii():
        return min(column, len(content))
    units = 0
    for index, ch in enumerate(content):
        if units >= column:
            return index
        units += _units(ch, encoding)
        if units > column:  # the offset falls inside a surrogate pair or a UTF-8 sequence
            return index
    return len(content)


def index_to_column(line: str, index: int, encoding: str = UTF16) -> int:
    """Map a Python string index on ``line`` to an LSP character offset (clamped to the line)."""
    prefix = line.rstrip("\r\n")[: max(index, 0)]
    if encoding == UTF32 or prefix.isascii():
        return len(prefix)
    return sum(_units(ch, encoding) for ch in prefix)


@dataclass
class Document:
    """One open text document."""

    uri: str
    text: str = ""
    language_id: str = ""
    version: int = 0
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = split_lines(self.text)
        self.text = ""  # the lines are the source of truth; see :attr:`source`

    @property
    def source(self) -> str:
        """The whole text (joins every line: avoid on the hot path)."""
        return "".join(self.lines)

    def clamp(self, line: int, column: int, encoding: str = UTF16) -> tuple[int, int]:
        """Turn an LSP position into ``(line, index)`` inside the document."""
        if line < 0:
            return 0, 0
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return last, len(self.lines[last].rstrip("\r\n"))
        return line, column_to_index(self.lines[line], column, encoding)

    def replace_all(self, text: str, version: int | None = None) -> None:
        self.lines = split_lines(text)
        if version is not None:
            self.version = version

    def apply_change(
        self,
        start: tuple[int, int],
        end: tuple[int, int],
        text: str,
        version: int | None = None,
        encoding: str = UTF16,
    ) -> None:
        """Replace the text between two LSP positions (an incremental ``didChange``)."""
        sl, sc = self.clamp(*start, encoding)
        el, ec = self.clamp(*end, encoding)
        if (el, ec) < (sl, sc):
            sl, sc, el, ec = el, ec, sl, sc
        head = self.lines[sl][:sc]
        tail = self.lines[el][ec:]
        stop = el + 1
        joined = head + scrub(text) + tail
        # a "\r" now followed by the next line's "\n" would join two lines: re-split them together
        if joined.endswith("\r") and stop < len(self.lines) and self.lines[stop].startswith("\n"):
            joined += self.lines[stop]
            stop += 1
        if sl > 0 and self.lines[sl - 1].endswith("\r") and joined.startswith("\n"):
            sl -= 1
            joined = self.lines[sl] + joined
        new = split_lines(joined)
        if stop < len(self.lines) and new[-1] == "":
            new.pop()  # the empty last line belongs to the end of the document only
        self.lines[sl:stop] = new
        if version is not None:
            self.version = version

    def line_text(self, line: int) -> str:
        """The line's content without its ending."""
        return self.lines[line].rstrip("\r\n")

    def position_of(self, line: int, index: int, encoding: str = UTF16) -> tuple[int, int]:
        """The LSP position of a ``(line, index)`` pair."""
        return line, index_to_column(self.lines[line], index, encoding)


class DocumentStore:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, language_id: str = "", version: int = 0) -> Document:
        doc = Document(uri, text, language_id, version)
        self._docs[uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def __len__(self) -> int:
        return len(self._docs)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._docs.values()))
