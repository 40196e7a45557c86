"""Turn a backend's raw text into the completion to show: a pipeline of small, named steps."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_CLOSERS = set(")]}>\"'`;:,")


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


ECHO_MIN_CHARS = 16  # a prompt shorter than this, stripped of its markers, may be real code


def strip_echo(text: str, c: Cleanup) -> str:
    """Drop an echoed prompt (servers default to ``return_full_text: true``).

    The echo may keep the FIM markers or lose them (a server that skips special tokens when
    decoding); a marker-free echo is only trusted when it is long enough to be the prompt.
    """
    if c.prompt and text.startswith(c.prompt):
        return text[len(c.prompt) :]
    bare = _without(c.prompt, c.special_tokens)
    if len(bare) >= ECHO_MIN_CHARS and text.startswith(bare):
        return text[len(bare) :]
    return text


def drop_leading_markers(text: str, c: Cleanup) -> str:
    """Remove FIM markers at the very start (``<fim_middle>`` repeated), before stops apply."""
    tokens = [t for t in c.special_tokens if t]
    while True:
        for token in tokens:
            if text.startswith(token):
                text = text[len(token) :]
                break
        else:
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


_OPENS_BLOCK = re.compile(r"(?:[:{(\[]|=>|->|\bdo|\bthen|\belse)\s*$")
_CLOSER_LINE = re.compile(r"^\s*(?:[)\]}]+[;,)]*|end\b.*|fi|done|esac)\s*$")


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def stop_at_block_end(text: str, c: Cleanup) -> str:
    """Stop where the code leaves the block the cursor is in (the indentation fallback).

    The model's next function is not part of this completion. A closing line (``}``,
    ``end`` …) at the block's own level is kept: it closes what the cursor opened.
    """
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    cursor_line = c.prefix.rsplit("\n", 1)[-1]
    if not cursor_line.strip():
        floor, closes_at = _indent(cursor_line) - 1, _indent(cursor_line) - 1
    elif _OPENS_BLOCK.search(cursor_line) or _OPENS_BLOCK.search(cursor_line + lines[0]):
        floor = closes_at = _indent(cursor_line)
    else:
        floor, closes_at = _indent(cursor_line) - 1, _indent(cursor_line)
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip():
            continue
        if _indent(line) <= floor:
            if _CLOSER_LINE.match(line) and _indent(line) >= closes_at - 1:
                return "\n".join(lines[: i + 1])
            return "\n".join(lines[:i])
    return text


def trim_suffix_overlap(text: str, c: Cleanup) -> str:
    """Drop an ending that repeats the code after the cursor (`foo(bar):)` doubling)."""
    rest = c.line_after.strip()
    if "\n" not in text and rest and set(rest) <= _CLOSERS | {" "}:
        stripped = text.rstrip()
        # brackets: cut at the first closer that closes a bracket opened before the cursor,
        # when that closer is the one already after the cursor (`foo(bar` + `baz):` + `)`);
        # a closer matching the completion's own opener stays (`f(` + `g(1)` + `)`)
        first = next((i for i, ch in enumerate(rest) if ch in _PAIRS), len(rest))
        at = _first_unmatched_closer(stripped)
        if at is not None and first < len(rest) and stripped[at] == rest[first]:
            stripped = stripped[:at]
        # quotes and punctuation before the first bracket: plain overlap
        plain = rest[:first]
        for k in range(len(plain), 0, -1):
            if stripped.endswith(plain[:k]):
                return stripped[: len(stripped) - k]
        if at is not None and len(stripped) == at:
            return stripped
    before = c.prefix.rsplit("\n", 1)[-1]
    following = [ln.rstrip() for ln in c.suffix.split("\n")[1:] if ln.strip()]
    lines = text.split("\n")
    # compare with the indentation: a nested block's `}` is not the enclosing block's `}`
    full = [before + lines[0], *lines[1:]]
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    for k in range(min(len(filled), len(following)), 0, -1):
        tail = [full[i].rstrip() for i in filled[-k:]]
        if tail == following[:k]:
            return "\n".join(lines[: filled[-k]])
    return text


_PAIRS = {")": "(", "]": "[", "}": "{"}


def _first_unmatched_closer(text: str) -> int | None:
    """Index of the first closer in ``text`` that closes no bracket ``text`` opened itself."""
    own: list[str] = []
    for i, ch in enumerate(text):
        if ch in "([{":
            own.append(ch)
        elif ch in _PAIRS:
            if not own or own[-1] != _PAIRS[ch]:
                return i
            own.pop()
    return None


def trim_trailing_space(text: str, c: Cleanup) -> str:
    """No trailing blank lines or spaces: the editor shows them as junk."""
    return text.rstrip()


PIPELINE: tuple[Step, ...] = (
    strip_echo,
    drop_leading_markers,
    cut_at_stop,
    drop_special_tokens,
    keep_first_line,
    stop_at_block_end,
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
