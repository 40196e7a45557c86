"""Whether a long generation has written a whole unit of code, and what to keep when it has not.

A code action's answer may need several requests (the serverless API's 250 tokens each);
:class:`Unit` tells :meth:`~hf_lsp.generation.client.GenerationClient.generate_long` when
to stop asking. With a tree-sitter grammar (:mod:`hf_lsp.language.syntax`) the answer is
complete when the scope the answer was written in has closed (``}`` written, or a line back
at a lower indentation in Python), or, where the answer is new code (inserted below a
comment), once it holds a whole multi-line definition; what follows that is cut off. A
stream is checked as each line ends, so it is closed as soon as the code is whole.
Without a grammar, indentation decides. When a budget stops the generation first,
:meth:`Unit.whole` keeps the answer up to its last complete line, not inside an open
parenthesis, and, where the grammar can tell, not inside an unfinished statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hf_lsp.language import syntax
from hf_lsp.language.languages import CLOSER_LINE

if TYPE_CHECKING:
    from tree_sitter import Node

_CLOSING_TOKENS = frozenset({"}", "end", ")", "]"})
_SEPARATORS = frozenset({";", ",", ":"})
_LINE_CLOSERS = set(")]};, \t")
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")": "(", "]": "[", "}": "{"}
NEARBY_LINES = 2000  # how far back :func:`nearby` looks for a top-level line
BACK_LINES = 60  # how far a budget-stopped answer is walked back to a complete statement
FENCE = "```"


@dataclass(frozen=True)
class Unit:
    """What the answer to one action continues: the code before it, its language, its kind.

    ``prefix`` is the code the answer follows (the fill-in-the-middle prefix); ``indent`` the
    indentation the answer is written at; ``insert``: the answer is new code (a definition
    written below a comment), not the body of something already there. ``chat``: the answer
    is a chat reply, whose code is in a fenced block.
    """

    language: str
    prefix: str
    indent: str = ""
    insert: bool = False
    chat: bool = False

    def end(self, text: str) -> int | None:
        """Where the unit ends in ``text`` (an index at a line end), or ``None``: not yet."""
        if self.chat:
            return _fence_end(text)
        parser = syntax.parser_for(self.language)
        if parser is not None:
            found = _tree_end(parser, self.prefix, text, self.insert)
            if found is not False:
                return found
        return _indent_end(text, self.indent, self.insert)

    def stream_check(self, before: str = "") -> Callable[[str], bool]:
        """For a stream continuing ``before``: whether the text so far ends the unit.

        Checked only when a line has ended since the last check (a parse per line, not per
        token).
        """
        lines = 0

        def enough(text: str) -> bool:
            nonlocal lines
            seen = text.count("\n")
            if seen == lines:
                return False
            lines = seen
            return self.end(before + text) is not None

        return enough

    def whole(self, text: str) -> str:
        """``text`` without a cut line at its end, nor an unfinished statement before it."""
        cut = text.rfind("\n") + 1
        if self.chat:
            return text[:cut]
        parser = syntax.parser_for(self.language)
        ends = [m.end() for m in re.finditer("\n", text[:cut])]
        if len(ends) <= BACK_LINES:
            ends.insert(0, 0)  # nothing at all, when no line ends a statement
        for pos in reversed(ends[-BACK_LINES - 1 :]):
            if set(_open_brackets(text[:pos])) <= {"{"} and (
                parser is None or not _unfinished(parser, self.prefix, text[:pos])
            ):
                return text[:pos]
        return text[:cut]


def nearby(prefix: str, lines: int = NEARBY_LINES) -> str:
    """The end of ``prefix`` from its last top-level line (of the last ``lines``) on.

    What the unit is judged on: the scope the answer is written in starts there, and a long
    file is not parsed again for every line of the answer. A line at column 0 that is not
    a closer, a comment or a preprocessor line starts it; without one, the whole prefix.
    """
    ends = [m.start() for m in re.finditer("\n", prefix)]
    for start in reversed([0] + [e + 1 for e in ends[-lines:]]):
        line = prefix[start : prefix.find("\n", start) if prefix.find("\n", start) >= 0
                      else len(prefix)]
        if line[:1].isalpha() or line[:1] in ("_", "@"):
            return prefix[start:]
    return prefix


def _fence_end(text: str) -> int | None:
    """A chat answer ends with the fenced block it opened."""
    opened = text.find(FENCE)
    if opened < 0:
        return None
    closed = text.find("\n" + FENCE, text.find("\n", opened) if "\n" in text[opened:] else opened)
    if closed < 0:
        return None
    newline = text.find("\n", closed + 1)
    return len(text) if newline < 0 else newline + 1


def _tree_end(parser: object, prefix: str, text: str, insert: bool) -> int | None | bool:
    """The unit's end by the syntax tree; ``False`` when the tree cannot tell."""
    head = prefix.encode()
    data = head + text.encode()
    off = len(head)
    root = parser.parse(data).root_node  # type: ignore[attr-defined]
    size = len(data.rstrip())
    scope = _scope(root, off)
    if scope is None:
        return False
    ends: list[int] = []
    if scope != root and _closed(scope, size):
        ends.append(scope.end_byte)
    if insert:
        whole = _whole_units(scope, off, size)
        if whole is not None:
            ends.append(whole)
    if not ends:
        return None
    return _line_end(text, len(data[: min(ends)].decode("utf-8", "replace")) - len(prefix))


def _scope(root: Node, off: int) -> Node | None:
    """The innermost node that starts before the answer and goes on into it."""
    node: Node | None = root.descendant_for_byte_range(off, off)
    while node is not None and node != root:
        if node.start_byte < off < node.end_byte and node.is_named:
            return None if node.type == "ERROR" else node
        node = node.parent
    return root


def _closed(scope: Node, size: int) -> bool:
    """Whether the scope ends inside the answer: closed by its token, or code follows it."""
    last = scope.children[-1] if scope.children else None
    if last is not None and last.type in _CLOSING_TOKENS and not last.is_missing:
        return not scope.has_error or scope.end_byte < size
    return scope.end_byte < size and not scope.has_error


def _whole_units(scope: Node, off: int, size: int) -> int | None:
    """The end of the last complete unit written in ``scope`` (``None``: not yet).

    Only once one of them is a whole multi-line definition: a line or two (``#include``)
    do not make the answer.
    """
    written = [c for c in scope.children
               if c.end_byte > off and c.type != "comment" and c.type not in _SEPARATORS]
    last_end: int | None = None
    multi_line = False
    for i, child in enumerate(written):
        # a bare token (``class``, ``{``) is a definition the parser could not put together
        if not child.is_named or child.has_error or child.type == "ERROR" or (
            child.start_byte < off
        ):
            break
        follows = i + 1 < len(written)
        ends_closed = bool(child.children) and _closing_token(child)
        if not (follows or ends_closed) or child.end_byte > size:
            break  # the last thing written may go on
        last_end = child.end_byte
        text = child.text.decode("utf-8", "replace").strip() if child.text else ""
        multi_line = multi_line or "\n" in text
    return last_end if multi_line else None


def _closing_token(node: Node) -> bool:
    """Whether ``node``'s last token closes it (``}``, ``end`` …, not a missing one)."""
    while node.children:
        node = node.children[-1]
        if node.is_missing:
            return False
        if node.type in _CLOSING_TOKENS:
            return True
        if node.type == ";" and node.prev_sibling is not None:
            return _closing_token(node.prev_sibling)
    return False


def _line_end(text: str, cut: int) -> int | None:
    """The end of the line ``cut`` is on, when only closing punctuation follows it there."""
    if cut <= 0:
        return None
    newline = text.find("\n", cut)
    if newline < 0:
        return len(text) if set(text[cut:]) <= _LINE_CLOSERS else cut
    return newline + 1 if set(text[cut:newline]) <= _LINE_CLOSERS else cut


def _width(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _indent_end(text: str, indent: str, insert: bool) -> int | None:
    """The unit's end by indentation (``None``: not yet).

    A line that leaves the block ends it; for new code, so does a block that opened at the
    answer's indentation and came back to it.
    """
    floor = len(indent.expandtabs(4))
    lines = text.split("\n")
    pos = 0
    head = opened = False  # a line at the floor; deeper lines after it
    for i, line in enumerate(lines):
        start, pos = pos, pos + len(line) + 1
        if not line.strip():
            continue
        if i == len(lines) - 1:
            break  # a line still being written
        width = floor + _width(line) if i == 0 else _width(line)
        if width < floor:
            return start or None
        if not insert:
            continue
        if width > floor:
            opened = opened or head
            continue
        if opened:
            return min(pos, len(text)) if CLOSER_LINE.match(line.strip()) else start
        head = True
    return None


def _open_brackets(text: str) -> str:
    """The brackets open at the end of ``text``, outermost first (strings skipped, roughly)."""
    stack: list[str] = []
    quote = ""
    for line in text.split("\n"):
        quote = "" if quote in ('"', "'") else quote
        escaped = False
        for ch in line:
            if quote:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == quote:
                    quote = ""
            elif ch in "\"'`":
                quote = ch
            elif ch in _OPEN:
                stack.append(ch)
            elif ch in _CLOSE and stack and stack[-1] == _CLOSE[ch]:
                stack.pop()
    return "".join(stack)


def _unfinished(parser: object, prefix: str, text: str) -> bool:
    """Whether the grammar finds an error in ``text`` once the brackets left open are closed.

    That is a statement cut in the middle; a block left open is fine.
    """
    head = prefix.encode()
    closers = "".join(_OPEN[b] for b in reversed(_open_brackets(prefix + text)))
    data = head + text.encode() + closers.encode()
    root = parser.parse(data).root_node  # type: ignore[attr-defined]
    return _error_after(root, len(head))


def _error_after(node: Node, off: int) -> bool:
    if node.end_byte <= off or not node.has_error:
        return False
    if node.type == "ERROR" and node.start_byte >= off:
        return True
    if node.is_missing and node.type not in ("}", ";"):
        return node.start_byte >= off
    return any(_error_after(child, off) for child in node.children)
