"""The function around a line, for the code actions: from the syntax tree, else from patterns.

With a tree-sitter grammar (:mod:`hf_lsp.language.syntax`) the answer is the innermost
function-like definition node around the line, so arrow functions, methods, signatures that
span lines and decorated definitions are found, and ``if (x) {`` or a test framework's
anonymous callback are not taken for functions. A language without a grammar, or a line in a
part of the file the parser could not make sense of, falls back to patterns: indentation for
Python, keywords and brace counting elsewhere. Positions are ``(line, index)`` in Python
string units; the tree's byte columns never leave this module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hf_lsp.language import syntax

if TYPE_CHECKING:
    from tree_sitter import Node

PYTHON_LIKE = {"python"}
SEARCH_LINES = 5000  # how far above the cursor the patterns look for a function's header
# Listing actions parses the whole file on every request (~1.5-3 ms per 1,000 lines); a
# file larger than this (generated code, minified bundles) uses the patterns instead.
MAX_PARSE_BYTES = 1 << 20


@dataclass(frozen=True)
class Function:
    """A function definition: header lines, docstring, body lines, and whether it is a stub.

    ``header_first`` is where a doc comment goes above the function (its decorators,
    attributes, ``export`` or ``const f =`` included). A function without a body of its own
    (an overload signature, ``declare function``, an abstract method, ``x => x + 1``) is all
    header: ``body_first`` is past ``body_last`` and it is never a stub.
    """

    header_first: int
    header_last: int
    body_first: int  # first line after the header (and docstring, for Python)
    body_last: int  # last body line (Python) or the line before the closing brace
    close_line: int | None  # the closing brace's line (brace languages)
    indent: str
    body_indent: str
    has_doc: bool
    stub: bool
    inline_braces: bool = False  # `fn f() {}` on one line
    inline_body: int | None = None  # `def f(): ...`: where the body starts on the header line


def line_text(lines: Sequence[str], i: int) -> str:
    """Line ``i`` without its line ending."""
    return lines[i].rstrip("\r\n")


def indent_of(line: str) -> str:
    """The leading whitespace of ``line``."""
    return line[: len(line) - len(line.lstrip())]


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def find_function(lines: Sequence[str], line: int, language: str) -> Function | None:
    """The innermost function whose header or body contains ``line``.

    The syntax tree answers when the language has a grammar, the file is not huge and the
    line is not inside a part the parser gave up on; otherwise the patterns do.
    """
    if not lines:
        return None
    line = max(0, min(line, len(lines) - 1))
    root = _parse(lines, language)
    if root is not None:
        node, parsed = _innermost(root, lines, line)
        if node is not None:
            return _from_tree(node, lines, language)
        if parsed:
            return None
    return _from_patterns(lines, line, language)


# --- from the syntax tree -------------------------------------------------------------------

# always a function, in whichever grammar has the type
_DEFINITIONS = frozenset({
    "function_definition",  # Python, C, C++
    "function_declaration",  # JavaScript, TypeScript, Go
    "generator_function_declaration", "method_definition",  # JavaScript, TypeScript
    "function_signature", "method_signature", "abstract_method_signature",  # TypeScript
    "function_item", "function_signature_item",  # Rust
    "method_declaration",  # Go, Java
    "constructor_declaration", "compact_constructor_declaration",  # Java
})
# a function only when bound to a name: `const f = () => {` yes, `it("does", () => {` no
_ANONYMOUS = frozenset({"arrow_function", "function_expression", "generator_function",
                        "func_literal"})
_BINDINGS = frozenset({
    "variable_declarator", "assignment_expression", "pair", "public_field_definition",
    "field_definition", "export_statement",  # JavaScript, TypeScript
    "short_var_declaration", "var_spec", "const_spec", "assignment_statement",  # Go
})
# nodes around a function that belong to its definition: a doc comment goes above them
_WRAPPERS = _BINDINGS | {
    "decorated_definition", "template_declaration", "ambient_declaration",
    "lexical_declaration", "variable_declaration", "expression_statement",
    "var_declaration", "const_declaration", "expression_list",
}
# siblings just above a definition that belong to it
_PREFIXES = frozenset({"decorator", "attribute_item"})


def _parse(lines: Sequence[str], language: str) -> Node | None:
    """The document's syntax tree (``None``: no grammar, or too big to parse per request).

    Every line ends in a newline for the parser, whatever it ends in, so that the tree's
    rows are the document's lines.
    """
    parser = syntax.parser_for(language)
    if parser is None:
        return None
    source = "".join(line_text(lines, i) + "\n" for i in range(len(lines)))
    data = source.encode("utf-8", "surrogatepass")
    if len(data) > MAX_PARSE_BYTES:
        return None
    root: Node = parser.parse(data).root_node
    return root


def _is_function(node: Node) -> bool:
    """A definition, or an anonymous function that a name is bound to (not a callback)."""
    if node.type in _DEFINITIONS:
        return True
    if node.type not in _ANONYMOUS:
        return False
    parent = node.parent
    while parent is not None and parent.type in ("expression_list", "parenthesized_expression"):
        parent = parent.parent
    return parent is not None and parent.type in _BINDINGS


def _wrapped(node: Node) -> Node | None:
    """The function that the wrapper ``node`` (``export const f = …``, ``@dec def``) defines."""
    for child in node.named_children:
        if _is_function(child):
            return child
        if child.type in _WRAPPERS:
            found = _wrapped(child)
            if found is not None:
                return found
    return None


def _defined_by(node: Node) -> Node | None:
    """The function that ``node`` is, wraps, or is a decorator or attribute of."""
    if _is_function(node):
        return node
    if node.type in _WRAPPERS:
        return _wrapped(node)
    if node.type in _PREFIXES:
        sibling = node.next_named_sibling
        while sibling is not None and (sibling.type in _PREFIXES or "comment" in sibling.type):
            sibling = sibling.next_named_sibling
        return sibling if sibling is not None and _is_function(sibling) else None
    return None


def _last_row(node: Node) -> int:
    """The last line with text of ``node`` (a line comment's node ends after its newline)."""
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point[0] else row


def _innermost(root: Node, lines: Sequence[str], line: int) -> tuple[Node | None, bool]:
    """The innermost function around ``line``, and whether the parser understood the line.

    The line's first and last characters are both looked up, so a header that starts a
    line (``export const f = () => {``) and one that ends it (``x = { f: () => {``) are
    both found; the smaller of two answers is the inner one.
    """
    text = line_text(lines, line)
    first = len(text) - len(text.lstrip())
    last = max(first, len(text.rstrip()) - 1)
    best: Node | None = None
    parsed = True
    for index in {first, last}:
        column = len(text[:index].encode("utf-8", "surrogatepass"))
        width = len(text[index : index + 1].encode("utf-8", "surrogatepass"))
        node: Node | None = root.named_descendant_for_point_range(
            (line, column), (line, column + width)
        )
        while node is not None:
            if node.type == "ERROR":
                parsed = False
            found = _defined_by(node)
            if found is not None and _last_row(found) >= line:
                if best is None or _size(found) < _size(best):
                    best = found
                break
            node = node.parent
    return best, parsed


def _size(node: Node) -> int:
    return node.end_byte - node.start_byte


def _outer(node: Node) -> Node:
    """The outermost node of the definition, with its ``export``, ``const f =`` or decorators."""
    while node.parent is not None and node.parent.type in _WRAPPERS:
        node = node.parent
    return node


def _above(outer: Node, lines: Sequence[str], language: str) -> tuple[int, bool]:
    """The first line of the definition, with the attributes above it; whether it has a doc.

    A doc is a comment on the lines just above (not one that ends a line of code), or
    Rust's ``#[doc]``; Python's is its docstring.
    """
    first = top = outer.start_point[0]
    has_doc = False
    sibling = outer.prev_named_sibling
    while sibling is not None and _last_row(sibling) >= top - 1:
        top = sibling.start_point[0]
        if "comment" in sibling.type:
            row, column = sibling.start_point
            alone = not line_text(lines, row).encode("utf-8", "surrogatepass")[:column].strip()
            if not alone:
                break
            has_doc = has_doc or language not in PYTHON_LIKE
        elif sibling.type in _PREFIXES:
            has_doc = has_doc or (sibling.text or b"").startswith(b"#[doc")
            first = sibling.start_point[0]
        else:
            break
        sibling = sibling.prev_named_sibling
    return first, has_doc


def _statements(body: Node) -> list[Node]:
    """The statements and comments of a body (Go nests them in a ``statement_list``)."""
    out: list[Node] = []
    for child in body.named_children:
        out.extend(_statements(child) if child.type == "statement_list" else [child])
    return out


def _flat(node: Node) -> str:
    return " ".join((node.text or b"").decode("utf-8", "replace").split())


def _from_tree(node: Node, lines: Sequence[str], language: str) -> Function:
    first, has_doc = _above(_outer(node), lines, language)
    indent = indent_of(line_text(lines, first))
    body = node.child_by_field_name("body")
    if body is not None and body.type == "block" and language in PYTHON_LIKE:
        return _python_from_tree(node, body, first, lines, indent)
    if body is None or not (body.text or b"").startswith(b"{"):
        end = _last_row(node)  # all header: a signature, or `x => x + 1`
        return Function(first, end, end + 1, end, None, indent, indent + "    ", has_doc, False)
    open_line, close = body.start_point[0], _last_row(body)
    statements = _statements(body)
    stub = _brace_stub([_flat(s) for s in statements])
    if close == open_line:
        return Function(first, open_line, open_line, open_line, close, indent, indent + "    ",
                        has_doc, stub, inline_braces=True)
    if any(s.start_point[0] == open_line or _last_row(s) == close for s in statements):
        stub = False  # code beside a brace is not a body that can be replaced by lines
    return Function(first, open_line, open_line + 1, close - 1, close, indent,
                    _body_indent(lines, open_line + 1, close - 1, indent), has_doc, stub)


def _python_from_tree(
    node: Node, body: Node, first: int, lines: Sequence[str], indent: str
) -> Function:
    colon = next((c for c in node.children if c.type == ":"), None)  # annotations nest theirs
    header_last = colon.start_point[0] if colon is not None else body.start_point[0]
    last = _last_row(body)
    statements = body.named_children
    if body.start_point[0] == header_last:  # `def f(): ...`
        text = _flat(body)
        after_colon = len(line_text(lines, header_last)[: body.start_point[1]].rstrip())
        return Function(first, header_last, header_last + 1, header_last, None, indent,
                        indent + "    ", False, text in ("...", "pass"),
                        inline_body=after_colon)
    has_doc = False
    body_first = header_last + 1
    head = statements[0] if statements else None
    if head is not None and head.type == "expression_statement" and head.named_child_count == 1 \
            and head.named_children[0].type in ("string", "concatenated_string"):
        has_doc = True
        body_first = _last_row(head) + 1
        statements = statements[1:]
    return Function(first, header_last, body_first, last, None, indent,
                    _body_indent(lines, header_last + 1, last, indent), has_doc,
                    _python_stub([_flat(s) for s in statements]))


def _body_indent(lines: Sequence[str], first: int, last: int, indent: str) -> str:
    return next(
        (indent_of(line_text(lines, k)) for k in range(first, last + 1)
         if line_text(lines, k).strip()),
        indent + "    ",
    )


# --- from patterns --------------------------------------------------------------------------

_PY_DEF = re.compile(r"^\s*(?:async\s+)?def\s+\w+")
_BRACE_DEF = re.compile(
    r"^\s*(?:(?:pub(?:\([^)]*\))?|async|export|default|static|public|private|protected|"
    r"const|unsafe|extern|inline|virtual|override|final)\s+)*"
    r"(?:fn\s+\w+|function\s*\*?\s*\w*|func\s+(?:\([^)]*\)\s*)?\w+|"
    r"[\w<>\[\]:*&,\s]+?\s+[*&]?\w+(?:::\w+)*\s*\(|\w+\s*\()"
)
_PY_INLINE_STUB = re.compile(r":\s*(?:\.\.\.|pass)$")  # `def f(): ...`
_NOT_A_FUNCTION = re.compile(r"^\s*(?:if|for|while|switch|catch|else|do|return|match|loop)\b")
_PY_STUB = re.compile(
    r"^(?:pass|\.\.\.|raise\s+NotImplementedError(?:\(.*\))?|#.*|return)$"
)
_BRACE_STUB = re.compile(
    r"^(?:unimplemented!\(.*\);?|todo!\(.*\);?|panic!?\(\s*\"(?:not implemented|TODO)[^\"]*\"\);?|"
    r"throw\s+new\s+\w*(?:Error|Exception)\(\s*[\"'`](?:not implemented|TODO)[^\"'`]*[\"'`]\s*\);?|"
    r"throw\s+new\s+NotImplemented\w*\(.*\);?|"
    r"//.*|/\*.*\*/|return;?)$",
    re.I,
)


def _python_stub(statements: Sequence[str]) -> bool:
    """Only ``pass``, ``...``, ``raise NotImplementedError`` or TODO comments (or nothing)."""
    return all(_PY_STUB.match(s) for s in statements) and not any(
        s.startswith("#") and "todo" not in s.lower() for s in statements
    )


def _brace_stub(statements: Sequence[str]) -> bool:
    """Empty, or only ``todo!()``, ``throw new Error("not implemented")`` and the like.

    Comments alone make a stub only when one says TODO: a body that is just a note is
    deliberately empty.
    """
    return all(_BRACE_STUB.match(s) for s in statements) and (
        not statements or any(not s.startswith(("//", "/*")) or "todo" in s.lower()
                              for s in statements)
    )


def _from_patterns(lines: Sequence[str], line: int, language: str) -> Function | None:
    finder = _python_function if language in PYTHON_LIKE else _brace_function
    for start in range(line, max(-1, line - SEARCH_LINES), -1):
        found = finder(lines, start)
        if found is not None:
            end = found.close_line if found.close_line is not None else found.body_last
            if found.header_first <= line <= max(end, found.header_last):
                return found
            if _width(found.indent) == 0:
                return None  # a top-level function that ends before the line
    return None


def _python_function(lines: Sequence[str], start: int) -> Function | None:
    if not _PY_DEF.match(line_text(lines, start)):
        return None
    indent = indent_of(line_text(lines, start))
    depth = 0
    header_last = None
    for i in range(start, min(len(lines), start + 40)):
        text = re.sub(r"#.*$", "", line_text(lines, i)).rstrip()
        depth += sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")
        if depth <= 0 and (text.endswith(":") or _PY_INLINE_STUB.search(text)):
            header_last = i
            break
    if header_last is None:
        return None
    head = line_text(lines, header_last)
    after_colon = head.rsplit(":", 1)[-1].strip()
    last = header_last
    i = header_last + 1
    while i < len(lines):
        text = line_text(lines, i)
        if text.strip() and _width(indent_of(text)) <= _width(indent):
            break
        if text.strip():
            last = i
        i += 1
    body = list(range(header_last + 1, last + 1))
    has_doc = False
    body_first = header_last + 1
    statements = [j for j in body if line_text(lines, j).strip()]
    quote = re.match(r"^[rRbBuU]?(\"\"\"|''')", line_text(lines, statements[0]).strip()) \
        if statements else None
    if quote is not None:
        has_doc = True
        mark = quote.group(1)
        j = statements[0]
        opener = line_text(lines, j).strip()[len(quote.group(0)):]
        if mark not in opener:
            j += 1
            while j <= last and mark not in line_text(lines, j):
                j += 1
        body_first = j + 1
        statements = [k for k in statements if k >= body_first]
    stub = not after_colon and _python_stub([line_text(lines, k).strip() for k in statements])
    inline = None
    if after_colon:
        stub = after_colon in ("...", "pass")
        inline = len(head.rsplit(":", 1)[0]) + 1 if stub else None
    return Function(start, header_last, body_first, last, None, indent,
                    _body_indent(lines, header_last + 1, last, indent), has_doc, stub,
                    inline_body=inline)


def _brace_function(lines: Sequence[str], start: int) -> Function | None:
    text = line_text(lines, start)
    if not _BRACE_DEF.match(text) or _NOT_A_FUNCTION.match(text) or text.rstrip().endswith(";"):
        return None
    indent = indent_of(text)
    open_line = None
    for i in range(start, min(len(lines), start + 12)):
        code = _strip_line_comment(line_text(lines, i))
        if "{" in code:
            open_line = i
            break
        if code.rstrip().endswith(";"):
            return None
    if open_line is None or "(" not in "".join(line_text(lines, k) for k in
                                                range(start, open_line + 1)):
        return None
    close = _closing_line(lines, open_line)
    if close is None:
        return None
    head = line_text(lines, open_line)
    has_doc = start > 0 and line_text(lines, start - 1).strip().startswith(
        ("///", "/**", "*/", "* ", "//", "---", "#[doc")
    )
    if close == open_line:
        inner = head[head.index("{") + 1 : head.rindex("}")].strip()
        stub = _brace_stub([inner] if inner else [])
        return Function(start, open_line, open_line, open_line, close, indent, indent + "    ",
                        has_doc, stub, inline_braces=True)
    body = [line_text(lines, k).strip() for k in range(open_line + 1, close)]
    stub = _brace_stub([b for b in body if b]) and not head[head.index("{") + 1:].strip()
    return Function(start, open_line, open_line + 1, close - 1, close, indent,
                    _body_indent(lines, open_line + 1, close - 1, indent), has_doc, stub)


def _closing_line(lines: Sequence[str], open_line: int) -> int | None:
    """The line of the brace that closes the first one on ``open_line``."""
    depth = 0
    for i in range(open_line, min(len(lines), open_line + 20_000)):
        code = _strip_line_comment(line_text(lines, i))
        code = re.sub(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", "\"\"", code)
        for ch in code:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return i
    return None


def _strip_line_comment(text: str) -> str:
    return re.sub(r"//.*$", "", text)
