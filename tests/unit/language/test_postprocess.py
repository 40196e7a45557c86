from __future__ import annotations

from collections.abc import Sequence

import pytest

from hf_lsp.generation.fim_templates import COMMON_SPECIAL, TEMPLATES
from hf_lsp.language.postprocess import (
    PIPELINE,
    Cleanup,
    Step,
    clean,
    clear_tokens,
    cut_at_stop,
    drop_degenerate,
    drop_leading_markers,
    drop_repetition,
    drop_special_tokens,
    drop_suffix_repeat,
    keep_first_line,
    normalise_indentation,
    stop_at_block_end,
    stop_at_scope_end,
    strip_echo,
    trim_suffix_overlap,
    trim_trailing_space,
)


def cleanup(
    prefix: str = "",
    suffix: str = "",
    *,
    single_line: bool = False,
    stops: Sequence[str] = (),
    family: str = "starcoder",
    clear: Sequence[str] = (),
) -> Cleanup:
    template = TEMPLATES[family]
    return Cleanup(
        prompt=template.render(prefix, suffix),
        prefix=prefix,
        suffix=suffix,
        line_after=suffix.split("\n", 1)[0].rstrip("\r"),
        stops=tuple(stops),
        special_tokens=tuple(dict.fromkeys((*template.special_tokens, *COMMON_SPECIAL))),
        single_line=single_line,
        clear=tuple(clear),
    )


def test_pipeline_order() -> None:
    assert PIPELINE == (
        strip_echo,
        drop_leading_markers,
        cut_at_stop,
        drop_special_tokens,
        clear_tokens,
        keep_first_line,
        drop_repetition,
        drop_suffix_repeat,
        stop_at_scope_end,
        normalise_indentation,
        trim_suffix_overlap,
        drop_degenerate,
        trim_trailing_space,
    )


# --- strip_echo ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "text", "expected"),
    [
        pytest.param("starcoder", "<fim_prefix>a = <fim_suffix>\n<fim_middle>1", "1",
                     id="echo-with-special-tokens"),
        pytest.param("starcoder", "a = \n1", "a = \n1",
                     id="short-echo-without-special-tokens-is-not-trusted"),
        pytest.param("codellama", "<PRE> a =  <SUF>\n <MID>1", "1", id="codellama-echo"),
        pytest.param("codestral", "[SUFFIX]\n[PREFIX]a = 1", "1", id="codestral-echo"),
        pytest.param("starcoder", "1", "1", id="no-echo"),
        pytest.param("starcoder", "a = 1", "a = 1", id="prefix-only-is-not-an-echo"),
        pytest.param("starcoder", "", "", id="empty"),
    ],
)
def test_strip_echo(family: str, text: str, expected: str) -> None:
    assert strip_echo(text, cleanup("a = ", "\n", family=family)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("def long_enough(x):\n    \n    return x", "    return x",
                     id="long-echo-without-markers"),
        pytest.param("def long_enough(x):\n    return x", "def long_enough(x):\n    return x",
                     id="not-an-echo"),
    ],
)
def test_strip_echo_without_markers_needs_a_real_prompt(text: str, expected: str) -> None:
    assert strip_echo(text, cleanup("def long_enough(x):\n    ", "\n")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("<fim_middle>x = 1", "x = 1", id="one"),
        pytest.param("<fim_middle><fim_middle>x = 1<|endoftext|>", "x = 1<|endoftext|>",
                     id="repeated-and-only-leading"),
        pytest.param("x<fim_middle>", "x<fim_middle>", id="not-leading"),
    ],
)
def test_drop_leading_markers(text: str, expected: str) -> None:
    assert drop_leading_markers(text, cleanup()) == expected


def test_a_leading_marker_does_not_empty_the_completion() -> None:
    assert clean("<fim_middle>return x<|endoftext|>", cleanup("def f(x):\n    ", "\n")) == (
        "return x"
    )


# --- cut_at_stop --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stops", "expected"),
    [
        pytest.param("x = 1<|endoftext|>junk", (), "x = 1", id="endoftext"),
        pytest.param("x = 1<file_sep>other file", (), "x = 1", id="file-sep"),
        pytest.param("x = 1</s>", (), "x = 1", id="common-special"),
        pytest.param("x = 1\n\n\ndef g():", ("\n\n\n",), "x = 1", id="user-stop"),
        pytest.param("ab<|endoftext|>cd\n\n\nef", ("\n\n\n",), "ab", id="earliest-wins"),
        pytest.param("ab\n\n\ncd<|endoftext|>", ("\n\n\n",), "ab", id="earliest-wins-user"),
        pytest.param("x = 1", ("",), "x = 1", id="empty-stop-ignored"),
        pytest.param("<|endoftext|>", (), "", id="only-end"),
        pytest.param("plain", (), "plain", id="nothing-to-cut"),
    ],
)
def test_cut_at_stop(text: str, stops: tuple[str, ...], expected: str) -> None:
    assert cut_at_stop(text, cleanup(stops=stops)) == expected


# --- drop_special_tokens ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "text", "expected"),
    [
        pytest.param("starcoder", "<fim_middle>x = 1", "x = 1", id="leading-middle"),
        pytest.param("starcoder", "x<fim_suffix> = <fim_prefix>1", "x = 1", id="inside"),
        pytest.param("codellama", "<MID> x <EOT>", " x ", id="codellama"),
        pytest.param("deepseek", "<\uff5cfim\u2581end\uff5c>x", "x", id="deepseek"),
        pytest.param("starcoder", "no tokens", "no tokens", id="none"),
    ],
)
def test_drop_special_tokens(family: str, text: str, expected: str) -> None:
    assert drop_special_tokens(text, cleanup(family=family)) == expected


# --- keep_first_line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "single_line", "expected"),
    [
        pytest.param("a, b)\n    return a", True, "a, b)", id="single-line"),
        pytest.param("a, b)\r\n    return a", True, "a, b)", id="single-line-crlf"),
        pytest.param("a, b)\n    return a", False, "a, b)\n    return a", id="multi-line"),
        pytest.param("\nnext", True, "", id="starts-with-newline"),
        pytest.param("one line", True, "one line", id="no-newline"),
    ],
)
def test_keep_first_line(text: str, single_line: bool, expected: str) -> None:
    assert keep_first_line(text, cleanup(single_line=single_line)) == expected


# --- stop_at_block_end -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "text", "expected"),
    [
        pytest.param(
            "def add(a, b):\n    ",
            "return a + b\n\n\ndef mul(a, b):\n    return a * b",
            "return a + b\n\n",
            id="next-function-dropped",
        ),
        pytest.param(
            "def add(a, b):",
            "\n    return a + b\n\ndef mul(a, b):",
            "\n    return a + b\n",
            id="after-block-opener",
        ),
        pytest.param(
            "if (x) {",
            "\n    y();\n}\nelse {",
            "\n    y();\n}",
            id="closer-of-the-opened-block-kept",
        ),
        pytest.param(
            "\tif x:\n\t\t",
            "a()\n\t\tb()\n\tc()",
            "a()\n\t\tb()",
            id="tabs",
        ),
        pytest.param("x = 1", "\ny = 2\nz = 3", "\ny = 2\nz = 3", id="top-level-kept"),
        pytest.param("    ", "x = 1", "x = 1", id="single-line-untouched"),
    ],
)
def test_stop_at_block_end(prefix: str, text: str, expected: str) -> None:
    assert stop_at_block_end(text, cleanup(prefix, "\n")) == expected


# --- trim_suffix_overlap ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "expected"),
    [
        pytest.param("foo(bar", ")", "baz):", "baz", id="completion-closes-and-goes-on"),
        pytest.param("foo(bar", ")", "baz)", "baz", id="completion-ends-with-closer"),
        pytest.param("def foo(bar", "):", "baz):", "baz", id="closer-and-colon"),
        pytest.param("x = f(", "))", "g(1))", "g(1)", id="nested-closers"),
        pytest.param("x = f(", ")", "g(1)", "g(1)", id="own-brackets-balanced-kept"),
        pytest.param("x = f(", ")", "g(1)[0]", "g(1)[0]", id="own-brackets-balanced-long"),
        pytest.param("x = [", "]", "1, 2]", "1, 2", id="square"),
        pytest.param("call(\n    a", ")", ")", "", id="opened-on-an-earlier-line"),
        pytest.param('x = "abc', '"', 'def"', "def", id="quote"),
        pytest.param('print("a', '")', 'b")', "b", id="quote-then-bracket"),
        pytest.param("x = f(", ";", "g(1));", "g(1))", id="semicolon"),
        pytest.param("if x", ":", " > 0:", " > 0", id="colon"),
        pytest.param("foo(bar", ")", "baz", "baz", id="nothing-repeated"),
        pytest.param("foo(bar", ") + 1", "baz)", "baz)", id="rest-is-not-only-closers"),
        pytest.param("foo(bar", ")", "baz]", "baz]", id="different-closer-kept"),
    ],
)
def test_trim_suffix_overlap_on_the_line(
    prefix: str, suffix: str, text: str, expected: str
) -> None:
    assert trim_suffix_overlap(text, cleanup(prefix, suffix)) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "expected"),
    [
        pytest.param(
            "def f():\n",
            "\n    return x\n\nprint(f())\n",
            "    x = 1\n    return x\n",
            "    x = 1",
            id="repeats-next-line",
        ),
        pytest.param(
            "def f():\n",
            "\n    return x\n\nprint(f())\n",
            "    x = 1\n    return x\n\nprint(f())",
            "    x = 1",
            id="repeats-next-lines-across-blank",
        ),
        pytest.param(
            "int f() {\n    ",
            "\n}\n",
            "return 1;\n}",
            "return 1;",
            id="repeats-closing-brace",
        ),
        pytest.param(
            "int f() {\n    ",
            "\n}\n",
            "if (x) {\n        y();\n    }",
            "if (x) {\n        y();\n    }",
            id="nested-brace-at-other-indent-kept",
        ),
        pytest.param(
            "    ",
            "\n    return x\n",
            "x = 1\n    return x",
            "x = 1",
            id="first-line-compared-with-its-indent",
        ),
        pytest.param(
            "def f():\n",
            "\n    return x\n",
            "    x = 1\n    y = 2",
            "    x = 1\n    y = 2",
            id="no-repeat",
        ),
        pytest.param(
            "def f():\n",
            "\r\n    return x\r\n",
            "    x = 1\r\n    return x",
            "    x = 1\r",
            id="crlf",
        ),
    ],
)
def test_trim_suffix_overlap_across_lines(
    prefix: str, suffix: str, text: str, expected: str
) -> None:
    assert trim_suffix_overlap(text, cleanup(prefix, suffix)) == expected


# --- trim_trailing_space ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("x = 1  \n\n", "x = 1", id="trailing"),
        pytest.param("  x = 1", "  x = 1", id="leading-kept"),
        pytest.param(" \n \t", "", id="blank"),
    ],
)
def test_trim_trailing_space(text: str, expected: str) -> None:
    assert trim_trailing_space(text, cleanup()) == expected


# --- the pipeline -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "single_line", "stops", "expected"),
    [
        pytest.param(
            "def add(a, b):\n    ", "\n",
            "<fim_prefix>def add(a, b):\n    <fim_suffix>\n<fim_middle>return a + b<|endoftext|>",
            False, (), "return a + b", id="echo-with-tokens-and-end",
        ),
        pytest.param(
            "def add(a, b):\n    ", "\n",
            "def add(a, b):\n    \nreturn a + b\n\n\ndef mul(a, b):",
            False, ("\n\n\n",), "return a + b", id="echo-without-tokens-and-user-stop",
        ),
        pytest.param(
            "x = foo(", ")\n", "a, b)\nmore = 1", True, (), "a, b", id="single-line-and-closer",
        ),
        pytest.param("foo(bar", ")", "baz):", False, (), "baz", id="no-doubled-closer"),
        pytest.param(
            "def f():\n", "\n    return x\n", "    x = 1\n    return x\n", False, (),
            "    x = 1", id="repeated-lines-dropped",
        ),
        pytest.param("x = ", "\n", "   \n\t\n", False, (), "", id="whitespace-only"),
        pytest.param("x = ", "\n", "<|endoftext|>", False, (), "", id="only-end-token"),
        pytest.param("x = ", "\n", "  \n<|endoftext|>more", False, (), "",
                     id="whitespace-before-end"),
        pytest.param("x = ", "\n", "1  \n\n", False, (), "1", id="trailing-space"),
    ],
)
def test_clean(
    prefix: str,
    suffix: str,
    text: str,
    single_line: bool,
    stops: tuple[str, ...],
    expected: str,
) -> None:
    c = cleanup(prefix, suffix, single_line=single_line, stops=stops)
    assert clean(text, c) == expected


def test_clean_no_doubled_closer_on_the_line() -> None:
    prefix, after = "foo(bar", ")"
    result = clean("baz):", cleanup(prefix, after))
    line = prefix + result + after
    assert line.count("(") == line.count(")") == 1


def test_clean_runs_the_given_steps_only() -> None:
    calls: list[str] = []

    def upper(text: str, c: Cleanup) -> str:
        calls.append(text)
        return text.upper()

    steps: tuple[Step, ...] = (upper,)
    assert clean("x<|endoftext|>", cleanup(), steps) == "X<|ENDOFTEXT|>"
    assert clean("  ", cleanup(), steps) == ""
    assert calls == ["x<|endoftext|>", "  "]


@pytest.mark.parametrize(
    ("text", "clear", "expected"),
    [
        pytest.param("return a<pad> + b<pad>", ["<pad>"], "return a + b", id="everywhere"),
        pytest.param("<|fim_pad|>x = 1", ["<|fim_pad|>", "<pad>"], "x = 1", id="at-the-start"),
        pytest.param("x = 1<pad>", [], "x = 1<pad>", id="none-named"),
        pytest.param("a<pad>", [""], "a<pad>", id="empty-string-ignored"),
    ],
)
def test_clear_tokens_removes_each_named_string(
    text: str, clear: list[str], expected: str
) -> None:
    assert clear_tokens(text, cleanup(clear=clear)) == expected


def test_cleared_tokens_are_removed_not_cut_at_while_end_tokens_still_cut() -> None:
    c = cleanup("def add(a, b):\n    ", clear=["<sep>"])
    assert clean("return a<sep> + b<|endoftext|>\ndef other():", c) == "return a + b"


def test_a_cleared_token_never_survives_the_whole_pipeline() -> None:
    text = "<tok>if x:<tok>\n        y = 1<tok>\n    return y<tok>"
    out = clean(text, cleanup("def f(x):\n    ", clear=["<tok>"]))
    assert out and "<tok>" not in out
    assert "<tok>" in clean(text, cleanup("def f(x):\n    "))  # kept unless named
