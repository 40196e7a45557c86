from __future__ import annotations

import pytest

from hf_lsp.config.settings import Context
from hf_lsp.language.context import Spot, Window, classify, window
from hf_lsp.language.document import Document
from hf_lsp.language.languages import language_from_path, path_header

# --- classify -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "previous", "spot"),
    [
        pytest.param("fo", "o = 1", "", Spot.MID_WORD, id="mid-word"),
        pytest.param("x = fo", "o", "", Spot.MID_WORD, id="mid-word-end-of-line"),
        pytest.param("a_", "b", "", Spot.MID_WORD, id="mid-word-underscore"),
        pytest.param("x = f(", "a)", "", Spot.MID_LINE, id="mid-line-before-word"),
        pytest.param("a ", "b", "", Spot.MID_LINE, id="mid-line-after-space"),
        pytest.param("f(x", ", y)", "", Spot.MID_LINE, id="mid-line-more-arguments"),
        pytest.param("x = ", "# note", "", Spot.MID_LINE, id="mid-line-comment-after"),
        pytest.param("x = 1", "", "", Spot.END_OF_LINE, id="end-of-line"),
        pytest.param("x = 1", "   ", "", Spot.END_OF_LINE, id="end-of-line-trailing-space"),
        pytest.param("foo(bar", ")", "", Spot.END_OF_LINE, id="only-closer-after"),
        pytest.param("foo(bar", "):", "", Spot.END_OF_LINE, id="only-closers-after"),
        pytest.param("return x", "}", "", Spot.END_OF_LINE, id="brace-after"),
        pytest.param('s = "abc', '";', "", Spot.END_OF_LINE, id="quote-semicolon-after"),
        pytest.param("", "", "", Spot.EMPTY_LINE, id="empty-line"),
        pytest.param("    ", "", "x = 1", Spot.EMPTY_LINE, id="blank-line-after-statement"),
        pytest.param("", "", "", Spot.EMPTY_LINE, id="empty-document"),
        pytest.param("def f():", "", "", Spot.BLOCK_OPENER, id="after-colon"),
        pytest.param("def f():  ", "", "", Spot.BLOCK_OPENER, id="after-colon-space"),
        pytest.param("if (x) {", "", "", Spot.BLOCK_OPENER, id="after-brace"),
        pytest.param("xs.map(x =>", "", "", Spot.BLOCK_OPENER, id="after-arrow"),
        pytest.param("fn f() ->", "", "", Spot.BLOCK_OPENER, id="after-thin-arrow"),
        pytest.param("foo(", ")", "", Spot.BLOCK_OPENER, id="after-paren-before-closer"),
        pytest.param("xs.each do", "", "", Spot.BLOCK_OPENER, id="after-do"),
        pytest.param("x = undo", "", "", Spot.END_OF_LINE, id="do-inside-a-word"),
        pytest.param("", "", "def f():", Spot.BLOCK_OPENER, id="empty-line-under-colon"),
        pytest.param("    ", "", "  if (x) {", Spot.BLOCK_OPENER, id="blank-line-under-brace"),
        pytest.param("", "", "then", Spot.BLOCK_OPENER, id="empty-line-under-then"),
        pytest.param("", "", "x = 1", Spot.EMPTY_LINE, id="empty-line-under-statement"),
        pytest.param("", "}", "x = 1", Spot.EMPTY_LINE, id="empty-line-before-closer"),
    ],
)
def test_classify(before: str, after: str, previous: str, spot: Spot) -> None:
    assert classify(before, after, previous) is spot


@pytest.mark.parametrize(
    ("spot", "single_line"),
    [
        pytest.param(Spot.MID_WORD, True, id="mid-word"),
        pytest.param(Spot.MID_LINE, True, id="mid-line"),
        pytest.param(Spot.END_OF_LINE, False, id="end-of-line"),
        pytest.param(Spot.EMPTY_LINE, False, id="empty-line"),
        pytest.param(Spot.BLOCK_OPENER, False, id="block-opener"),
    ],
)
def test_single_line(spot: Spot, single_line: bool) -> None:
    assert Window("p", "s", spot, "p", "").single_line is single_line


# --- window -------------------------------------------------------------------------------------

TEN = "".join(f"line{i}\n" for i in range(10))  # every line is 6 characters with its ending


def ctx(
    prefix_lines: int = 100, prefix_chars: int = 10_000, suffix_lines: int = 100,
    suffix_chars: int = 10_000,
) -> Context:
    return Context(
        max_prefix_lines=prefix_lines,
        max_prefix_chars=prefix_chars,
        max_suffix_lines=suffix_lines,
        max_suffix_chars=suffix_chars,
    )


@pytest.mark.parametrize(
    ("settings", "prefix", "suffix"),
    [
        pytest.param(ctx(), TEN[:32], TEN[32:], id="everything"),
        pytest.param(ctx(prefix_lines=2, suffix_lines=2), "line3\nline4\nli", "ne5\nline6\nline7\n",
                     id="line-budgets"),
        pytest.param(ctx(prefix_lines=0, suffix_lines=0), "li", "ne5\n", id="zero-lines"),
        pytest.param(ctx(prefix_chars=14, suffix_chars=10), "line3\nline4\nli", "ne5\nline6\n",
                     id="char-budgets-exact"),
        pytest.param(ctx(prefix_chars=13, suffix_chars=9), "line4\nli", "ne5\n",
                     id="char-budgets-one-short-drops-a-whole-line"),
        pytest.param(ctx(prefix_chars=2, suffix_chars=4), "li", "ne5\n", id="cursor-line-only"),
        pytest.param(ctx(prefix_chars=1, suffix_chars=2), "i", "ne", id="cursor-line-cut"),
        pytest.param(ctx(prefix_chars=0, suffix_chars=0), "", "", id="zero-chars"),
        pytest.param(ctx(prefix_lines=1, prefix_chars=100, suffix_lines=9, suffix_chars=7),
                     "line4\nli", "ne5\n", id="lines-and-chars-together"),
    ],
)
def test_window(settings: Context, prefix: str, suffix: str) -> None:
    doc = Document("file:///x", TEN)
    w = window(doc, 5, 2, settings)
    assert (w.prefix, w.suffix) == (prefix, suffix)
    assert len(w.prefix) <= settings.max_prefix_chars
    assert len(w.suffix) <= settings.max_suffix_chars
    assert (w.line_before, w.line_after) == ("li", "ne5")
    assert w.spot is Spot.MID_WORD


@pytest.mark.parametrize("chars", [0, 5, 17, 40, 100, 333])
@pytest.mark.parametrize("lines", [0, 1, 3, 50])
def test_window_cuts_on_line_boundaries(chars: int, lines: int) -> None:
    text = "".join(f"{'x' * (i % 7)}{i}\n" for i in range(200))
    doc = Document("file:///x", text)
    cursor = sum(len(x) for x in doc.lines[:100]) + 2
    before, after = doc.line_text(100)[:2], doc.line_text(100)[2:] + "\n"
    w = window(doc, 100, 2, ctx(lines, chars, lines, chars))
    # the windows are the text right around the cursor, within both budgets
    assert text[cursor - len(w.prefix) : cursor] == w.prefix
    assert text[cursor : cursor + len(w.suffix)] == w.suffix
    assert len(w.prefix) <= chars and len(w.suffix) <= chars
    # beyond the cursor line, whole lines only
    if len(w.prefix) > len(before):
        head = w.prefix[: len(w.prefix) - len(before)]
        assert text[cursor - len(w.prefix) - 1] == "\n"
        assert head.count("\n") <= lines
    if len(w.suffix) > len(after):
        assert w.suffix.endswith("\n")
        assert w.suffix[len(after) :].count("\n") <= lines
    # when the line budget is not what stopped it, one more line would not have fitted
    if w.prefix.count("\n") < lines and len(w.prefix) >= len(before):
        previous = doc.lines[100 - 1 - w.prefix.count("\n")]
        assert len(w.prefix) + len(previous) > chars
    if w.suffix[len(after) :].count("\n") < lines and len(w.suffix) >= len(after):
        following = doc.lines[100 + w.suffix.count("\n")]
        assert len(w.suffix) + len(following) > chars


def test_window_crlf_keeps_the_cursor_line_ending_in_the_suffix() -> None:
    doc = Document("file:///x", "a = 1\r\nb = \r\nc = 3")
    w = window(doc, 1, 4, ctx())
    assert w.prefix == "a = 1\r\nb = "
    assert w.suffix == "\r\nc = 3"
    assert w.line_after == ""
    assert w.spot is Spot.END_OF_LINE


@pytest.mark.parametrize(
    ("text", "line", "index", "spot"),
    [
        pytest.param("def f():\n\n    \n", 2, 4, Spot.BLOCK_OPENER,
                     id="previous-non-blank-line-is-the-opener"),
        pytest.param("x = 1\n\n", 1, 0, Spot.EMPTY_LINE, id="empty-line"),
        pytest.param("print(x)\n", 0, 7, Spot.MID_LINE, id="before-closer"),
        pytest.param("print(x)\n", 0, 3, Spot.MID_WORD, id="mid-word"),
        pytest.param("", 0, 0, Spot.EMPTY_LINE, id="empty-document"),
    ],
)
def test_window_spot(text: str, line: int, index: int, spot: Spot) -> None:
    assert window(Document("file:///x", text), line, index, ctx()).spot is spot


# --- language_from_path / path_header -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "language"),
    [
        pytest.param("src/app.py", "python", id="python"),
        pytest.param("/abs/Main.JAVA", "java", id="upper-case-extension"),
        pytest.param("a.tsx", "typescriptreact", id="tsx"),
        pytest.param("lib.rs", "rust", id="rust"),
        pytest.param("x/Makefile", "makefile", id="makefile"),
        pytest.param("GNUmakefile", "makefile", id="gnumakefile"),
        pytest.param("docker/Dockerfile", "dockerfile", id="dockerfile"),
        pytest.param("archive.tar.gz", "", id="unknown-extension"),
        pytest.param("README", "", id="no-extension"),
        pytest.param("dir.py/file", "", id="dot-in-directory-only"),
        pytest.param("", "", id="empty"),
    ],
)
def test_language_from_path(path: str, language: str) -> None:
    assert language_from_path(path) == language


@pytest.mark.parametrize(
    ("path", "language", "header"),
    [
        pytest.param("src/app.py", "python", "# Path: src/app.py\n", id="hash"),
        pytest.param("main.go", "go", "// Path: main.go\n", id="slashes"),
        pytest.param("q.sql", "sql", "-- Path: q.sql\n", id="dashes"),
        pytest.param("a.clj", "clojure", ";; Path: a.clj\n", id="semicolons"),
        pytest.param("a.tex", "latex", "% Path: a.tex\n", id="percent"),
        pytest.param("a.ml", "ocaml", "(* Path: a.ml *)\n", id="ocaml-closed"),
        pytest.param("vimrc.vim", "vim", '" Path: vimrc.vim\n', id="vim"),
        pytest.param("notes.txt", "plaintext", "", id="unknown-language"),
        pytest.param("x.py", "", "", id="no-language"),
        pytest.param("", "python", "", id="no-path"),
    ],
)
def test_path_header(path: str, language: str, header: str) -> None:
    assert path_header(path, language) == header


# --- the spot, syntax-aware where there is a grammar --------------------------------------------

E, M, W, L, B = Spot.END_OF_LINE, Spot.MID_LINE, Spot.MID_WORD, Spot.EMPTY_LINE, Spot.BLOCK_OPENER


def spot_at(language: str, marked: str) -> Spot:
    """The spot of the cursor marked ``|`` in ``marked``."""
    head, tail = marked.split("|")
    lines = head.split("\n")
    doc = Document("file:///t", head + tail, language)
    return window(doc, len(lines) - 1, len(lines[-1]), ctx()).spot


@pytest.mark.parametrize(
    ("language", "marked", "spot"),
    [
        # Python: brackets closed on the cursor's line hold this line's text
        pytest.param("python", "def f(|):\n", M, id="py-parameters-auto-closed"),
        pytest.param("python", "foo(|)\n", M, id="py-arguments-auto-closed"),
        pytest.param("python", "x[|]\n", M, id="py-subscript-auto-closed"),
        pytest.param("python", "foo(bar|)\n", M, id="py-argument-before-closer"),
        pytest.param("python", 'd = {"a":|}\n', M, id="py-dict-value-auto-closed"),
        pytest.param("python", "a[1:|]\n", M, id="py-slice"),
        pytest.param("python", 'print("hello |")\n', M, id="py-in-string"),
        pytest.param("python", 's = """|"""\n', E, id="py-docstring-quotes-not-one-line"),
        pytest.param("python", "foo(\n    a,\n    b|)\n", E, id="py-brackets-opened-above"),
        pytest.param("python", "foo(|\n", B, id="py-open-paren-at-end"),
        pytest.param("python", "x = {|\n", B, id="py-open-dict-at-end"),
        # Python: only block headers open a block
        pytest.param("python", 'd = {"a":|\nprint(1)\n', E, id="py-dict-colon"),
        pytest.param("python", "f = lambda x:|\nprint(1)\n", E, id="py-lambda-colon"),
        pytest.param("python", "x:|\nprint(1)\n", E, id="py-annotation-colon"),
        pytest.param("python", "def f():|\n", B, id="py-def"),
        pytest.param("python", "class A:|\n", B, id="py-class"),
        pytest.param("python", "if x:|\n", B, id="py-if"),
        pytest.param("python", "if a:\n    pass\nelif b:|\n", B, id="py-elif"),
        pytest.param("python", "if a:\n    pass\nelse:|\n", B, id="py-else"),
        pytest.param("python", "for i in x:|\n", B, id="py-for"),
        pytest.param("python", "while x:|\n", B, id="py-while"),
        pytest.param("python", "with open(p) as f:|\n", B, id="py-with"),
        pytest.param("python", "try:|\n", B, id="py-try"),
        pytest.param("python", "try:\n    pass\nexcept E:|\n", B, id="py-except"),
        pytest.param("python", "try:\n    pass\nfinally:|\n", B, id="py-finally"),
        pytest.param("python", "match x:|\n", B, id="py-match"),
        pytest.param("python", "match x:\n    case 1:|\n", B, id="py-case"),
        pytest.param("python", "def f():\n    |\n", B, id="py-blank-line-under-def"),
        pytest.param("python", "# steps:\n|\n", L, id="py-blank-line-under-comment"),
        pytest.param("python", "def f():\n    x = 1\n    |\n", L, id="py-blank-line-in-block"),
        # Python: words
        pytest.param("python", "retu|rn x\n", W, id="py-mid-keyword"),
        pytest.param("python", "x = fo|o + 1\n", W, id="py-mid-identifier"),
        pytest.param("python", "x = 12|34\n", W, id="py-mid-number"),
        pytest.param("python", "x = 1|if y else 2\n", M, id="py-between-two-tokens"),
        pytest.param("python", 's = "ab|cd"\n', W, id="py-mid-word-in-string"),
        pytest.param("python", "x = foo|\n", E, id="py-end-of-word"),
        # JavaScript / TypeScript
        pytest.param("javascript", "let a = $|b;\n", W, id="js-dollar-identifier"),
        pytest.param("javascript", "const $fo|o = 1;\n", W, id="js-mid-dollar-identifier"),
        pytest.param("javascript", "function f() {|}\n", B, id="js-function-body-auto-closed"),
        pytest.param("javascript", "for (;;) {|}\n", B, id="js-for-body-auto-closed"),
        pytest.param("javascript", "f(() => {|});\n", B, id="js-callback-body"),
        pytest.param("javascript", "const x = {|\n", B, id="js-object-at-end"),
        pytest.param("javascript", "const x = {|};\n", M, id="js-object-auto-closed"),
        pytest.param("javascript", "f({|}, 2);\n", M, id="js-object-before-code"),
        pytest.param("javascript", 'const s = "a {|";\n', M, id="js-brace-in-string"),
        pytest.param("javascript", "switch (x) {\n  case 1:|\n}\n", B, id="js-case"),
        pytest.param("javascript", "const o = { a:|\nfoo();\n", E, id="js-object-key-colon"),
        pytest.param("javascript", "const o = {\n  a:\n  |\n};\n", L, id="js-blank-under-key"),
        pytest.param("typescript", "const v = c ? a :|\nfoo();\n", E, id="ts-ternary-colon"),
        pytest.param("typescript", "function f(a:|\nfoo();\n", E, id="ts-parameter-type"),
        pytest.param("typescript", "class A {|}\n", B, id="ts-class-body"),
        pytest.param("typescript", "let x: {|} = y;\n", M, id="ts-object-type-auto-closed"),
        # Rust, Go, C, Java
        pytest.param("rust", "fn f() {|}\n", B, id="rust-function-body"),
        pytest.param("rust", "fn main() {\n    let x: |\n    foo();\n}\n", E, id="rust-let-type"),
        pytest.param("rust", "let v = S {|};\n", M, id="rust-struct-literal-auto-closed"),
        pytest.param("rust", "match x {|}\n", B, id="rust-match-block"),
        pytest.param("go", "func f() {|}\n", B, id="go-function-body"),
        pytest.param("go", "func f() {\n\tswitch x {\n\tcase 1:|\n\t}\n}\n", B, id="go-case"),
        pytest.param("go", "x := T{|}\n", M, id="go-composite-literal-auto-closed"),
        pytest.param("c", "int f() {\n  switch (x) {\n  case 1:|\n  }\n}\n", B, id="c-case"),
        pytest.param("c", "int f() {\n  x = c ? a :|\n  foo();\n}\n", E, id="c-ternary-colon"),
        pytest.param("c", "int f(|) {}\n", M, id="c-parameters-auto-closed"),
        pytest.param("cpp", "class A {\npublic:|\n};\n", B, id="cpp-access-specifier"),
        pytest.param("java", "void f() {|}\n", B, id="java-method-body"),
        pytest.param("java", "int[] a = {|};\n", M, id="java-array-initializer-auto-closed"),
        # no grammar: the indentation and regex rules
        pytest.param("cobol", "def f(|):\n", M, id="no-grammar-parameters"),
        pytest.param("cobol", "foo(\n    b|)\n", E, id="no-grammar-brackets-opened-above"),
        pytest.param("cobol", 'print("hello |")\n', E, id="no-grammar-in-string"),
        pytest.param("cobol", "let a = $|b;\n", M, id="no-grammar-dollar"),
        pytest.param("cobol", "x = fo|o\n", W, id="no-grammar-mid-word"),
        pytest.param("cobol", "f = lambda x:|\nprint(1)\n", B, id="no-grammar-colon"),
        pytest.param("", "foo(|)\n", M, id="no-language"),
        # a tree with an ERROR at the opener keeps the rules' answer
        pytest.param("typescript", "let x:|\n", B, id="ts-error-keeps-the-rules"),
    ],
)
def test_spot_per_language(language: str, marked: str, spot: Spot) -> None:
    assert spot_at(language, marked) is spot
