"""One logging path: records go to stderr or ``--log-file`` and to the editor, token-free.

stdout carries the protocol and nothing else. Every handler hf-lsp installs has a
:class:`RedactingFilter`, so no record can leave the process with a token in it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from hf_lsp.redact import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Render each record's message once and replace any token in it (and in its traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup(verbose: int = 0, log_file: str | None = None) -> logging.Handler:
    """Send hf-lsp's and pygls's records to stderr or a file; return that handler.

    ``verbose``: -1 warnings only, 0 hf-lsp's info, 1 its debug, 2 everything.
    """
    handler: logging.Handler
    if log_file:
        path = Path(log_file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    # hf-lsp's own records: info by default (settings applied, retries), debug with -v,
    # warnings only with -q (verbose -1)
    own = logging.DEBUG if verbose > 0 else logging.INFO if verbose == 0 else logging.WARNING
    logging.getLogger("hf_lsp").setLevel(own)
    # pygls logs every message body at INFO: only worth it at the most verbose level
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return handler


class EditorLogHandler(logging.Handler):
    """Forward hf-lsp's own records (not pygls's) to ``window/logMessage``.

    A record from another thread (the stdin reader, a tokenizer download) is handed to the
    event loop's thread, so that two messages are never written to stdout at once.
    """

    def __init__(self, send: Callable[[int, str], None], level: int = logging.INFO) -> None:
        super().__init__(level)
        self._send = send
        self.addFilter(RedactingFilter())
        self._busy = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("hf_lsp"):
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # not the event loop's thread
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._forward, record.levelno,
                                                self.format(record))
            return
        self._forward(record.levelno, self.format(record))

    def _forward(self, level: int, message: str) -> None:
        if self._busy:
            return
        self._busy = True  # sending may log; never recurse
        try:
            self._send(level, message)
        except Exception:
            pass  # the editor went away: the stderr/file handler still has the record
        finally:
            self._busy = False
