"""Typing-through: the rest of the suggestion already shown, for the cursor now."""

from __future__ import annotations

import pytest

from hf_lsp.completion.typing_through import remainders, snapshot
from hf_lsp.language.document import Document

TEXT = "def add(a, b):\n    \n\nprint(1)\n"
SUGGESTION = "return a + b"


def shown_at(doc: Document, texts: tuple[str, ...] = (SUGGESTION,), replaced: int = 0):  # type: ignore[no-untyped-def]
    return snapshot(doc, 1, 4, texts, tuple(replaced for _ in texts))


def typed(doc: Document, text: str, line: int = 1, col: int = 4) -> None:
    doc.apply_change((line, col), (line, col), text)


@pytest.mark.parametrize(
    ("keys", "cursor", "expected"),
    [
        pytest.param("r", (1, 5), ["eturn a + b"], id="one-key"),
        pytest.param("return a", (1, 12), [" + b"], id="several-keys"),
        pytest.param("x", (1, 5), None, id="diverged"),
        pytest.param("return a + b", (1, 16), [], id="typed-out"),
        pytest.param("", (1, 4), None, id="nothing-typed-is-a-cache-question"),
    ],
)
def test_typing(keys: str, cursor: tuple[int, int], expected: list[str] | None) -> None:
    doc = Document("file:///a.py", TEXT, "python")
    shown = shown_at(doc)
    typed(doc, keys)
    found = remainders(shown, doc, *cursor)
    assert (None if found is None else [t for t, _ in found]) == expected


def test_backspace_within_the_anchor_line() -> None:
    doc = Document("file:///a.py", "def add(a, b):\n    ret\n", "python")
    shown = snapshot(doc, 1, 7, ("urn a + b",), (0,))
    doc.apply_change((1, 6), (1, 7), "")  # backspace: "re"
    assert remainders(shown, doc, 1, 6) == [("turn a + b", 0)]


def test_an_edit_elsewhere_cancels() -> None:
    doc = Document("file:///a.py", TEXT, "python")
    shown = shown_at(doc)
    typed(doc, "r")
    doc.apply_change((2, 0), (2, 0), "x = 1")  # the next line changed
    assert remainders(shown, doc, 1, 5) is None


def test_typing_through_a_newline() -> None:
    doc = Document("file:///a.py", "if x:\n    \n", "python")
    shown = snapshot(doc, 1, 4, ("a()\n    b()",), (0,))
    doc.apply_change((1, 4), (1, 4), "a()\n    ")
    assert remainders(shown, doc, 2, 4) == [("b()", 0)]


def test_only_matching_alternatives_remain_and_ranges_carry_over() -> None:
    doc = Document("file:///a.py", "foo(bar)\n", "python")
    shown = snapshot(doc, 0, 7, ("baz):", "qux)"), (1, 1))
    doc.apply_change((0, 7), (0, 7), "b")
    assert remainders(shown, doc, 0, 8) == [("az):", 1)]


def test_another_document_does_not_match() -> None:
    doc = Document("file:///a.py", TEXT, "python")
    other = Document("file:///b.py", TEXT, "python")
    assert remainders(shown_at(doc), other, 1, 5) is None
