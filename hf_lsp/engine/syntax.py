"""What the syntax tree says about the cursor and the completion (tree-sitter, loaded on use).

Grammars come from the tree-sitter organisation's own wheels (``tree-sitter-python`` …);
nothing is downloaded at run time. A language without a grammar, or a grammar that fails to
load, answers ``None`` everywhere, and the callers fall back to indentation rules.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# VS Code language id → (module, function returning the grammar)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "javascriptreact": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": ("tree_sitter_typescript", "language_tsx"),
    "rust": ("tree_sitter_rust", "language"),
    "go": ("tree_sitter_go", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "java": ("tree_sitter_java", "language"),
}

_STRINGS = frozenset(
    {
        "string", "string_content", "template_string", "string_fragment", "raw_string_literal",
        "string_literal", "interpreted_string_literal", "char_literal", "character",
    }
)
_LINE_CLOSERS = set(")]}\"'`;, \t")

_parsers: dict[str, Any] = {}
_unavailable: set[str] = set()


def parser_for(language_id: str) -> Any | None:
    """A tree-sitter parser for the language, built on first use (``None``: no grammar)."""
    parser = _parsers.get(language_id)
    if parser is not None or language_id in _unavailable:
        return parser
    spec = GRAMMARS.get(language_id)
    if spec is None:
        _unavailable.add(language_id)
        return None
    try:
        tree_sitter = importlib.import_module("tree_sitter")
        grammar = importlib.import_module(spec[0])
        parser = tree_sitter.Parser(tree_sitter.Language(getattr(grammar, spec[1])()))
    except Exception as exc:  # a missing wheel or an ABI mismatch: fall back, say so once
        log.info("no tree-sitter grammar for %s (%s): using indentation rules", language_id, exc)
        _unavailable.add(language_id)
        return None
    _parsers[language_id] = parser
    return parser


def available(language_id: str) -> bool:
    return parser_for(language_id) is not None


@dataclass(frozen=True)
class CursorSyntax:
    """The syntactic spot of the cursor."""

    in_comment: bool
    in_string: bool
    node: str  # the innermost named node around the cursor


def cursor_syntax(language_id: str, prefix: str, suffix: str) -> CursorSyntax | None:
    """Whether the cursor is in a comment or a string, from a parse of the window."""
    parser = parser_for(language_id)
    if parser is None:
        return None
    head = prefix.encode()
    off = len(head)
    tree = parser.parse(head + suffix.encode())
    node = tree.root_node.named_descendant_for_byte_range(max(off - 1, 0), off)
    name = node.type if node is not None else ""
    in_comment = in_string = False
    while node is not None:
        if "comment" in node.type and node.start_byte < off <= node.end_byte:
            in_comment = True
            break
        if node.type in _STRINGS and node.start_byte < off < node.end_byte:
            in_string = True
            break
        node = node.parent
    return CursorSyntax(in_comment, in_string, name)


def scope_end(language_id: str, prefix: str, completion: str) -> int | None:
    """Where the syntactic scope the cursor is in ends inside ``completion``.

    The scope is the innermost node that starts before the cursor and ends on a later line
    once the completion is in place (a call's arguments, a block, a function body …); at
    the top level, the statement the cursor is in. The answer is
    an index into ``completion``: the end of the line on which that node closes, so trailing
    punctuation (``);``) stays. ``None``: no grammar, or the scope does not close inside the
    completion. At the top level, a multi-line definition ends the completion (the model's
    next function is not part of it).
    """
    parser = parser_for(language_id)
    if parser is None or not completion.strip():
        return None
    head = prefix.encode()
    data = head + completion.encode()
    off = len(head)
    root = parser.parse(data).root_node
    row = prefix.count("\n")
    node = root.named_descendant_for_byte_range(off, off)
    while node is not None and node != root:
        # the innermost node around the cursor that the completion carries past its line
        if node.type != "ERROR" and node.start_byte < off < node.end_byte and (
            node.end_point[0] > row
        ):
            break
        node = node.parent
    end: int | None = None
    if node is not None and node != root:
        end = node.end_byte
    else:
        for child in root.named_children:
            if child.end_byte <= off:
                continue
            # the statement the cursor is in, or a new multi-line definition, ends it
            if child.type != "ERROR" and (
                child.start_byte < off or child.start_point[0] != child.end_point[0]
            ):
                end = child.end_byte
            break
    if end is None or end >= len(data.rstrip()):
        return None
    cut = len(data[:end].decode("utf-8", "replace")) - len(prefix)
    if cut <= 0:
        return None
    newline = completion.find("\n", cut)
    if newline < 0:
        return None
    rest = completion[cut:newline]
    return newline if set(rest) <= _LINE_CLOSERS else cut
