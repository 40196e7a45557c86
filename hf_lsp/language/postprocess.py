"""Turn a backend's raw text into the completion to show: a pipeline of small, named steps."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from hf_lsp.language import syntax
from hf_lsp.language.languages import CLOSER_LINE, OPENS_BLOCK

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
    language_id: str = ""  # picks the tree-sitter grammar; "" means indentation rules only
    # the editor replaces the auto-closed characters after the cursor (an item `range`): keep
    # the completion's own closers instead of trimming them
    replace_closers: bool = False
    clear: Sequence[str] = ()  # the user's `tokensToClear`: removed wherever they appear


Step = Callable[[str, Cleanup], str]


ECHO_MIN_CHARS = 16  # a prompt shorter than this, stripped of its markers, may be real code


def strip_echo(text: str, c: Cleanup) -> str:
    """Drop an echoed prompt (servers default to ``return_full_text: true``).

    The echo may keep the FIM markers or lose them (a server that skips special tokens when
    decoding); a marker-free echo is only trusted when it is long enough to be the prompt.
    """
    if c.prompt and text.startswith(c.prompt):
        return text[len(c.prompt) :]
    bare = without(c.prompt, c.special_tokens)
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
    return without(text, c.special_tokens)


def clear_tokens(text: str, c: Cleanup) -> str:
    """Remove the strings the user named (``tokensToClear``), wherever they are.

    They are removed, not cut at, as llm-ls does: the model's own end tokens have already
    ended the text; these are markers of models hf-lsp has no template for.
    """
    return without(text, c.clear)


def keep_first_line(text: str, c: Cleanup) -> str:
    """In the middle of a line, complete that line only."""
    if not c.single_line:
        return text
    return text.split("\n", 1)[0].rstrip("\r")




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
    elif OPENS_BLOCK.search(cursor_line) or OPENS_BLOCK.search(cursor_line + lines[0]):
        floor = closes_at = _indent(cursor_line)
    else:
        floor, closes_at = _indent(cursor_line) - 1, _indent(cursor_line)
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip():
            continue
        if _indent(line) <= floor:
            if CLOSER_LINE.match(line) and _indent(line) >= closes_at - 1:
                return "\n".join(lines[: i + 1])
            return "\n".join(lines[:i])
    return text


def _same_line(a: str, b: str) -> bool:
    return a.expandtabs(4).rstrip() == b.expandtabs(4).rstrip()


def drop_suffix_repeat(text: str, c: Cleanup) -> str:
    """End the completion where it starts writing the document's next lines again.

    A model that does not stop at the end of the hole goes on with the code after the
    cursor: the closing lines the document already has (``}``, ``});``, ``end`` …) and what
    follows them. From the first answer line on which every remaining line is the document's
    next line (the last one may be cut short by the token budget), the rest is dropped.
    Blank lines are skipped on both sides; indentation counts, so a nested block's ``}`` is
    not the enclosing block's.
    """
    lines = text.split("\n")
    if c.single_line or len(lines) < 2:
        return text
    following = [ln for ln in c.suffix.split("\n")[1:] if ln.strip()][: len(lines)]
    if not following:
        return text
    filled = [i for i, ln in enumerate(lines) if ln.strip() and i > 0]
    for at, first in enumerate(filled):
        rest = filled[at:]
        if len(rest) > len(following):
            continue
        *whole, last = rest
        if all(_same_line(lines[i], following[k]) for k, i in enumerate(whole)):
            tail, model = lines[last].expandtabs(4).rstrip(), following[len(whole)].expandtabs(4)
            if model.startswith(tail) and (whole or len(tail.strip()) >= 1):
                return "\n".join(lines[:first]).rstrip()
    return text


def stop_at_scope_end(text: str, c: Cleanup) -> str:
    """Stop at the end of the syntactic scope the cursor is in (tree-sitter).

    Without a grammar for the language, or when the scope does not close inside the
    completion, the indentation rules of :func:`stop_at_block_end` decide.
    """
    if c.language_id and not c.single_line:
        cut = syntax.scope_end(c.language_id, c.prefix, text)
        if cut is not None:
            if c.language_id not in syntax.INDENTED:
                return text[:cut]
            # an indented block has no closer to carry it past the cursor's line: the tree
            # sees the enclosing one, and the indentation says where the cursor's block ends
            text = text[:cut]
    return stop_at_block_end(text, c)


def trim_suffix_overlap(text: str, c: Cleanup) -> str:
    """Drop an ending that repeats the code after the cursor (`foo(bar):)` doubling)."""
    rest = c.line_after.strip()
    if c.replace_closers and rest and set(rest) <= _CLOSERS | {" "}:
        pass  # the item's range replaces them: see :func:`closers_replaced`
    elif "\n" not in text and rest and set(rest) <= _CLOSERS | {" "}:
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
            if filled[-k] == 0 and not all(CLOSER_LINE.match(ln) for ln in tail):
                continue  # all of it is the next lines again: code repeated, as in the file
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


REPEATS = 3  # a line or block seen this many times in a row is the model looping


def drop_repetition(text: str, c: Cleanup) -> str:
    """Keep one copy of lines or blocks the model repeats, and cut a phrase looping to the end.

    Short lines (``}``, ``end``) repeat legitimately and are left alone, and so do lines the
    document itself already repeats (an unrolled loop, a table of numbers); a phrase counts
    as a loop only when it runs to the end of the text, where ``max_new_tokens`` stopped it.
    """
    lines = text.split("\n")
    # the first line is compared as the editor shows it: after the text before the cursor
    full = [c.prefix.rsplit("\n", 1)[-1] + lines[0], *lines[1:]]
    for i in range(len(full)):
        for period in (1, 2, 3):
            block = full[i : i + period]
            if len(block) < period or len("".join(block).strip()) < 4:
                continue
            if period > 1 and block == block[:1] * period:
                continue  # one line repeated: period 1 tells
            count = 1
            while full[i + count * period : i + (count + 1) * period] == block:
                count += 1
            if count >= REPEATS and not _repeated_before(block, c.prefix):
                return "\n".join(lines[: i + period])
    last = lines[-1]
    for match in _LOOP.finditer(last):
        unit = match.group(1)
        tail = last[match.end() :]
        if len(set(unit)) > 1 and any(ch.isalnum() for ch in unit) and unit.startswith(tail):
            lines[-1] = last[: match.start() + len(unit)]
            return "\n".join(lines)
    return text


def _repeated_before(block: list[str], prefix: str) -> bool:
    """Whether the document already repeats these lines (an unrolled loop, a table)."""
    once = "\n".join(ln.rstrip() for ln in block)
    return f"{once}\n{once}\n" in "\n".join(ln.rstrip() for ln in prefix.split("\n"))


_LOOP = re.compile(r"(.{2,16}?)\1{3,}")


def drop_degenerate(text: str, c: Cleanup) -> str:
    """Nothing for output that is not code: one character repeated, or only markers left."""
    body = "".join(text.split())
    if len(body) >= 12 and len(set(body)) == 1 and body[0].isalnum():
        return ""
    return text


def _indent_style(prefix: str) -> str | None:
    r"""``"\t"`` or ``" "`` as the prefix's lines are indented (``None``: no evidence)."""
    tabs = spaces = 0
    for line in prefix[-4000:].split("\n")[1:-1]:  # the nearest lines are evidence enough
        if line.startswith("\t"):
            tabs += 1
        elif line.startswith("  "):
            spaces += 1
    if tabs == spaces:
        return None
    return "\t" if tabs > spaces else " "


def _space_unit(prefix: str) -> int:
    widths = sorted(
        {len(ln) - len(ln.lstrip(" ")) for ln in prefix[-4000:].split("\n") if ln.startswith(" ")}
    )
    steps = [b - a for a, b in zip([0, *widths], widths, strict=False) if b > a]
    return min(steps) if steps else 4


def normalise_indentation(text: str, c: Cleanup) -> str:
    """Indent the completion's lines as the document does: tabs, or spaces of its width."""
    style = _indent_style(c.prefix)
    if style is None or "\n" not in text:
        return text
    lines = text.split("\n")
    out = [lines[0]]
    unit = _space_unit(c.prefix)
    for line in lines[1:]:
        body = line.lstrip(" \t")
        lead = line[: len(line) - len(body)]
        if style == "\t" and " " in lead and "\t" not in lead:
            model_unit = 4 if len(lead) % 4 == 0 else 2
            lead = "\t" * (len(lead) // model_unit) + " " * (len(lead) % model_unit)
        elif style == " " and "\t" in lead:
            lead = lead.replace("\t", " " * unit)
        out.append(lead + body)
    return "\n".join(out)


def trim_trailing_space(text: str, c: Cleanup) -> str:
    """No trailing blank lines or spaces: the editor shows them as junk."""
    return text.rstrip()


PIPELINE: tuple[Step, ...] = (
    strip_echo,
    drop_leading_markers,
    cut_at_stop,
    drop_special_tokens,
    clear_tokens,
    keep_first_line,
    drop_repetition,
    drop_suffix_repeat,
    stop_at_scope_end,
    normalise_indentation,
    trim_suffix_overlap,
    drop_degenerate,
    trim_trailing_space,
)


def clean(text: str, c: Cleanup, steps: Sequence[Step] = PIPELINE) -> str:
    """Run every step; a whitespace-only result becomes ``""``."""
    for step in steps:
        text = step(text, c)
    return text if text.strip() else ""


def closers_replaced(text: str, line_after: str) -> int:
    """How many characters after the cursor the item should replace (0: insert only).

    When the rest of the line is only auto-closed characters (``)``, ``"]`` …) and the
    completion writes each of them, in order, the item replaces them rather than the
    completion losing its own: ``foo(bar`` + ``baz):`` over ``)`` gives ``foo(barbaz):``.
    """
    rest = line_after.rstrip()
    if not rest or not set(rest) <= _CLOSERS | {" "}:
        return 0
    at = 0
    for ch in rest.replace(" ", ""):
        at = text.find(ch, at)
        if at < 0:
            return 0
        at += 1
    return len(rest)


def clean_with_range(text: str, c: Cleanup) -> tuple[str, int]:
    """Clean ``text``; also say how many auto-closed characters after the cursor it replaces."""
    rest = c.line_after.strip()
    if not rest or not set(rest) <= _CLOSERS | {" "}:
        return clean(text, c), 0  # nothing auto-closed after the cursor: nothing to replace
    kept = clean(text, replace(c, replace_closers=True))
    replaced = closers_replaced(kept, c.line_after)
    if replaced:
        return kept, replaced
    return clean(text, replace(c, replace_closers=False)), 0


def without(text: str, tokens: Sequence[str]) -> str:
    """``text`` with every occurrence of each of ``tokens`` removed."""
    for token in tokens:
        if token:
            text = text.replace(token, "")
    return text
