"""When a long generation's code is whole, and what a budget-stopped answer keeps."""

from __future__ import annotations

import pytest

from hf_lsp.actions.catalog import DOCSTRING, GENERATE, Region, plan
from hf_lsp.actions.service import unit_for
from hf_lsp.config.settings import Settings
from hf_lsp.generation.contract import GenerationRequest
from hf_lsp.generation.units import Unit, nearby
from hf_lsp.language.document import split_lines

CPP_CLASS = """#include <list>

class Cache {
public:
    int get(int key) {
        if (key < 0) {
            return -1;
        }
        return key;
    }
};
"""


def test_a_new_class_is_whole_once_it_closed_and_what_follows_is_dropped() -> None:
    unit = Unit("cpp", "// write a cache\n", insert=True)
    for n in range(1, len(CPP_CLASS) - 3):
        assert unit.end(CPP_CLASS[:n]) is None, CPP_CLASS[:n]
    assert unit.end(CPP_CLASS) == len(CPP_CLASS)
    text = CPP_CLASS + "\nint main() {\n    Cache c;\n"
    assert text[: unit.end(text)] == CPP_CLASS


def test_includes_alone_are_not_the_unit() -> None:
    unit = Unit("cpp", "// write a cache\n", insert=True)
    assert unit.end("#include <list>\n#include <map>\n\n") is None


def test_a_brace_body_is_whole_when_its_closing_brace_is_written() -> None:
    unit = Unit("cpp", "int f(int a) {\n    ", "    ")
    assert unit.end("int b = a;\n    if (b) {\n        b++;\n    }\n") is None  # more may come
    text = "return a;\n}\n\nint g() {\n"
    assert text[: unit.end(text)] == "return a;\n}\n"


@pytest.mark.parametrize("language, prefix, text, whole", [
    ("python", "def f(a):\n    ", "b = a\n    return b\n\n\nx = 1\n", "b = a\n    return b\n"),
    ("javascript", "function f(a) {\n  ", "return a;\n}\n\nfoo();\n", "return a;\n}\n"),
    ("go", "func f(a int) int {\n\t", "return a\n}\n\nfunc g() {\n", "return a\n}\n"),
    ("rust", "fn f(a: i32) -> i32 {\n    ", "a + 1\n}\n\nfn g() {\n", "a + 1\n}\n"),
    ("java", "class A {\n  int f() {\n    ", "return 1;\n  }\n  int g() {\n",
     "return 1;\n  }\n"),
])
def test_a_body_ends_where_its_scope_closes(language: str, prefix: str, text: str,
                                             whole: str) -> None:
    unit = Unit(language, prefix, "    ")
    end = unit.end(text)
    assert end is not None and text[:end] == whole


def test_a_python_body_goes_on_while_it_stays_indented() -> None:
    unit = Unit("python", "def f(a):\n    ", "    ")
    assert unit.end("b = a\n    for i in b:\n        print(i)\n    return b\n") is None


def test_new_python_code_is_whole_after_a_definition_and_a_line_back_at_the_top() -> None:
    unit = Unit("python", "# add two numbers\n", insert=True)
    assert unit.end("def add(a, b):\n    return a + b\n") is None  # the body may go on
    text = "def add(a, b):\n    return a + b\n\n\nprint(add(1,\n"
    assert text[: unit.end(text)] == "def add(a, b):\n    return a + b\n"
    text = "def add(a, b):\n    return a + b\n\n\nprint(add(1, 2))\n"
    assert unit.end(text) == len(text)  # what is complete after it stays


def test_without_a_grammar_indentation_decides() -> None:
    new = Unit("ruby", "# a class\n", insert=True)
    text = "class A\n  def f\n    1\n  end\nend\n\nclass B\n  def"
    assert text[: new.end(text)] == "class A\n  def f\n    1\n  end\nend\n"
    assert new.end("class A\n  def f\n") is None
    body = Unit("ruby", "def f\n  ", "  ")
    text = "x = 1\n  x + 1\nend\n\ndef g\n"
    assert text[: body.end(text)] == "x = 1\n  x + 1\n"


def test_a_chat_answer_is_whole_when_its_fence_closes() -> None:
    unit = Unit("cpp", "", chat=True)
    assert unit.end("Here it is:\n```cpp\nint x;\n") is None
    text = "Here it is:\n```cpp\nint x;\n```\nThis declares x."
    assert text[: unit.end(text)] == "Here it is:\n```cpp\nint x;\n```\n"


def test_a_budget_stopped_answer_keeps_its_last_complete_line() -> None:
    unit = Unit("python", "def f(a):\n    ", "    ")
    assert unit.whole("b = a\n    return b +") == "b = a\n"
    assert unit.whole("b = a\n") == "b = a\n"


def test_it_is_not_cut_inside_open_parentheses_nor_an_unfinished_statement() -> None:
    unit = Unit("python", "def f(a):\n    ", "    ")
    assert unit.whole("b = a\n    c = g(1,\n          2,\n") == "b = a\n"
    cpp = Unit("cpp", "// a cache\n", insert=True)
    text = CPP_CLASS[: CPP_CLASS.index("if (key")] + "if (key <\n"
    assert cpp.whole(text) == CPP_CLASS[: CPP_CLASS.index("        if (key")]
    assert cpp.whole(CPP_CLASS[: CPP_CLASS.index("return key;")]) == CPP_CLASS[
        : CPP_CLASS.index("        return key;")
    ]
    text = "int total = a +\n    b +\n"
    assert Unit("cpp", "int f(int a, int b) {\n    ", "    ").whole(text) == ""


def test_a_chat_answer_keeps_its_complete_lines() -> None:
    assert Unit("cpp", "", chat=True).whole("```cpp\nint x;\nint y") == "```cpp\nint x;\n"


def test_a_stream_is_checked_once_per_line() -> None:
    unit = Unit("cpp", "int f() {\n    ", "    ")
    check = unit.stream_check()
    assert not check("return 1;")
    assert not check("return 1;\n")
    assert check("return 1;\n}\n")
    assert check("return 1;\n}\n ") is False  # no new line since the last check


def test_the_unit_is_judged_on_the_prefix_from_its_last_top_level_line() -> None:
    prefix = "import os\n\n\ndef f(a):\n    b = 1\n    "
    assert nearby(prefix) == "def f(a):\n    b = 1\n    "
    assert nearby("    x = 1\n") == "    x = 1\n"
    assert nearby("x = 1\n" + "    y\n" * 10, lines=5) == "x = 1\n" + "    y\n" * 10


def test_a_rewrite_at_the_top_level_goes_on_past_a_whole_function() -> None:
    # a rewritten selection of several functions is not whole after the first of them
    unit = Unit("python", "# rewrite: add type hints:\n", "")
    assert unit.end("def f(a: int) -> int:\n    return a\n\n\ndef g(b") is None


def test_documentation_is_judged_as_prose_not_as_code() -> None:
    lines = split_lines('def f(a):\n    return a\n')
    settings = Settings()
    doc = plan(DOCSTRING, lines, "python", Region(0, 4, 0, 4), settings)
    request = GenerationRequest('def f(a):\n    """', {}, prefix='def f(a):\n    """')
    unit = unit_for(doc, request, "fim")
    text = "Return a.\n\n    Args:\n        a: anything.\n    Returns:\n        a.\n"
    assert unit.end(text) is None  # no early stop at a section of the docstring
    assert unit.whole(text + "    Raises") == text
    gen = plan(GENERATE, ["# add\n", "x = 1\n"], "python", Region(0, 2, 0, 2), settings)
    assert unit_for(gen, request, "fim").insert
