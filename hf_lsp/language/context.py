"""What surrounds the cursor: the prefix and suffix windows, and what kind of spot it is."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from hf_lsp.config.settings import Context as ContextSettings
from hf_lsp.language import syntax
from hf_lsp.language.document import Document
from hf_lsp.language.languages import OPENS_BLOCK


class Spot(enum.Enum):
    """Where the cursor stands; it decides how much to ask for and how much to keep."""

    MID_WORD = "mid_word"  # inside an identifier with more of it after the cursor
    MID_LINE = "mid_line"  # code follows, or brackets/a string close later on: this line only
    END_OF_LINE = "end_of_line"
    EMPTY_LINE = "empty_line"
    BLOCK_OPENER = "block_opener"  # after `:` `{` `(` `=>` …, or on the empty line below one


@dataclass(frozen=True)
class Window:
    """The text the prompt is built from."""

    prefix: str
    suffix: str
    spot: Spot
    line_before: str  # the cursor line up to the cursor
    line_after: str  # the cursor line after the cursor, without its ending

    @property
    def single_line(self) -> bool:
        return self.spot in (Spot.MID_LINE, Spot.MID_WORD)


_WORD = re.compile(r"\w")
_CODE_WORD = re.compile(r"[\w$]")  # `$` is part of a name in JavaScript, PHP, Java …
_CLOSERS = set(")]}>\"'`;:,. \t")


def classify(before: str, after: str, previous_line: str) -> Spot:
    """Classify the cursor position from the text around it: indentation and regex rules.

    The whole decision for a language without a grammar; ``refine`` checks it otherwise.
    """
    rest = after.strip()
    if before and after and _WORD.match(before[-1]) and _WORD.match(after[0]):
        return Spot.MID_WORD
    if rest and not set(rest) <= _CLOSERS:
        return Spot.MID_LINE
    if not before.strip():
        if previous_line.strip() and OPENS_BLOCK.search(previous_line.rstrip()):
            return Spot.BLOCK_OPENER
        return Spot.EMPTY_LINE
    if OPENS_BLOCK.search(before.rstrip()):
        return Spot.BLOCK_OPENER
    return Spot.END_OF_LINE


def window(doc: Document, line: int, index: int, settings: ContextSettings) -> Window:
    """Cut the prefix and suffix windows around ``(line, index)``, on line boundaries."""
    lines = doc.lines
    current = lines[line]
    content = current.rstrip("\r\n")
    before, after = content[:index], content[index:]
    ending = current[len(content):]

    prefix_parts = [before]
    budget = settings.max_prefix_chars - len(before)
    first = max(0, line - settings.max_prefix_lines)
    for i in range(line - 1, first - 1, -1):
        budget -= len(lines[i])
        if budget < 0:
            break
        prefix_parts.append(lines[i])
    prefix = "".join(reversed(prefix_parts))
    if len(prefix) > settings.max_prefix_chars:  # a single very long cursor line
        prefix = prefix[len(prefix) - settings.max_prefix_chars :]  # not [-0:] when 0

    suffix_parts = [after + ending]
    budget = settings.max_suffix_chars - len(suffix_parts[0])
    last = min(len(lines), line + 1 + settings.max_suffix_lines)
    for i in range(line + 1, last):
        budget -= len(lines[i])
        if budget < 0:
            break
        suffix_parts.append(lines[i])
    suffix = "".join(suffix_parts)
    if len(suffix) > settings.max_suffix_chars:
        suffix = suffix[: settings.max_suffix_chars]

    previous = next((lines[i] for i in range(line - 1, -1, -1) if lines[i].strip()), "")
    spot = classify(before, after, previous)
    if doc.language_id:
        spot = refine(doc.language_id, prefix, suffix, spot)
    else:
        spot = _in_line_brackets(before, after, spot)
    return Window(prefix, suffix, spot, before, after)


def _in_line_brackets(before: str, after: str, spot: Spot) -> Spot:
    """Without a grammar: the user is writing the inside of brackets on this line, or not.

    A `)` or `]` right after the cursor that closes a bracket opened on this line
    (``f(|)``, ``def f(|):``, ``x[|]``) says so: the answer is the rest of this line.
    """
    closer = after.lstrip()[:1]
    opener = {")": "(", "]": "["}.get(closer)
    if opener and before.count(opener) > before.count(closer):
        return Spot.MID_LINE
    return spot


def refine(language_id: str, prefix: str, suffix: str, spot: Spot) -> Spot:
    """Check the indentation rules' answer against the syntax tree, where there is one.

    One parse of the window, and only where the tree can change the answer. Cursor
    strictly inside one token of code between word characters (``$`` included): mid-word;
    between two tokens: mid-line. Only closers after the cursor, but inside a one-line
    string or brackets opened on this line (``def f(|):``, ``x[|]``, ``{"a": |}``):
    mid-line, the user is writing this line (a block's braces, ``if (x) {|}``, stay an
    opener). An opener in a comment or a string, or a `:` that heads no block (a dict, a
    slice, a lambda, a type, a ternary): not an opener. A grammar-less language, or an
    ERROR in the tree there, keeps the rules' answer.
    """
    before = prefix[prefix.rfind("\n") + 1 :]
    after = suffix.partition("\n")[0]
    rest = after.strip()
    word = bool(_CODE_WORD.match(before[-1:]) and _CODE_WORD.match(after[:1]))
    closers_only = bool(rest) and set(rest) <= _CLOSERS
    if not (word or closers_only or spot is Spot.BLOCK_OPENER):
        return spot  # the common case, typing at the end of a line: no parse
    found = syntax.cursor_syntax(language_id, prefix, suffix)
    if found is None:
        return _in_line_brackets(before, after, spot) if closers_only else spot
    if word and found.splits_token is not None:
        return Spot.MID_WORD if found.splits_token else Spot.MID_LINE
    if closers_only and found.line_bound:
        return Spot.MID_LINE
    if spot is Spot.BLOCK_OPENER and found.opens_block is False:
        return Spot.END_OF_LINE if before.strip() else Spot.EMPTY_LINE
    return spot
