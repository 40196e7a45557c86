from __future__ import annotations

import random

import pytest

from hf_lsp.language.document import (
    UTF8,
    UTF16,
    UTF32,
    Document,
    DocumentStore,
    column_to_index,
    index_to_column,
    split_lines,
)

EMOJI = "\U0001f600"  # 😀: 2 UTF-16 units, 4 UTF-8 bytes
CJK = "日本"  # 1 UTF-16 unit, 3 UTF-8 bytes each
E_ACUTE = "e\u0301"  # e + combining acute: two code points


# --- split_lines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        pytest.param("", [""], id="empty"),
        pytest.param("a", ["a"], id="one-line"),
        pytest.param("a\n", ["a\n", ""], id="trailing-newline"),
        pytest.param("a\nb", ["a\n", "b"], id="lf"),
        pytest.param("a\r\nb", ["a\r\n", "b"], id="crlf"),
        pytest.param("a\rb", ["a\r", "b"], id="cr"),
        pytest.param("a\r\r\nb", ["a\r", "\r\n", "b"], id="cr-then-crlf"),
        pytest.param("a\n\rb", ["a\n", "\r", "b"], id="lf-then-cr"),
        pytest.param("\n\n", ["\n", "\n", ""], id="only-newlines"),
        pytest.param(f"{EMOJI}\n{CJK}", [f"{EMOJI}\n", CJK], id="unicode"),
    ],
)
def test_split_lines(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines
    assert "".join(split_lines(text)) == text


# --- column <-> index ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "encoding", "column", "index"),
    [
        # ASCII: one unit per character in every encoding
        pytest.param("abc", UTF16, 2, 2, id="ascii-utf16"),
        pytest.param("abc", UTF8, 2, 2, id="ascii-utf8"),
        pytest.param("abc", UTF32, 2, 2, id="ascii-utf32"),
        # emoji: a surrogate pair in UTF-16, 4 bytes in UTF-8, 1 code point in UTF-32
        pytest.param(f"a{EMOJI}b", UTF16, 1, 1, id="emoji-utf16-before"),
        pytest.param(f"a{EMOJI}b", UTF16, 3, 2, id="emoji-utf16-after"),
        pytest.param(f"a{EMOJI}b", UTF16, 4, 3, id="emoji-utf16-end"),
        pytest.param(f"a{EMOJI}b", UTF16, 2, 1, id="emoji-utf16-inside-pair-rounds-down"),
        pytest.param(f"a{EMOJI}b", UTF8, 5, 2, id="emoji-utf8-after"),
        pytest.param(f"a{EMOJI}b", UTF8, 3, 1, id="emoji-utf8-inside-rounds-down"),
        pytest.param(f"a{EMOJI}b", UTF8, 6, 3, id="emoji-utf8-end"),
        pytest.param(f"a{EMOJI}b", UTF32, 2, 2, id="emoji-utf32-after"),
        pytest.param(f"{EMOJI}{EMOJI}x", UTF16, 4, 2, id="two-emoji-utf16"),
        pytest.param(f"{EMOJI}{EMOJI}x", UTF8, 8, 2, id="two-emoji-utf8"),
        # CJK: BMP, so 1 UTF-16 unit but 3 UTF-8 bytes
        pytest.param(f"x{CJK}y", UTF16, 3, 3, id="cjk-utf16"),
        pytest.param(f"x{CJK}y", UTF8, 4, 2, id="cjk-utf8-after-first"),
        pytest.param(f"x{CJK}y", UTF8, 7, 3, id="cjk-utf8-after-both"),
        pytest.param(f"x{CJK}y", UTF8, 5, 2, id="cjk-utf8-inside-rounds-down"),
        pytest.param(f"x{CJK}y", UTF32, 3, 3, id="cjk-utf32"),
        # combining marks count as their own code point everywhere
        pytest.param(f"{E_ACUTE}x", UTF16, 2, 2, id="combining-utf16"),
        pytest.param(f"{E_ACUTE}x", UTF8, 3, 2, id="combining-utf8"),
        pytest.param(f"{E_ACUTE}x", UTF32, 2, 2, id="combining-utf32"),
        # clamping
        pytest.param("abc", UTF16, 0, 0, id="zero"),
        pytest.param("abc", UTF16, -5, 0, id="negative"),
        pytest.param("abc", UTF16, 99, 3, id="past-end-ascii"),
        pytest.param("abc\n", UTF16, 99, 3, id="past-end-excludes-lf"),
        pytest.param("abc\r\n", UTF8, 99, 3, id="past-end-excludes-crlf"),
        pytest.param(f"a{EMOJI}\r\n", UTF16, 99, 2, id="past-end-unicode-utf16"),
        pytest.param(f"a{EMOJI}\r", UTF8, 99, 2, id="past-end-unicode-utf8"),
        pytest.param(f"a{EMOJI}\n", UTF32, 99, 2, id="past-end-unicode-utf32"),
    ],
)
def test_column_to_index(line: str, encoding: str, column: int, index: int) -> None:
    assert column_to_index(line, column, encoding) == index


@pytest.mark.parametrize(
    ("line", "encoding", "index", "column"),
    [
        pytest.param("abc", UTF16, 2, 2, id="ascii"),
        pytest.param(f"a{EMOJI}b", UTF16, 2, 3, id="emoji-utf16"),
        pytest.param(f"a{EMOJI}b", UTF8, 2, 5, id="emoji-utf8"),
        pytest.param(f"a{EMOJI}b", UTF32, 2, 2, id="emoji-utf32"),
        pytest.param(f"x{CJK}y", UTF16, 3, 3, id="cjk-utf16"),
        pytest.param(f"x{CJK}y", UTF8, 3, 7, id="cjk-utf8"),
        pytest.param(f"{E_ACUTE}x", UTF8, 2, 3, id="combining-utf8"),
        pytest.param(f"{E_ACUTE}x", UTF16, 2, 2, id="combining-utf16"),
        pytest.param("abc\r\n", UTF16, 10, 3, id="past-end-excludes-crlf"),
        pytest.param(f"{EMOJI}\n", UTF16, 10, 2, id="past-end-excludes-lf-utf16"),
        pytest.param(f"{EMOJI}\n", UTF8, 10, 4, id="past-end-excludes-lf-utf8"),
        pytest.param("abc", UTF16, -1, 0, id="negative"),
    ],
)
def test_index_to_column(line: str, encoding: str, index: int, column: int) -> None:
    assert index_to_column(line, index, encoding) == column


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
@pytest.mark.parametrize(
    "line",
    [
        pytest.param("plain ascii\n", id="ascii"),
        pytest.param(f"a{EMOJI}b{EMOJI}{EMOJI}c\r\n", id="emoji"),
        pytest.param(f"{CJK} = '{E_ACUTE}' # {EMOJI}", id="mixed"),
    ],
)
def test_index_column_round_trip(line: str, encoding: str) -> None:
    content = line.rstrip("\r\n")
    for index in range(len(content) + 1):
        column = index_to_column(line, index, encoding)
        assert column_to_index(line, column, encoding) == index


# --- clamp / position_of ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        pytest.param((0, 0), (0, 0), id="start"),
        pytest.param((0, 3), (0, 2), id="after-emoji"),
        pytest.param((0, 99), (0, 3), id="past-end-of-line"),
        pytest.param((1, 99), (1, 0), id="past-end-of-empty-line"),
        pytest.param((2, 2), (2, 2), id="last-line"),
        pytest.param((3, 0), (2, 4), id="past-last-line"),
        pytest.param((99, 99), (2, 4), id="far-past-document"),
        pytest.param((-1, 5), (0, 0), id="negative-line"),
    ],
)
def test_clamp(position: tuple[int, int], expected: tuple[int, int]) -> None:
    doc = Document("file:///x", f"a{EMOJI}b\r\n\nlast")
    assert doc.clamp(*position) == expected


def test_position_of_round_trips_through_clamp() -> None:
    doc = Document("file:///x", f"{CJK}{EMOJI}x\nplain")
    for encoding, column in ((UTF16, 5), (UTF8, 11), (UTF32, 4)):
        assert doc.position_of(0, 4, encoding) == (0, column)
        assert doc.clamp(0, column, encoding) == (0, 4)


def test_line_text_and_source() -> None:
    doc = Document("file:///x", "a\r\nb\rc\nd", "python", 3)
    assert [doc.line_text(i) for i in range(4)] == ["a", "b", "c", "d"]
    assert doc.source == "a\r\nb\rc\nd"
    assert doc.version == 3
    assert doc.text == ""  # the lines are the source of truth


# --- apply_change -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "new", "encoding", "expected"),
    [
        pytest.param("hello", (0, 5), (0, 5), " world", UTF16, "hello world",
                     id="insert-at-end-of-line"),
        pytest.param("a\nb", (1, 1), (1, 1), "\nc", UTF16, "a\nb\nc", id="insert-new-last-line"),
        pytest.param("a\nb\n", (2, 0), (2, 0), "c", UTF16, "a\nb\nc",
                     id="insert-on-final-empty-line"),
        pytest.param("a\nb", (9, 0), (9, 0), "!", UTF16, "a\nb!", id="insert-past-document"),
        pytest.param("", (0, 0), (0, 0), "x\ny", UTF16, "x\ny", id="insert-into-empty"),
        pytest.param("abc", (0, 1), (0, 2), "XY", UTF16, "aXYc", id="replace-in-line"),
        pytest.param("abc", (0, 2), (0, 1), "X", UTF16, "aXc", id="reversed-range"),
        pytest.param("one\ntwo\nthree\nfour", (1, 1), (2, 3), "X", UTF16, "one\ntXee\nfour",
                     id="multi-line-to-one"),
        pytest.param("one\ntwo\nthree", (0, 3), (2, 0), "\nA\nB\nC\n", UTF16,
                     "one\nA\nB\nC\nthree", id="multi-line-to-more"),
        pytest.param("one\ntwo\nthree", (0, 0), (2, 5), "", UTF16, "", id="delete-all"),
        pytest.param("one\ntwo\n", (0, 3), (1, 0), "", UTF16, "onetwo\n", id="join-lines"),
        pytest.param("a\r\nb\r\nc", (0, 1), (1, 1), "X", UTF16, "aX\r\nc", id="crlf-replace"),
        pytest.param("a\r\nb", (0, 1), (0, 99), "Z", UTF16, "aZ\r\nb",
                     id="crlf-end-past-line-keeps-ending"),
        pytest.param("a\r\nb", (0, 1), (0, 1), "\r\n", UTF16, "a\r\n\r\nb", id="crlf-insert"),
        pytest.param("a\rX\nb", (1, 0), (1, 1), "", UTF16, "a\r\nb",
                     id="cr-and-lf-joined-by-delete"),
        pytest.param("a\rb", (0, 1), (0, 1), "", UTF16, "a\rb", id="noop"),
        pytest.param("ab\nc", (0, 2), (0, 2), "\r", UTF16, "ab\r\nc",
                     id="inserted-cr-joins-next-lf"),
        pytest.param("a\r\nb", (0, 1), (1, 0), "\r", UTF16, "a\rb", id="crlf-replaced-by-cr"),
        pytest.param("x\ny", (0, 1), (0, 1), "\r", UTF16, "x\r\ny", id="cr-before-lf"),
        pytest.param("x\r\ny", (1, 0), (1, 0), "\n", UTF16, "x\r\n\ny", id="lf-after-crlf"),
        pytest.param(f"a{EMOJI}b", (0, 1), (0, 3), "X", UTF16, "aXb", id="emoji-utf16"),
        pytest.param(f"a{EMOJI}b", (0, 1), (0, 5), "X", UTF8, "aXb", id="emoji-utf8"),
        pytest.param(f"a{EMOJI}b", (0, 1), (0, 2), "X", UTF32, "aXb", id="emoji-utf32"),
        pytest.param(f"{CJK}\n{CJK}", (0, 3), (1, 3), "-", UTF8, "日-本", id="cjk-utf8"),
    ],
)
def test_apply_change(
    text: str,
    start: tuple[int, int],
    end: tuple[int, int],
    new: str,
    encoding: str,
    expected: str,
) -> None:
    doc = Document("file:///x", text)
    doc.apply_change(start, end, new, version=7, encoding=encoding)
    assert doc.source == expected
    assert doc.lines == split_lines(expected)
    assert doc.version == 7


def test_apply_change_without_version_keeps_it() -> None:
    doc = Document("file:///x", "a", version=4)
    doc.apply_change((0, 1), (0, 1), "b")
    assert (doc.source, doc.version) == ("ab", 4)


def test_replace_all() -> None:
    doc = Document("file:///x", "old\ntext", version=1)
    doc.replace_all("new\r\ntext\n", version=2)
    assert doc.lines == ["new\r\n", "text\n", ""]
    assert doc.version == 2


# --- randomized: a Document follows the same edits as a plain string ------------------------

_PIECES = ["a", "b", " ", "\n", "\r", "\r\n", EMOJI, CJK[0], "\u0301", "é"]


def _text(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, most)))


def _position(rng: random.Random, lines: list[str], encoding: str) -> tuple[int, int, int]:
    """A random ``(line, index, LSP column)`` inside ``lines``."""
    line = rng.randrange(len(lines))
    index = rng.randint(0, len(lines[line].rstrip("\r\n")))
    return line, index, index_to_column(lines[line], index, encoding)


def _offset(lines: list[str], line: int, index: int) -> int:
    return sum(len(x) for x in lines[:line]) + index


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed{s}") for s in range(40)])
def test_random_edits_match_a_plain_string(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        expected = _text(rng, 20)
        doc = Document("file:///x", expected)
        for _ in range(12):
            encoding = rng.choice([UTF16, UTF8, UTF32])
            lines = split_lines(expected)
            assert doc.lines == lines

            a, b = _position(rng, lines, encoding), _position(rng, lines, encoding)
            if a[:2] > b[:2]:
                a, b = b, a
            new = _text(rng, 6)
            lo, hi = _offset(lines, a[0], a[1]), _offset(lines, b[0], b[1])
            expected = expected[:lo] + new + expected[hi:]
            # the LSP positions may come in either order
            start, end = ((a[0], a[2]), (b[0], b[2]))
            if rng.random() < 0.2:
                start, end = end, start
            doc.apply_change(start, end, new, encoding=encoding)
            assert doc.source == expected, (seed, lines, a, b, new)
        assert doc.lines == split_lines(expected)


# --- DocumentStore ------------------------------------------------------------------------------


def test_document_store() -> None:
    store = DocumentStore()
    doc = store.open("file:///a", "x", "python", 1)
    store.open("file:///b", "y")
    assert store.get("file:///a") is doc
    assert doc.language_id == "python"
    assert len(store) == 2
    assert sorted(d.uri for d in store) == ["file:///a", "file:///b"]
    store.close("file:///a")
    store.close("file:///missing")
    assert store.get("file:///a") is None
    assert len(store) == 1
