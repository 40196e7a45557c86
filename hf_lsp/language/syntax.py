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

# languages whose blocks end where the indentation does, with no closing token
INDENTED = frozenset({"python"})

_STRINGS = frozenset(
    {
        "string", "string_content", "template_string", "string_fragment", "raw_string_literal",
        "string_literal", "interpreted_string_literal", "char_literal", "character",
    }
)
# the parents of a `:` that starts a block: Python's block headers, the cases of a switch
# (JavaScript/TypeScript, C/C++, Java, Go) and C++'s `public:` (a `:` straight in a class body)
_BLOCK_COLONS = frozenset(
    {
        "function_definition", "class_definition", "if_statement", "elif_clause",
        "else_clause", "for_statement", "while_statement", "with_statement", "try_statement",
        "except_clause", "except_group_clause", "finally_clause", "match_statement",
        "case_clause",
        "switch_case", "switch_default", "case_statement", "switch_block_statement_group",
        "expression_case", "default_case", "type_case", "communication_case",
        "field_declaration_list",
    }
)
# braces around data, not statements: a dict, an object, a struct literal, an import list …
_BRACE_LITERALS = frozenset(
    {
        "dictionary", "set", "dictionary_comprehension", "set_comprehension", "interpolation",
        "object", "object_pattern", "object_type", "named_imports", "export_clause",
        "template_substitution", "jsx_expression", "field_initializer_list", "use_list",
        "literal_value", "initializer_list", "array_initializer",
        "element_value_array_initializer",
    }
)
_PAIRS = {"(": ")", "[": "]", "{": "}", "${": "}"}
_MULTI_LINE_QUOTES = (b'"""', b"'''", b"`")
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
    """What one parse of the window says about the cursor (see ``cursor_syntax``)."""

    in_comment: bool
    in_string: bool
    splits_token: bool | None  # strictly inside one token of code; None: not code, or ERROR
    line_bound: bool  # inside a one-line string, or brackets opened and closed on its line
    opens_block: bool | None  # what the last token before the cursor opens; None: can't tell


def cursor_syntax(language_id: str, prefix: str, suffix: str) -> CursorSyntax | None:
    """The facts the completion's size is decided on, from one parse of the window.

    ``splits_token``: the cursor is strictly inside one token (an identifier, a keyword, a
    number …), not between two. ``line_bound``: the innermost thing around the cursor closes
    later on its line, so the answer is the rest of that line: a one-line string, or
    brackets opened and closed on the line (arguments, a subscript, a dict …, but not a
    block's braces, which are written over several lines). ``opens_block``: for the last
    token before the cursor (on a blank line, the end of the line above): ``False`` in a
    comment or a string, or a `:` that is no block header (a dict, a slice, a lambda, a type,
    a ternary); ``True`` for a block header's `:` or a `case …:`; ``None`` for any other
    token, or when the tree has an ERROR there.
    """
    parser = parser_for(language_id)
    if parser is None:
        return None
    head = prefix.encode()
    off = len(head)
    data = head + suffix.encode()
    root = parser.parse(data).root_node
    in_comment, in_string = _inside_text(root, off)
    return CursorSyntax(
        in_comment,
        in_string,
        None if in_comment or in_string else _splits_token(root, off, len(data)),
        _line_bound(root, off, data),
        _opens_block(root, len(head.rstrip())),
    )


def _inside_text(root: Any, off: int) -> tuple[bool, bool]:
    """Whether the cursor is in a comment (its end included) or inside a string."""
    node = root.named_descendant_for_byte_range(max(off - 1, 0), off)
    while node is not None:
        if "comment" in node.type and node.start_byte < off <= node.end_byte:
            return True, False
        if node.type in _STRINGS and node.start_byte < off < node.end_byte:
            return False, True
        node = node.parent
    return False, False


def _splits_token(root: Any, off: int, size: int) -> bool | None:
    """Whether the bytes either side of the cursor are one token (``None``: an ERROR)."""
    if off == 0 or off >= size:
        return False
    node = root.descendant_for_byte_range(off - 1, off + 1)
    if node is None or node.type == "ERROR":
        return None
    return bool(node.child_count == 0 and node.start_byte < off < node.end_byte)


def _line_bound(root: Any, off: int, data: bytes) -> bool:
    """Whether the innermost string or brackets around the cursor close on its line."""
    line_start = data.rfind(b"\n", 0, off) + 1
    line_end = data.find(b"\n", off)
    if line_end < 0:
        line_end = len(data)
    node = root.descendant_for_byte_range(off, off)
    # only nodes ending on the cursor line can close there; their ancestors end later
    while node is not None and node.end_byte <= line_end:
        if "comment" in node.type:
            return False
        if node.type in _STRINGS and node.start_byte < off < node.end_byte:
            return _one_line_string(node, line_start, data)
        if node.type != "ERROR":  # an ERROR's brackets need not pair up
            opener = _opener_around(node, off)
            if opener is not None:  # the innermost brackets: opened on this line, not a block's
                return opener.start_byte >= line_start and (
                    opener.type != "{" or node.type in _BRACE_LITERALS
                )
        node = node.parent
    return False


def _one_line_string(node: Any, line_start: int, data: bytes) -> bool:
    """A string on the cursor line, closed, and not one of the kinds written over lines."""
    while node.parent is not None and node.parent.type in _STRINGS:  # the whole literal
        node = node.parent
    parts = node.children
    opening = data[node.start_byte : parts[0].end_byte] if parts else b""
    return (
        node.start_byte >= line_start
        and not (parts and parts[-1].is_missing)
        and not opening.endswith(_MULTI_LINE_QUOTES)
    )


def _opener_around(node: Any, off: int) -> Any | None:
    """The opening bracket of a pair among the node's own children, around the cursor."""
    opener = None
    for child in node.children:
        if child.end_byte <= off:
            if child.type in _PAIRS:
                opener = child
        elif child.start_byte >= off:
            if opener is None or child.type != _PAIRS[opener.type] or child.is_missing:
                return None
            return opener
    return None


def _opens_block(root: Any, end: int) -> bool | None:
    """What the token ending at ``end`` opens (see ``cursor_syntax``)."""
    if end == 0:
        return None
    token = root.descendant_for_byte_range(end - 1, end)
    node = token
    while node is not None:
        if "comment" in node.type or node.type in _STRINGS:
            return False
        node = node.parent
    parent = token.parent
    if token.type != ":" or parent is None or parent.type == "ERROR":
        return None
    return bool(parent.type in _BLOCK_COLONS)


_SCOPE_CLOSERS = frozenset({"}", ")", "]", "end", ";"})


def _closed(node: Any) -> bool:
    """Whether the node is whole and ends with a closing bracket (not one the parser made up)."""
    if node.has_error:
        return False
    while node.children:  # the last token written (not a zero-width one the grammar adds)
        written = [ch for ch in node.children if ch.end_byte > ch.start_byte]
        if not written:
            return False
        node = written[-1]
    return bool(node.type in _SCOPE_CLOSERS and not node.is_missing)


_PUNCTUATION = frozenset({",", ";", ")", "]", "}"})


def _goes_on(node: Any, after: Any, data: bytes) -> bool:
    """Whether ``after`` carries on the code of ``node`` on the line where ``node`` ends.

    Closing punctuation only (``},`` ``});``) does not: the caller keeps it as the rest of
    the closing line, and the list or call around goes on with lines of its own.
    """
    if after.is_missing or "comment" in after.type or after.start_point[0] != node.end_point[0]:
        return False
    line_end = data.find(b"\n", node.end_byte)
    rest = data[node.end_byte : line_end if line_end >= 0 else len(data)].decode("utf-8", "replace")
    return not set(rest) <= _LINE_CLOSERS


def _whole_statement(node: Any, root: Any, data: bytes) -> Any:
    """The node, or the construct it is part of when that goes on past it on its last line.

    A block closed by ``} else {``, ``} catch (e) {``, ``}).then(`` or ``} while (x);`` is not
    the end of the code the cursor is in: the ``if``, the ``try`` or the call around it is.
    """
    while True:
        parent, after = node.parent, node.next_sibling
        if parent is not None and parent.type == "ERROR":
            # no construct to climb to: follow the siblings that go on on the same line
            # (trailing `,` `;` `)` are kept by the caller as the rest of the closing line)
            while after is not None and _goes_on(node, after, data) and (
                after.type not in _PUNCTUATION
            ):
                node, after = after, after.next_sibling
            return node
        if parent is None or parent == root:
            return node
        if after is None and parent.has_error:
            return node  # a parent still open (its closer missing): the node is the end
        if after is not None and not _goes_on(node, after, data):
            return node
        node = parent  # the parent goes on on this line, or ends with the node (`}()`)


def scope_end(language_id: str, prefix: str, completion: str) -> int | None:
    """Where the syntactic scope the cursor is in ends inside ``completion``.

    The scope is the innermost node that starts before the cursor and ends on a later line
    once the completion is in place (a call's arguments, a block, a function body …), or
    the construct around it when that goes on on its closing line (``} else {``,
    ``}).then(``, ``} while (x);``, ``}()``: see ``_whole_statement``); at the top level,
    the statement the cursor is in. The answer is an index into ``completion``: the end of
    the line on which that node closes, so trailing punctuation (``);``) stays; all of it
    when the scope closes on its last line. ``None``: no grammar, a window the parser
    cannot place (an ERROR at the root), or the scope does not close inside the completion.
    At the top level, a multi-line definition ends the completion (the model's next
    function is not part of it).
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
    scope: Any | None = None
    if node is not None and node != root:
        scope = _whole_statement(node, root, data)
    elif root.type == "ERROR":
        return None  # a window the parser cannot place: not the top level, nothing to tell
    else:
        for child in root.named_children:
            if child.end_byte <= off:
                continue
            # the statement the cursor is in, or a new multi-line definition, ends it
            if child.type != "ERROR" and (
                child.start_byte < off or child.start_point[0] != child.end_point[0]
            ):
                scope = child
            break
    if scope is None:
        return None
    end = scope.end_byte
    if end >= len(data.rstrip()):
        # the completion ends where the scope does: all of it, if a bracket closes the scope
        # there (an indented block merely stops; the model may have more of it to write)
        return len(completion) if end > off and _closed(scope) else None
    cut = len(data[:end].decode("utf-8", "replace")) - len(prefix)
    if cut <= 0:
        return None
    newline = completion.find("\n", cut)
    if newline < 0:  # the scope closes on the completion's last line: all of it, or no cut
        return len(completion) if set(completion[cut:]) <= _LINE_CLOSERS else None
    rest = completion[cut:newline]
    return newline if set(rest) <= _LINE_CLOSERS else cut
