"""Keep API tokens out of every string hf-lsp writes: logs, messages, errors, output.

Two nets: every token hf-lsp has read is registered here and replaced wherever it appears,
and patterns catch tokens it never saw (``hf_…`` strings, ``Bearer …`` values, an
``apiToken`` key in JSON or a Python repr — pygls logs the raw ``initialize`` params).
"""

from __future__ import annotations

import re
import threading

MASK = "hf_***"

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# each alternative: (?P<keep>what stays) then the secret itself
_GENERIC = re.compile(
    r"(?P<hf>\bhf_[A-Za-z0-9]{8,})"
    r"|(?P<bearer_keep>\bBearer\s+|(?i:authorization[\"']?\s*[:=]\s*[\"']?bearer\s+))"
    r"(?P<bearer>[^\s\"',}\]]+)"
    r"|(?P<key_keep>(?i:[\"']?(?:apiToken|api_token|token)[\"']?\s*[:=]\s*[\"']))(?P<key>[^\"']+)",
)


def _mask(match: re.Match[str]) -> str:
    keep = match.group("bearer_keep") or match.group("key_keep") or ""
    return keep + MASK


def register_secret(value: str | None) -> None:
    """Remember a token so that :func:`redact` hides it from now on."""
    global _pattern
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """Return ``text`` with every known or recognisable token replaced by a mask."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _GENERIC.sub(_mask, text)


def scan_for_tokens(data: dict[str, object]) -> None:
    """Register the ``apiToken`` of a settings-shaped dict, before anything logs it."""
    value = data.get("apiToken")
    if isinstance(value, str):
        register_secret(value.strip())
