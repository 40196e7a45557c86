"""Fill-in-the-middle through a chat model: the prompt, and golden instruct-model answers.

tests/golden/chat_fim.json holds answers in the shapes instruction models give: fenced with
and without a language, prose around the code, repeated prefix or suffix lines, the whole
function or file echoed with the hole filled, leaked FIM tokens, nothing but prose. Each is
cleaned by ``clean_fim_answer`` and then by the engine's usual post-processing, as an inline
completion is; ``expected`` is what the editor inserts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hf_lsp.completion.chat_fim import HOLE, clean_fim_answer, fim_messages
from hf_lsp.generation.fim_templates import COMMON_SPECIAL, TEMPLATES
from hf_lsp.language.postprocess import Cleanup, clean

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "chat_fim.json"
CASES = json.loads(GOLDEN.read_text(encoding="utf-8"))


def inserted(case: dict[str, Any]) -> str:
    prefix, suffix = case["prefix"], case["suffix"]
    template = TEMPLATES["qwen"]
    line_after = suffix.split("\n", 1)[0]
    cleanup = Cleanup(
        prompt=template.render(prefix, suffix),
        prefix=prefix,
        suffix=suffix,
        line_after=line_after,
        stops=(),
        special_tokens=tuple(dict.fromkeys((*template.special_tokens, *COMMON_SPECIAL))),
        single_line=bool(line_after.strip()),
        language_id=case.get("language", ""),
    )
    return clean(clean_fim_answer(case["answer"], prefix, suffix), cleanup)


def test_the_golden_file_covers_each_shape() -> None:
    ids = {case["id"] for case in CASES}
    assert len(ids) == len(CASES) >= 20
    for shape in ("fenced-with-language", "fenced-without-language", "prose-before",
                  "prose-after", "cursor-line-repeated", "suffix-lines-repeated",
                  "whole-function-echoed", "whole-file-echoed", "fim-middle-token-leaked",
                  "empty-answer", "only-prose", "tabs-file-spaces-answer"):
        assert shape in ids


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_golden_answer(case: dict[str, Any]) -> None:
    assert inserted(case) == case["expected"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_cleaning_is_idempotent_on_plain_code(case: dict[str, Any]) -> None:
    """An answer that is already only the missing code comes through as it is."""
    if not case["expected"] or case["expected"].startswith("\n"):
        return
    plain = {**case, "answer": case["expected"]}
    assert inserted(plain) == case["expected"]


def test_messages_mark_the_hole_and_name_the_file() -> None:
    system, user = fim_messages("def f(x):\n    ", "\n\nf(1)\n", language="python",
                                path="src/app.py")
    assert system["role"] == "system" and "only the code that goes in the hole" in system["content"]
    assert user["role"] == "user"
    content = user["content"]
    assert "python file (src/app.py)" in content
    assert f"```python\ndef f(x):\n    {HOLE}\n\nf(1)\n```" in content
    assert content.count(HOLE) == 2  # the instruction names it, the code holds it once


def test_messages_without_language_or_path() -> None:
    _, user = fim_messages("a = ", "", language=None, path=None)
    assert user["content"].startswith(f"Fill in the hole {HOLE} in this file:")
    assert "The hole is at the end of a line" in user["content"]


def test_messages_say_when_the_hole_is_inside_a_line() -> None:
    _, user = fim_messages("print(", ")\n", language="python", path=None)
    assert "inside a line" in user["content"]


def test_a_file_with_fences_gets_a_longer_fence() -> None:
    _, user = fim_messages("Text\n```sh\nls\n```\n", "", language="markdown", path="README.md")
    assert "````markdown\nText\n```sh" in user["content"]


@pytest.mark.parametrize("answer", ["", "   \n", "```\n\n```", "<|im_end|>", "<think>hmm"])
def test_nothing_in_the_answer_is_nothing_inserted(answer: str) -> None:
    assert clean_fim_answer(answer, "x = ", "\n") == ""


def test_bad_input_does_not_raise() -> None:
    for answer in ("```", "`", "```python", "\x00\ufffd", "}" * 50, "\n" * 20 + "x"):
        for prefix, suffix in (("", ""), ("\t", "\n"), ("a(", ")"), ("\n\n", "\n\n")):
            assert isinstance(clean_fim_answer(answer, prefix, suffix), str)


_PIECES = st.sampled_from([
    "```", "```python\n", "\n```", "\n", "    ", "\t", "Here is the code:", "<|fim_middle|>",
    "<|im_end|>", HOLE, "<think>", "</think>", "return a + b", "def f(x):", "}", ")", "(",
    "`x`", "I can't determine this.", "print(f(1))", "x = ",
])
_TEXT = st.lists(_PIECES, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(answer=_TEXT, prefix=_TEXT, suffix=_TEXT)
def test_any_answer_is_cleaned_without_raising(answer: str, prefix: str, suffix: str) -> None:
    text = clean_fim_answer(answer, prefix, suffix)
    assert isinstance(text, str)
    for marker in (HOLE, "<|fim_middle|>", "<|im_end|>", "<think>", "</think>"):
        assert marker not in text
