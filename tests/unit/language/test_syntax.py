"""Tree-sitter: the cursor's syntactic spot and the end of the scope it is in."""

from __future__ import annotations

import pytest

from hf_lsp.config.settings import Context
from hf_lsp.language import syntax
from hf_lsp.language.context import Spot, refine, window
from hf_lsp.language.document import Document


@pytest.mark.parametrize(
    ("language", "prefix", "completion", "expected"),
    [
        pytest.param(
            "python", "def add(a, b):\n    ",
            "return a + b\n\n\ndef mul(a, b):\n    return a * b\n", "return a + b",
            id="py-next-function-dropped",
        ),
        pytest.param(
            "python", "def f(x):\n    y = 1\n    ", "z = 2\n    return z\n\ndef g(): pass\n",
            "z = 2\n    return z", id="py-rest-of-body-kept",
        ),
        pytest.param(
            "python", "def f(x):\n    for i in x:", "\n        print(i)\n    return 1\n",
            "\n        print(i)", id="py-after-opener-only-its-body",
        ),
        pytest.param(
            "python", "x = foo(", "a,\n    b)\ny = 2\n", "a,\n    b)", id="py-call-arguments",
        ),
        pytest.param(
            "python", "", "def f():\n    return 1\n\ndef g():\n    pass\n",
            "def f():\n    return 1", id="py-top-level-one-definition",
        ),
        pytest.param(
            "python", "print(\"hello", " world\")\nprint(2)\n", " world\")", id="py-string-closed",
        ),
        pytest.param(
            "javascript", "function f() {\n  ", "return 1;\n}\n\nfunction g() {}\n",
            "return 1;\n}", id="js-block-and-its-brace",
        ),
        pytest.param(
            "javascript", "const x = {", "\n  a: 1,\n};\nconst y = 2;\n", "\n  a: 1,\n};",
            id="js-object-with-semicolon",
        ),
        pytest.param(
            "rust", "fn main() {\n    let v = vec![",
            "1, 2];\n    println!(\"{:?}\", v);\n}\nfn g() {}\n",
            "1, 2];\n    println!(\"{:?}\", v);\n}",
            id="rust-enclosing-body",
        ),
        pytest.param(
            "java", "class A {\n  int f() {\n    ", "return 1;\n  }\n  int g() { return 2; }\n}\n",
            "return 1;\n  }", id="java-method-body",
        ),
        pytest.param(
            "cpp", "int main() {\n  ", "return 0;\n}\n\nint other() {}\n", "return 0;\n}",
            id="cpp-function-body",
        ),
        pytest.param(
            "go", "func f() int {\n\t", "return 1\n}\n\nfunc g() {}\n", "return 1\n}",
            id="go-function-body",
        ),
        pytest.param(
            "python", "if foo(bar", "baz):\n    pass\nprint(1)\n", "baz):\n    pass",
            id="py-word-then-block",
        ),
        pytest.param(
            "javascript", "function f(a) {\n  if (a) {\n    ",
            "a++;\n  } else {\n    a--;\n  }\n  return a;\n}\n", "a++;\n  } else {\n    a--;\n  }",
            id="js-block-goes-on-at-else",
        ),
        pytest.param(
            "javascript", "p.then((r) => {\n  ", "use(r);\n}).catch(log);\nnext();\n",
            "use(r);\n}).catch(log);", id="js-chain-goes-on-after-the-call",
        ),
        pytest.param(
            "c", "void f(void) {\n    do {\n        ", "step();\n    } while (more());\n}\n",
            "step();\n    } while (more());", id="c-do-while",
        ),
        pytest.param(
            "go", "func f() {\n\tgo func() {\n\t\t", "work()\n\t}()\n\twg.Wait()\n}\n",
            "work()\n\t}()", id="go-closure-called",
        ),
        pytest.param(
            "java", "class A {\n    static final int[] XS = {\n        ", "1, 2\n    };",
            "1, 2\n    };", id="java-closes-on-the-last-line",
        ),
        pytest.param(
            "javascript", "const o = {\n  now() {\n    ", "return 1;\n  },\n  b: 2,\n};\n",
            "return 1;\n  },", id="js-method-in-an-object-ends-at-its-comma",
        ),
        pytest.param(
            "go", "func f() {\n\tif x {\n\t\t", "y()\n\t}", "y()\n\t}",
            id="go-closes-at-the-very-end",
        ),
    ],
)
def test_scope_end_cuts(language: str, prefix: str, completion: str, expected: str) -> None:
    cut = syntax.scope_end(language, prefix, completion)
    assert cut is not None
    assert completion[:cut] == expected


@pytest.mark.parametrize(
    ("language", "prefix", "completion"),
    [
        pytest.param("python", "def f():\n    ", "return 1", id="scope-still-open"),
        pytest.param("python", "import os\n", "import sys\nimport re\n", id="top-level-one-liners"),
        pytest.param("python", "if foo(bar", "baz):\n    pass", id="word-goes-on-block-open"),
        pytest.param("python", "x = 1\n", "   \n", id="blank"),
        pytest.param("cobol", "x", "y\nz", id="no-grammar"),
        pytest.param("python", "def f():\n    x = compute(", "\n        a,", id="cut-short"),
    ],
)
def test_scope_end_leaves_alone(language: str, prefix: str, completion: str) -> None:
    assert syntax.scope_end(language, prefix, completion) is None


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "comment", "string"),
    [
        pytest.param("python", "x = 1  # TODO:", "\n", True, False, id="py-comment"),
        pytest.param("python", 's = "a:', '"\n', False, True, id="py-string"),
        pytest.param("python", "def f():", "\n", False, False, id="py-code"),
        pytest.param("javascript", "// note {", "\n", True, False, id="js-comment"),
        pytest.param("javascript", "const s = `a {", "`;\n", False, True, id="js-template"),
        pytest.param("rust", "let s = \"{", "\";\n", False, True, id="rust-string"),
    ],
)
def test_cursor_syntax(
    language: str, prefix: str, suffix: str, comment: bool, string: bool
) -> None:
    found = syntax.cursor_syntax(language, prefix, suffix)
    assert found is not None
    assert (found.in_comment, found.in_string) == (comment, string)


@pytest.mark.parametrize(
    ("language", "marked", "splits", "bound", "opens"),
    [
        pytest.param("python", "retu|rn\n", True, False, None, id="py-inside-a-keyword"),
        pytest.param("python", "a|.b\n", False, False, None, id="py-between-tokens"),
        pytest.param("python", 'f("a|")\n', None, True, False, id="py-string-is-not-code"),
        pytest.param("python", "f(x, |)\n", False, True, None, id="py-arguments"),
        pytest.param("python", "f(\n  x|)\n", False, False, None, id="py-opened-line-above"),
        pytest.param("python", "if x:|\n", False, False, True, id="py-header-colon"),
        pytest.param("python", "x[1:|]\n", False, True, False, id="py-slice-colon"),
        pytest.param("python", "# a:\n|\n", False, False, False, id="py-colon-in-comment-above"),
        pytest.param("python", "else:|\n", False, False, None, id="py-error-cannot-tell"),
        pytest.param("javascript", "if (x) {|}\n", False, False, None, id="js-block-braces"),
        pytest.param("javascript", "x = {|};\n", False, True, None, id="js-object-braces"),
        pytest.param("javascript", "x = `a|`;\n", None, False, False, id="js-template-lines"),
    ],
)
def test_cursor_facts(
    language: str, marked: str, splits: bool | None, bound: bool, opens: bool | None
) -> None:
    prefix, suffix = marked.split("|")
    found = syntax.cursor_syntax(language, prefix, suffix)
    assert found is not None
    assert (found.splits_token, found.line_bound, found.opens_block) == (splits, bound, opens)


def test_no_grammar_means_no_answer() -> None:
    assert syntax.cursor_syntax("cobol", "x", "") is None
    assert not syntax.available("cobol")
    assert syntax.available("python")


@pytest.mark.parametrize(
    ("text", "line", "col", "language", "spot"),
    [
        pytest.param("x = 1  # TODO:\n", 0, 14, "python", Spot.END_OF_LINE, id="colon-in-comment"),
        pytest.param("# steps:\n    \n", 1, 4, "python", Spot.EMPTY_LINE, id="below-comment"),
        pytest.param('s = "key: {"\n', 0, 11, "python", Spot.MID_LINE, id="brace-in-string"),
        pytest.param("def f():\n", 0, 8, "python", Spot.BLOCK_OPENER, id="real-opener"),
        pytest.param("def f():\n    \n", 1, 4, "python", Spot.BLOCK_OPENER, id="below-opener"),
        pytest.param("x = 1  # TODO:\n", 0, 14, "", Spot.BLOCK_OPENER, id="no-language-regex"),
        pytest.param("retu\n", 0, 2, "python", Spot.MID_WORD, id="mid-word"),
    ],
)
def test_window_spot_is_syntax_aware(
    text: str, line: int, col: int, language: str, spot: Spot
) -> None:
    doc = Document("file:///t", text, language)
    assert window(doc, line, col, Context()).spot is spot


def test_refine_keeps_spot_without_grammar() -> None:
    assert refine("cobol", "x:", "", Spot.BLOCK_OPENER) is Spot.BLOCK_OPENER


def test_grammars_load_on_first_use_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from hf_lsp.lsp.server import create_server; create_server(); "
        "print(sorted(m for m in sys.modules if m.startswith(('tree_sitter', 'tokenizers'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
