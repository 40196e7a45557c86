"""The one language table: every feature reads the same comment marker for a language."""

from __future__ import annotations

import pytest

from hf_lsp.actions.catalog import comment_block
from hf_lsp.language.languages import (
    LINE_COMMENT,
    OPENS_BLOCK,
    comment_marker,
    language_from_path,
    path_header,
)


@pytest.mark.parametrize(
    ("language", "marker"),
    [
        ("zsh", "#"),  # the code actions used to answer "//" for these three
        ("cmake", "#"),
        ("lisp", ";;"),
        ("python", "#"),
        ("lua", "--"),
        ("rust", "//"),
        ("erlang", "%"),
        ("unknown-language", "//"),
    ],
)
def test_comment_marker(language: str, marker: str) -> None:
    assert comment_marker(language) == marker


@pytest.mark.parametrize("language", ["zsh", "cmake", "lisp", "python", "go"])
def test_the_prompt_header_and_the_code_actions_agree(language: str) -> None:
    header = path_header("src/x", language)
    assert header.startswith(comment_marker(language) + " Path: src/x")
    lines = [f"{comment_marker(language)} write a parser", "x = 1"]
    assert comment_block(lines, 0, language) == (0, 0)
    assert comment_block(lines, 1, language) is None


def test_an_ocaml_header_closes_its_comment() -> None:
    assert path_header("a.ml", "ocaml") == "(* Path: a.ml *)\n"


def test_every_extension_names_a_language_with_a_comment_marker() -> None:
    missing = {ext: lang for ext, lang in
               ((e, language_from_path(f"f.{e}")) for e in ("py", "zsh", "cmake", "lisp", "rs"))
               if lang and lang not in LINE_COMMENT}
    assert missing == {}
    assert language_from_path("dir/Makefile") == "makefile"
    assert language_from_path("CMakeLists.cmake") == "cmake"


@pytest.mark.parametrize(("line", "opens"), [("def f():", True), ("if x then", True),
                                             ("x = 1", False), ("items.map(x =>", True)])
def test_block_openers(line: str, opens: bool) -> None:
    assert bool(OPENS_BLOCK.search(line)) is opens

