"""Unit tables for code actions: detection, prompts, output cleaning, re-anchoring."""

from __future__ import annotations

import json

import pytest

from hf_lsp.actions.catalog import (
    Diagnostic,
    NotApplicable,
    Region,
    comment_block,
    offers,
    plan,
)
from hf_lsp.actions.output import (
    cut_block,
    drop_signature,
    edit_text,
    explanation,
    extract_code,
    reindent,
)
from hf_lsp.actions.prompts import chat_messages, choose_mode, fill, fim_parts, looks_instruct
from hf_lsp.backends.chat import ROUTER_CHAT_URL, chat_settings
from hf_lsp.config.settings import Settings, parse_settings
from hf_lsp.errors import SettingsError
from hf_lsp.language.document import split_lines
from hf_lsp.language.functions import find_function
from hf_lsp.language.reanchor import reanchor

S = Settings()
PY = '''import os

# parse the config file
x = 1


def stub(a):
    """Doc."""
    ...


def todo(a):
    # TODO
    pass


def done(a):
    return a
'''


def at(line: int, col: int = 0) -> Region:
    return Region(line, col, line, col)


def titles(text: str, language: str, where: Region, settings: Settings = S,
           diagnostics: tuple[Diagnostic, ...] = ()) -> list[str]:
    return [o.action for o in offers(split_lines(text), language, where, settings, diagnostics)]


@pytest.mark.parametrize(
    ("text", "language", "where", "expected"),
    [
        pytest.param(PY, "python", at(2, 3), ["generate"], id="py-comment"),
        pytest.param(PY, "python", at(0), [], id="py-import"),
        pytest.param(PY, "python", at(8, 4), ["implement", "explain"], id="py-ellipsis-stub"),
        pytest.param(PY, "python", at(12, 4), ["generate", "implement", "docstring", "explain"],
                     id="py-todo-comment-and-pass"),
        pytest.param(PY, "python", at(13, 4), ["implement", "docstring", "explain"],
                     id="py-pass"),
        pytest.param(PY, "python", at(17, 4), ["docstring", "explain"], id="py-real-body"),
        pytest.param(PY, "python", Region(16, 0, 18, 0), ["docstring", "rewrite", "explain"],
                     id="py-selection"),
        pytest.param("fn f() -> u8 {\n    todo!()\n}\n", "rust", at(1, 4),
                     ["implement", "docstring", "explain"], id="rust-todo"),
        pytest.param("/// Adds.\nfn f() -> u8 {\n    unimplemented!()\n}\n", "rust", at(2),
                     ["implement", "explain"], id="rust-documented"),
        pytest.param("fn f() -> u8 {\n    1\n}\n", "rust", at(1), ["docstring", "explain"],
                     id="rust-body"),
        pytest.param('function f(x) {\n  throw new Error("not implemented");\n}\n',
                     "javascript", at(1), ["implement", "docstring", "explain"], id="js-throw"),
        pytest.param("func F() int {\n}\n", "go", at(0), ["implement", "docstring", "explain"],
                     id="go-empty"),
        pytest.param("if (x) {\n}\n", "javascript", at(0), [], id="js-if-is-no-function"),
        pytest.param("// write an LRU cache in C++\n", "cpp", at(0), ["generate"],
                     id="cpp-comment"),
        pytest.param("-- a\n", "lua", at(0), [], id="comment-without-words"),
    ],
)
def test_offers(text: str, language: str, where: Region, expected: list[str]) -> None:
    assert titles(text, language, where) == expected


def test_offers_follow_the_settings() -> None:
    off = parse_settings({"actions": {"implement": {"enabled": False}}})
    assert titles(PY, "python", at(8, 4), off) == ["explain"]
    assert titles(PY, "python", at(8, 4), parse_settings({"actions": {"enabled": False}})) == []
    custom = parse_settings({"actions": {"custom": [{"title": "Hints", "prompt": "p"}]}})
    assert titles(PY, "python", Region(16, 0, 18, 0), custom)[-1] == "custom"
    fix = titles(PY, "python", at(17), diagnostics=(Diagnostic("bad", 17, 17),))
    assert fix == ["docstring", "fix", "explain"]


def test_comment_block_spans_the_run_of_comments() -> None:
    lines = split_lines("x = 1\n# one\n# two\ny = 2\n")
    assert comment_block(lines, 2, "python") == (1, 2)
    assert comment_block(lines, 0, "python") is None


def test_python_function_with_a_multiline_signature() -> None:
    lines = split_lines("def f(\n    a,\n    b,\n):\n    pass\n\nx = 1\n")
    f = find_function(lines, 4, "python")
    assert f is not None
    assert (f.header_first, f.header_last, f.body_first, f.body_last, f.stub) == (0, 3, 4, 4,
                                                                                   True)


@pytest.mark.parametrize(
    ("action", "where", "target", "guard", "head", "indent"),
    [
        pytest.param("generate", at(2), Region(2, 23, 2, 23), (2, 2), "\n", "", id="generate"),
        pytest.param("implement", at(6), Region(8, 0, 8, 7), (6, 8), "", "    ",
                     id="implement"),
        pytest.param("docstring", at(16), Region(16, 12, 16, 12), (16, 16), "\n", "    ",
                     id="docstring"),
        pytest.param("explain", at(16), Region(16, 0, 17, 12), (16, 17), "", "",
                     id="explain-function"),
    ],
)
def test_plan_regions(action: str, where: Region, target: Region, guard: tuple[int, int],
                      head: str, indent: str) -> None:
    p = plan(action, split_lines(PY), "python", where, S)
    assert (p.target, p.guard, p.edit_head, p.indent) == (target, guard, head, indent)
    before, after = p.before, p.after
    assert before + after == PY[: len(before)] + PY[len(before) + (len(PY) - len(before)
                                                                 - len(after)):]


@pytest.mark.parametrize(
    ("action", "where", "kwargs", "reason"),
    [
        pytest.param("generate", at(0), {}, "not on a comment", id="generate"),
        pytest.param("implement", at(17), {}, "already has a body", id="implement"),
        pytest.param("docstring", at(7), {}, "already documented", id="docstring"),
        pytest.param("fix", at(0), {}, "no diagnostic", id="fix"),
        pytest.param("rewrite", at(0), {}, "select the code", id="rewrite-no-selection"),
        pytest.param("rewrite", Region(0, 0, 1, 0), {}, "needs an instruction",
                     id="rewrite-no-instruction"),
        pytest.param("custom", Region(0, 0, 1, 0), {"index": 3}, "no custom action",
                     id="custom-missing"),
        pytest.param("launch", at(0), {}, "unknown action", id="unknown"),
    ],
)
def test_plan_says_why_not(action: str, where: Region, kwargs: dict[str, int],
                           reason: str) -> None:
    with pytest.raises(NotApplicable, match=reason):
        plan(action, split_lines(PY), "python", where, S, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "mode", "expected"),
    [
        pytest.param("Qwen/Qwen2.5-Coder-7B-Instruct", "auto", "chat", id="instruct"),
        pytest.param("meta-llama/CodeLlama-7b-chat-hf", "auto", "chat", id="chat"),
        pytest.param("google/codegemma-7b-it", "auto", "chat", id="it-suffix"),
        pytest.param("google/gemma-2-9b-it-GGUF", "auto", "chat", id="it-infix"),
        pytest.param("bigcode/starcoder2-15b", "auto", "fim", id="base"),
        pytest.param("bigcode/starcoder2-15b", "chat", "chat", id="forced-chat"),
        pytest.param("Qwen/Qwen2.5-Coder-7B-Instruct", "fim", "fim", id="forced-fim"),
        pytest.param("deepseek-ai/deepseek-coder-6.7b-base", "auto", "fim", id="split-not-it"),
    ],
)
def test_choose_mode(model: str, mode: str, expected: str) -> None:
    assert choose_mode(mode, model) == expected
    if mode == "auto":
        assert looks_instruct(model) == (expected == "chat")


def test_fill_leaves_unknown_braces() -> None:
    assert fill('{"a": {code}} {nope}', {"code": "x{y}"}) == '{"a": x{y}} {nope}'


def test_fim_parts_per_action() -> None:
    lines = split_lines(PY)
    p = plan("generate", lines, "python", at(2), S)
    prefix, suffix = fim_parts(p)
    assert prefix == "import os\n\n# parse the config file\n"
    assert suffix == "\nx = 1\n" + PY.split("x = 1\n", 1)[1]
    p = plan("rewrite", lines, "python", Region(16, 0, 18, 0), S, instruction="add hints")
    prefix, suffix = fim_parts(p)
    assert prefix.endswith("\n\n\n# add hints:\n")
    assert suffix == "\n"
    custom = parse_settings({"actions": {"fix": {"fimPrompt": "{before}# {diagnostic}!\n"}}})
    p = plan("fix", lines, "python", at(17), custom, diagnostic=Diagnostic("oops", 17, 17))
    assert fim_parts(p)[0].endswith("def done(a):\n# oops!\n")


def test_chat_messages() -> None:
    lines = split_lines(PY)
    p = plan("fix", lines, "python", at(17), S, diagnostic=Diagnostic("'a' is unbound", 17, 17))
    system, user = chat_messages(p, "src/app.py")
    assert system["role"] == "system" and "python" in system["content"]
    assert user["content"].startswith("A tool reports this problem in src/app.py: 'a' is unbound")
    assert "```python\n    return a\n```" in user["content"]
    custom = parse_settings({"actions": {"custom": [{"title": "T", "prompt": "Translate"}]}})
    p = plan("custom", lines, "python", Region(17, 0, 17, 12), custom)
    assert chat_messages(p)[1]["content"] == "Translate\n\n```python\n    return a\n```"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param("Sure! Here it is:\n```python\nx = 1\n```\nThis sets x.", "x = 1",
                     id="fence-and-prose"),
        pytest.param("```\nx = 1\ny = 2", "x = 1\ny = 2", id="unterminated-fence"),
        pytest.param("Here is the code:\nx = 1\n", "x = 1", id="no-fence-prose"),
        pytest.param("x = 1", "x = 1", id="bare"),
    ],
)
def test_extract_code(answer: str, expected: str) -> None:
    assert extract_code(answer) == expected


@pytest.mark.parametrize(
    ("code", "signature", "expected"),
    [
        pytest.param("def f(a):\n    return a", "def f(a):", "    return a", id="python"),
        pytest.param("def f(\n    a,\n):\n    return a", "def f(\n    a,\n):", "    return a",
                     id="python-multiline"),
        pytest.param("fn f() -> u8 {\n    1\n}", "fn f() -> u8 {", "    1", id="rust-braces"),
        pytest.param("return a", "def f(a):", "return a", id="not-repeated"),
    ],
)
def test_drop_signature(code: str, signature: str, expected: str) -> None:
    assert drop_signature(code, signature) == expected


def test_cut_block_and_reindent() -> None:
    assert cut_block("    a = 1\n    return a\ndef g():", "    ", "") == "    a = 1\n    return a"
    assert cut_block("x = 1\nprint(x)\nrest()", "", "\nrest()\n") == "x = 1\nprint(x)"
    assert reindent("if a:\n    b()\n", "  ") == "  if a:\n      b()"


@pytest.mark.parametrize(
    ("language", "header", "answer", "chat", "expected"),
    [
        pytest.param("python", "def f(a):\n    return a\n", "Return a.\"\"\"", False,
                     '\n    """Return a."""', id="py-fim-one-line"),
        pytest.param("python", "def f(a):\n    return a\n",
                     '```python\n"""Return a.\n\nArgs:\n    a: any.\n"""\n```', True,
                     '\n    """Return a.\n\n    Args:\n        a: any.\n    """', id="py-chat"),
        pytest.param("rust", "fn f() {}\n", "Does f.\n/// Really.\nfn g", False,
                     "/// Does f.\n/// Really.\n", id="rust-fim"),
        pytest.param("typescript", "function f() {}\n", "Does f.\n */\nfunction", False,
                     "/**\n * Does f.\n */\n", id="ts-fim"),
        pytest.param("go", "func F() {}\n", "F does it.", True, "// F does it.\n", id="go-chat"),
    ],
)
def test_docstring_output(language: str, header: str, answer: str, chat: bool,
                          expected: str) -> None:
    p = plan("docstring", split_lines(header), language, at(0), S)
    assert edit_text(p, answer, chat=chat) == expected


def test_implement_output_for_base_and_chat_models() -> None:
    p = plan("implement", split_lines(PY), "python", at(7), S)
    assert edit_text(p, "return a\n\n\ndef todo(a):", chat=False) == "    return a"
    chat = "```python\ndef stub(a):\n    \"\"\"Doc.\"\"\"\n    return a\n```"
    assert edit_text(p, chat, chat=True) == "    return a"
    assert edit_text(p, "<|endoftext|>", chat=False, tokens=("<|endoftext|>",)) is None


def test_explanation_of_a_base_model_keeps_its_comment_lines() -> None:
    p = plan("explain", split_lines(PY), "python", at(16), S)
    assert explanation(p, "returns a.\n# Nothing else.\nx = 2", chat=False) == (
        "returns a.\nNothing else."
    )


OLD = ["a\n", "b\n", "c\n", "d\n", "e"]


@pytest.mark.parametrize(
    ("new", "guard", "expected"),
    [
        pytest.param(OLD, (1, 2), 0, id="unchanged"),
        pytest.param(["x\n", "y\n", *OLD], (1, 2), 2, id="lines-added-above"),
        pytest.param(["b\n", "c\n", "d\n", "e"], (1, 2), -1, id="line-removed-above"),
        pytest.param([*OLD[:4], "e!"], (1, 2), 0, id="edit-below"),
        pytest.param(["a\n", "B\n", "c\n", "d\n", "e"], (1, 2), None, id="edit-inside"),
        pytest.param(["a\n", "b\n", "new\n", "c\n", "d\n", "e"], (1, 2), None,
                     id="line-inserted-inside"),
        pytest.param(["z\n", "a\n", "b\n", "c\n", "d\n", "e!"], (1, 2), 1,
                     id="edits-above-and-below"),
        pytest.param(["b\n", "c\n"], (0, 4), None, id="guard-gone"),
        pytest.param(OLD, (3, 9), None, id="guard-out-of-range"),
    ],
)
def test_reanchor(new: list[str], guard: tuple[int, int], expected: int | None) -> None:
    assert reanchor(OLD, new, guard) == expected


def test_reanchor_in_a_big_file_stays_fast_and_right() -> None:
    import time

    old = split_lines("".join(f"def f{i}(a):\n    return a + {i}\n\n\n" for i in range(5000)))
    typed = ["# a\n"] * 3 + old[:8000] + ["y = 1\n"] + old[8000:-5] + ["z\n"]
    started = time.perf_counter()
    assert reanchor(old, typed, (12000, 12001)) == 4  # 3 lines above, 1 between, 1 below
    changed = typed[: 12004] + ["    return 0\n"] + typed[12005:]
    assert reanchor(old, changed, (12000, 12001)) is None
    assert time.perf_counter() - started < 1.0
    same = ["x\n"] * 20000  # no line to anchor on and too much changed to diff: give up
    assert reanchor(same, ["y\n", *same[:10000], "q\n", *same[10000:], "z\n"],
                    (12000, 12000)) is None


def test_chat_settings_default_to_the_router_for_huggingface() -> None:
    hf = chat_settings(parse_settings({"model": "Qwen/Qwen2.5-Coder-7B-Instruct"}))
    assert (hf.backend, hf.url, hf.model, hf.fim.enabled) == (
        "openai", ROUTER_CHAT_URL, "Qwen/Qwen2.5-Coder-7B-Instruct", False
    )
    local = chat_settings(parse_settings({"backend": "tgi", "url": "http://h:1"}))
    assert local.url == "http://h:1"


def test_chat_settings_follow_the_router_and_the_provider() -> None:
    proxied = chat_settings(parse_settings({"url": "http://127.0.0.1:9", "provider": "nscale",
                                            "model": "Qwen/Qwen3-Coder-480B-A35B-Instruct"}))
    assert (proxied.url, proxied.model) == (
        "http://127.0.0.1:9/v1", "Qwen/Qwen3-Coder-480B-A35B-Instruct:nscale")
    seed = chat_settings(parse_settings({"url": "http://h/models/{model}"}))
    assert seed.url == ROUTER_CHAT_URL


def test_action_settings_are_validated() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"actions": {"mode": "magic", "docstring": {"maxNewTokens": 0},
                                    "custom": [{"title": " "}]}})
    message = str(caught.value)
    for part in ("hfLsp.actions.mode must be one of auto, fim, chat",
                 "hfLsp.actions.docstring.maxNewTokens must be from 1 to 32768",
                 "hfLsp.actions.custom[0].title must not be empty",
                 "hfLsp.actions.custom[0].prompt is required"):
        assert part in message
    assert json.dumps(parse_settings({}).actions.custom) == "[]"
