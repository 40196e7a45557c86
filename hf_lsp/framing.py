"""Standard input for pygls's reader that finds the next frame after a broken one.

pygls reads ``Content-Length: N`` header lines and ignores any line that is not one. A frame
whose header it cannot read (``Content-Length: abc``), or whose length is wrong, leaves its
body unread; the body has no line ending of its own, so the next frame's header is read as
the tail of that body's line and lost, and so is every frame after it: the server goes deaf.
Here a header that begins in the middle of a line starts a line of its own, so the reader
picks up the next whole frame, and the broken one is logged.
"""

from __future__ import annotations

import logging
import re
from typing import BinaryIO

log = logging.getLogger(__name__)

HEADER = b"Content-Length:"
_GOOD = re.compile(rb"Content-Length: \d+\r\n")


class Resync:
    """A binary stdin whose lines never run into the next frame's header."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._next = b""  # a header split from the line it was glued to

    def readline(self) -> bytes:
        line, self._next = (self._next, b"") if self._next else (self._raw.readline(), b"")
        at = line.find(HEADER, 1)
        if at > 0:
            log.error("skipped %d bytes of a broken frame before the next header", at)
            line, self._next = line[:at], line[at:]
        elif line.startswith(HEADER) and not _GOOD.fullmatch(line):
            log.error("a frame with an unreadable header was skipped: %r", line[:80])
        return line

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def close(self) -> None:
        self._raw.close()
