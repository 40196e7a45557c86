"""Frame reading for pygls's loop that finds the next frame after a broken one.

pygls reads ``Content-Length: N`` header lines and ignores any line that is not one. A frame
whose header it cannot read (``Content-Length: abc``), or whose length is wrong, leaves its
body unread; the body has no line ending of its own, so the next frame's header is read as
the tail of that body's line and lost, and so is every frame after it: the server goes deaf.
Here a header that begins in the middle of a line starts a line of its own, so the reader
picks up the next whole frame, and the broken one is logged. :class:`Resync` wraps stdin,
:class:`AsyncResync` a TCP connection's reader.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import BinaryIO

log = logging.getLogger(__name__)

HEADER = b"Content-Length:"
_GOOD = re.compile(rb"Content-Length: \d+\r\n")


def split(line: bytes) -> tuple[bytes, bytes]:
    """``line`` as pygls should see it, and the header glued to its end (for the next read)."""
    at = line.find(HEADER, 1)
    if at > 0:
        log.error("skipped %d bytes of a broken frame before the next header", at)
        return line[:at], line[at:]
    if line.startswith(HEADER) and not _GOOD.fullmatch(line):
        log.error("a frame with an unreadable header was skipped: %r", line[:80])
    return line, b""


class Resync:
    """A binary stdin whose lines never run into the next frame's header."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._next = b""  # a header split from the line it was glued to

    def readline(self) -> bytes:
        line, self._next = split(self._next or self._raw.readline())
        return line

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def close(self) -> None:
        self._raw.close()


class AsyncResync:
    """The same for a stream reader (``--tcp``)."""

    def __init__(self, raw: asyncio.StreamReader) -> None:
        self._raw = raw
        self._next = b""

    async def readline(self) -> bytes:
        line, self._next = split(self._next or await self._raw.readline())
        return line

    async def readexactly(self, n: int) -> bytes:
        return await self._raw.readexactly(n)
