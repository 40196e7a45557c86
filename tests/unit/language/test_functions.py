"""Which function the code actions work on: the syntax tree per language, patterns otherwise."""

from __future__ import annotations

import pytest

from hf_lsp.actions.catalog import Region, offers, plan
from hf_lsp.actions.output import edit_text
from hf_lsp.config.settings import Settings
from hf_lsp.language import functions, syntax
from hf_lsp.language.document import split_lines
from hf_lsp.language.functions import Function, find_function

S = Settings()
# (header_first, header_last, body_first, body_last, close_line, has_doc, stub)
Shape = tuple[int, int, int, int, "int | None", bool, bool]


def shape(f: Function | None) -> Shape | None:
    if f is None:
        return None
    return (f.header_first, f.header_last, f.body_first, f.body_last, f.close_line, f.has_doc,
            f.stub)


def line_of(code: str, needle: str) -> int:
    return next(i for i, line in enumerate(code.splitlines()) if needle in line)


TS_ARROWS = """\
/** Adds two numbers. */
export const add = (a: number, b: number): number => {
  return a + b;
};

export const load = async (url: string): Promise<Config> => {
  throw new Error("not implemented");
};

const inc = (x: number) => x + 1;
"""

TS_CLASS = """\
export class Store {
  private items: Item[] = [];

  @memoize()
  async *scan(prefix: string) {
    // TODO: page through the index
  }

  onChange = (e: ChangeEvent) => {
    if (e.target) {
      this.items.push(e.target.value);
    }
  };
}
"""

TS_OVERLOADS = """\
function parse(text: string): Ast;
function parse(text: Buffer): Ast;
function parse(text: string | Buffer): Ast {}

declare function fetchJson(url: string): Promise<unknown>;
"""

JS_TESTS = """\
describe("cache", () => {
  beforeEach(function () {
    cache.clear();
  });

  it("evicts the oldest entry", () => {
  });
});

function helper(t) {
  it("works", () => {
    t.ok(true);
  });
}
"""

JS_OBJECT = """\
const api = {
  get(id) {
  },
  put: function (id, body) { return send("PUT", id, body); },
};

module.exports.remove = async function (id) {
  throw new Error("TODO");
};

if (api) {
}
"""

PY = '''\
import functools


@functools.cache
def load(path,
         encoding="utf-8"):
    """Read the file."""
    raise NotImplementedError("later")


class Shape:
    # a comment is not a docstring
    def area(self) -> float: ...

    async def draw(self, canvas):
        # TODO: draw it
        pass

    def scale(self, k):
        def each(p):
            return p * k
        return [each(p) for p in self.points]
'''

RUST = """\
impl<T> Stack<T>
where
    T: Clone,
{
    /// Pushes a value.
    pub fn push(&mut self, x: T) {
        todo!()
    }

    #[inline]
    pub fn peek<U>(&self) -> Option<U>
    where
        U: From<T>,
    {
        unimplemented!("later")
    }
}

trait Shape {
    fn area(&self) -> f64;
}
"""

GO = """\
package shapes

// Area is width times height.
func (r *Rect) Area() float64 {
\tpanic("not implemented")
}

func TestArea(t *testing.T) {
\tt.Run("square", func(t *testing.T) {
\t\tcheck(t)
\t})
\thandler := func(w http.ResponseWriter, r *http.Request) {
\t}
\tif t == nil {
\t}
}
"""

C = """\
#include <stdio.h>

static int
parse_args(int argc,
           char **argv)
{
    /* TODO: parse the flags */
}

int main(void) { return parse_args(0, NULL); }
"""

CPP = """\
template <typename T>
T Stack<T>::pop() {
}

struct Point {
  Point() = default;
  int norm() const { return x * x + y * y; }
};
"""

JAVA = """\
class UserService {
  /** Finds a user. */
  @Override
  public User find(
      String id) {
    throw new UnsupportedOperationException("Not implemented yet");
  }

  UserService() {}

  abstract void refresh();

  void notifyAll(List<User> users) {
    users.forEach(u -> {
      send(u);
    });
  }
}
"""


@pytest.mark.parametrize(
    ("language", "code", "needle", "expected"),
    [
        # JavaScript / TypeScript
        pytest.param("typescript", TS_ARROWS, "return a + b", (1, 1, 2, 2, 3, True, False),
                     id="ts-exported-arrow-documented"),
        pytest.param("typescript", TS_ARROWS, "export const load", (5, 5, 6, 6, 7, False, True),
                     id="ts-async-arrow-stub"),
        pytest.param("typescript", TS_ARROWS, "const inc", (9, 9, 10, 9, None, False, False),
                     id="ts-expression-arrow-is-all-header"),
        pytest.param("typescript", TS_CLASS, "@memoize", (3, 4, 5, 5, 6, False, True),
                     id="ts-decorated-generator-method-todo"),
        pytest.param("typescript", TS_CLASS, "this.items.push", (8, 8, 9, 11, 12, False, False),
                     id="ts-class-field-arrow-innermost"),
        pytest.param("typescript", TS_CLASS, "private items", None, id="ts-class-is-no-function"),
        pytest.param("typescript", TS_OVERLOADS, "text: Buffer): Ast;",
                     (1, 1, 2, 1, None, False, False), id="ts-overload-signature"),
        pytest.param("typescript", TS_OVERLOADS, "string | Buffer",
                     (2, 2, 2, 2, 2, False, True), id="ts-overload-implementation"),
        pytest.param("typescript", TS_OVERLOADS, "declare function",
                     (4, 4, 5, 4, None, False, False), id="ts-declare-function"),
        pytest.param("javascript", JS_TESTS, "describe(", None, id="js-describe-callback"),
        pytest.param("javascript", JS_TESTS, "cache.clear()", None,
                     id="js-callback-function-expression"),
        pytest.param("javascript", JS_TESTS, "evicts the oldest", None,
                     id="js-empty-it-callback-is-no-stub"),
        pytest.param("javascript", JS_TESTS, "t.ok(true)", (9, 9, 10, 12, 13, False, False),
                     id="js-callback-inside-a-function"),
        pytest.param("javascript", JS_OBJECT, "get(id)", (1, 1, 2, 1, 2, False, True),
                     id="js-object-method-empty"),
        pytest.param("javascript", JS_OBJECT, "put: function", (3, 3, 3, 3, 3, False, False),
                     id="js-pair-function-one-line"),
        pytest.param("javascript", JS_OBJECT, "TODO", (6, 6, 7, 7, 8, False, True),
                     id="js-assigned-function-expression"),
        pytest.param("javascript", JS_OBJECT, "if (api)", None, id="js-if-is-no-function"),
        # Python
        pytest.param("python", PY, "@functools", (3, 5, 7, 7, None, True, True),
                     id="py-decorated-multiline-signature"),
        pytest.param("python", PY, "a comment is not", None, id="py-class-body"),
        pytest.param("python", PY, "def area", (12, 12, 13, 12, None, False, True),
                     id="py-one-line-ellipsis"),
        pytest.param("python", PY, "# TODO: draw", (14, 14, 15, 16, None, False, True),
                     id="py-todo-and-pass"),
        pytest.param("python", PY, "return p * k", (19, 19, 20, 20, None, False, False),
                     id="py-nested-function"),
        pytest.param("python", PY, "return [each", (18, 18, 19, 21, None, False, False),
                     id="py-outer-after-nested"),
        # Rust
        pytest.param("rust", RUST, "todo!()", (5, 5, 6, 6, 7, True, True),
                     id="rust-impl-method-documented"),
        pytest.param("rust", RUST, "#[inline]", (9, 13, 14, 14, 15, False, True),
                     id="rust-attribute-and-where-clause"),
        pytest.param("rust", RUST, "fn area", (19, 19, 20, 19, None, False, False),
                     id="rust-trait-signature"),
        pytest.param("rust", RUST, "T: Clone", None, id="rust-impl-is-no-function"),
        # Go
        pytest.param("go", GO, "panic(", (3, 3, 4, 4, 5, True, True),
                     id="go-method-with-receiver"),
        pytest.param("go", GO, "check(t)", (7, 7, 8, 14, 15, False, False),
                     id="go-callback-belongs-to-its-function"),
        pytest.param("go", GO, "handler :=", (11, 11, 12, 11, 12, False, True),
                     id="go-bound-func-literal"),
        pytest.param("go", GO, "if t == nil", (7, 7, 8, 14, 15, False, False), id="go-if"),
        # C, C++
        pytest.param("c", C, "char **argv", (2, 5, 6, 6, 7, False, True),
                     id="c-signature-over-lines"),
        pytest.param("c", C, "int main", (9, 9, 9, 9, 9, False, False), id="c-one-line"),
        pytest.param("cpp", CPP, "template", (0, 1, 2, 1, 2, False, True),
                     id="cpp-template-empty"),
        pytest.param("cpp", CPP, "= default", (5, 5, 6, 5, None, False, False),
                     id="cpp-defaulted"),
        # Java
        pytest.param("java", JAVA, "@Override", (2, 4, 5, 5, 6, True, True),
                     id="java-annotated-unsupported-operation"),
        pytest.param("java", JAVA, "UserService() {}", (8, 8, 8, 8, 8, False, True),
                     id="java-empty-constructor"),
        pytest.param("java", JAVA, "abstract void", (10, 10, 11, 10, None, False, False),
                     id="java-abstract"),
        pytest.param("java", JAVA, "send(u)", (12, 12, 13, 15, 16, False, False),
                     id="java-lambda-belongs-to-its-method"),
    ],
)
def test_function_from_the_syntax_tree(language: str, code: str, needle: str,
                                       expected: Shape | None) -> None:
    assert syntax.available(language)
    found = find_function(split_lines(code), line_of(code, needle), language)
    assert shape(found) == expected


KOTLIN = """\
fun parse(text: String): Ast {
    // TODO
}
"""

PHP = """\
<?php
function load($path) {
    throw new Exception("not implemented");
}
"""


@pytest.mark.parametrize(
    ("language", "code", "needle", "expected"),
    [
        pytest.param("kotlin", KOTLIN, "TODO", (0, 0, 1, 1, 2, False, True), id="kotlin"),
        pytest.param("php", PHP, "throw", (1, 1, 2, 2, 3, False, True), id="php-exception"),
        pytest.param("csharp", "public int Area() {\n    throw new NotImplementedException();\n}\n",
                     "throw", (0, 0, 1, 1, 2, False, True), id="csharp-not-implemented"),
        pytest.param("javascript", 'call(a, b\nfunction f(a) {\n  throw new Error("TODO");\n}\n',
                     "throw", (1, 1, 2, 2, 3, False, True), id="js-unparsable-above"),
    ],
)
def test_patterns_answer_without_a_grammar_or_a_parse(language: str, code: str, needle: str,
                                                      expected: Shape) -> None:
    assert shape(find_function(split_lines(code), line_of(code, needle), language)) == expected


def test_a_huge_file_uses_the_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = split_lines(JS_TESTS)
    at = line_of(JS_TESTS, "evicts the oldest")
    assert find_function(lines, at, "javascript") is None
    monkeypatch.setattr(functions, "MAX_PARSE_BYTES", 10)
    assert find_function(lines, at, "javascript") is not None  # the patterns take it for one


def titles(code: str, language: str, needle: str) -> list[str]:
    at = line_of(code, needle)
    return [o.action for o in offers(split_lines(code), language, Region(at, 0, at, 0), S)]


@pytest.mark.parametrize(
    ("language", "code", "needle", "expected"),
    [
        pytest.param("javascript", JS_TESTS, "evicts the oldest", [], id="it-callback"),
        pytest.param("javascript", JS_TESTS, "describe(", [], id="describe-callback"),
        pytest.param("typescript", TS_ARROWS, "not implemented",
                     ["implement", "docstring", "explain"], id="arrow-stub"),
        pytest.param("typescript", TS_OVERLOADS, "declare function", ["docstring", "explain"],
                     id="declare-is-documented-not-implemented"),
        pytest.param("go", GO, "handler :=", ["implement", "docstring", "explain"],
                     id="go-func-literal"),
        pytest.param("java", JAVA, "Not implemented yet", ["implement", "explain"],
                     id="java-documented-stub"),
    ],
)
def test_offers_on_tree_functions(language: str, code: str, needle: str,
                                  expected: list[str]) -> None:
    assert titles(code, language, needle) == expected


def test_plans_on_tree_functions() -> None:
    lines = split_lines(TS_ARROWS)
    implement = plan("implement", lines, "typescript", Region(6, 2, 6, 2), S)
    assert (implement.target, implement.guard, implement.indent) == (Region(6, 0, 6, 37),
                                                                    (5, 7), "  ")
    assert implement.signature == "export const load = async (url: string): Promise<Config> => {"
    doc = plan("docstring", split_lines(TS_CLASS), "typescript", Region(5, 0, 5, 0), S)
    assert (doc.target, doc.indent) == (Region(3, 0, 3, 0), "  ")  # above the decorator
    py = plan("docstring", split_lines(PY), "python", Region(16, 0, 16, 0), S)
    assert (py.target, py.indent) == (Region(14, len(PY.splitlines()[14]), 14,
                                             len(PY.splitlines()[14])), "        ")


def test_listing_in_a_5000_line_file_finds_each_function() -> None:
    code = "".join(
        f"export const f{i} = (a: number): number => {{\n  const b = a + {i};\n  return b;\n}};\n\n"
        for i in range(1000)
    )
    lines = split_lines(code)
    assert titles(code, "typescript", "const f0 ") == ["docstring", "explain"]  # grammar loaded
    for line in (2, 2502, 4997):  # its cost: `bench/run.py actions`
        found = offers(lines, "typescript", Region(line, 2, line, 2), S)
        assert [o.action for o in found] == ["docstring", "explain"]


ONE_LINE_STUB = """\
class Shape:
    def area(self) -> float: ...

    def name(self) -> str:
        return "shape"
"""


@pytest.mark.parametrize("grammar", [True, False], ids=["tree", "patterns"])
def test_implementing_a_one_line_stub_replaces_what_follows_its_colon(
    grammar: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not grammar:
        monkeypatch.setattr(syntax, "_parsers", {})
        monkeypatch.setattr(syntax, "_unavailable", {"python"})
    lines = split_lines(ONE_LINE_STUB)
    p = plan("implement", lines, "python", Region(1, 8, 1, 8), S)
    assert p.target == Region(1, len("    def area(self) -> float:"), 1, len(lines[1].rstrip()))
    text = edit_text(p, "return self.width * self.height\n", chat=False)
    assert text is not None
    head = lines[1][: p.target.start_index]
    result = "".join(lines[:1]) + head + text + "\n" + "".join(lines[2:])
    compile(result, "shape.py", "exec")  # valid Python: the `...` is gone
    assert "    def area(self) -> float:\n        return self.width * self.height\n" in result
