"""Turn a backend's raw text into the completion to show: a pipeline of small, named steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

_CLOSERS = set(")]}>\"'`;,")


@dataclass(frozen=True)
class Cleanup:
    """What the steps need to know about the request."""

    prompt: str
    prefix: str
    suffix: str
    line_after: str
    stops: Sequence[str]
    special_tokens: Sequence[str]
    single_line: bool


Step = Callable[[str, Cleanup], str]


def strip_echo(text: str, c: Cleanup) -> str:
    """Drop an echoed prompt (servers default to ``return_full_text: true``)."""
    for echo in (c.prompt, _without(c.prompt, c.special_tokens)):
        if echo and text.startswith(echo):
            return text[len(echo) :]
    return text


def cut_at_stop(text: str, c: Cleanup) -> str:
    """End the text at the first stop sequence or end-of-text token."""
    cut = len(text)
    for stop in (*c.stops, *c.special_tokens):
        if stop:
            at = text.find(stop)
            if 0 <= at < cut:
                cut = at
    return text[:cut]


def drop_special_tokens(text: str, c: Cleanup) -> str:
    """Remove FIM markers a model left in (e.g. a leading ``<fim_middle>``)."""
    return _without(text, c.special_tokens)


def keep_first_line(text: str, c: Cleanup) -> str:
    """In the middle of a line, complete that line only."""
    if not c.single_line:
        return text
    return text.split("\n", 1)[0].rstrip("\r")


def trim_suffix_overlap(text: str, c: Cleanup) -> str:
    """Drop an ending that repeats the code after the cursor (`foo(bar):)` doubling)."""
    rest = c.line_after.strip()
    if "\n" not in text and rest and set(rest) <= _CLOSERS | {" "}:
        stripped = text.rstrip()
        for k in range(len(rest), 0, -1):
            if stripped.endswith(rest[:k]):
                return stripped[: len(stripped) - k]
    following = [ln.strip() for ln in c.suffix.split("\n")[1:] if ln.strip()]
    lines = text.split("\n")
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    for k in range(min(len(filled), len(following)), 0, -1):
        tail = [lines[i].strip() for i in filled[-k:]]
        if tail == following[:k]:
            return "\n".join(lines[: filled[-k]])
    return text


def trim_trailing_space(text: str, c: Cleanup) -> str:
    """No trailing blank lines or spaces: the editor shows them as junk."""
    return text.rstrip()


PIPELINE: tuple[Step, ...] = (
    strip_echo,
    cut_at_stop,
    drop_special_tokens,
    keep_first_line,
    trim_suffix_overlap,
    trim_trailing_space,
)


def clean(text: str, c: Cleanup, steps: Sequence[Step] = PIPELINE) -> str:
    """Run every step; a whitespace-only result becomes ``""``."""
    for step in steps:
        text = step(text, c)
    return text if text.strip() else ""


def _without(text: str, tokens: Sequence[str]) -> str:
    for token in tokens:
        if token:
            text = text.replace(token, "")
    return text
