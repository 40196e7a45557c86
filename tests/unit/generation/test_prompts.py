from __future__ import annotations

import pytest

from hf_lsp.generation.fim_templates import TEMPLATES, custom_template, template_for

PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        pytest.param(
            "starcoder",
            f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>",
            id="starcoder",
        ),
        pytest.param(
            "codellama",
            f"<PRE> {PREFIX} <SUF>{SUFFIX} <MID>",
            id="codellama-with-its-spaces",
        ),
        pytest.param(
            "deepseek",
            f"<\uff5cfim\u2581begin\uff5c>{PREFIX}<\uff5cfim\u2581hole\uff5c>{SUFFIX}"
            "<\uff5cfim\u2581end\uff5c>",
            id="deepseek-fullwidth-bar-and-lower-block",
        ),
        pytest.param(
            "qwen",
            f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
            id="qwen",
        ),
        pytest.param("codestral", f"[SUFFIX]{SUFFIX}[PREFIX]{PREFIX}", id="codestral-suffix-first"),
        pytest.param(
            "codegemma",
            f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>",
            id="codegemma",
        ),
    ],
)
def test_render(family: str, expected: str) -> None:
    assert TEMPLATES[family].render(PREFIX, SUFFIX) == expected


def test_codellama_spaces_exactly() -> None:
    assert TEMPLATES["codellama"].render("p", "s") == "<PRE> p <SUF>s <MID>"


def test_deepseek_uses_fullwidth_bar_and_lower_one_eighth_block() -> None:
    t = TEMPLATES["deepseek"]
    for marker in (t.prefix, t.suffix, t.middle):
        assert marker.startswith("<\uff5c") and marker.endswith("\uff5c>")
        assert "\u2581" in marker
        assert "|" not in marker and "_" not in marker


def test_codestral_has_no_middle_marker() -> None:
    assert TEMPLATES["codestral"].render("P", "S") == "[SUFFIX]S[PREFIX]P"


@pytest.mark.parametrize(
    ("family", "must_stop_on"),
    [
        pytest.param("starcoder", {"<|endoftext|>", "<file_sep>", "<fim_middle>"}, id="starcoder"),
        pytest.param("codellama", {"<EOT>", "<PRE>", "<SUF>", "<MID>"}, id="codellama"),
        pytest.param("deepseek", {"<\uff5cend\u2581of\u2581sentence\uff5c>"}, id="deepseek"),
        pytest.param("qwen", {"<|endoftext|>", "<|file_sep|>", "<|fim_pad|>"}, id="qwen"),
        pytest.param("codestral", {"</s>", "[PREFIX]", "[SUFFIX]"}, id="codestral"),
        pytest.param("codegemma", {"<|file_separator|>", "<eos>", "<|fim_middle|>"},
                     id="codegemma"),
    ],
)
def test_special_tokens(family: str, must_stop_on: set[str]) -> None:
    tokens = TEMPLATES[family].special_tokens
    assert must_stop_on <= set(tokens)
    assert len(tokens) == len(set(tokens))  # no duplicates
    assert all(t and t == t.strip() for t in tokens)  # no empty or padded marker


@pytest.mark.parametrize(
    ("model", "family"),
    [
        pytest.param("bigcode/starcoder2-15b", "starcoder", id="starcoder2"),
        pytest.param("bigcode/starcoderbase-1b", "starcoder", id="starcoderbase"),
        pytest.param("codellama/CodeLlama-7b-hf", "codellama", id="codellama"),
        pytest.param("meta-llama/CodeLlama-13b-hf", "codellama", id="codellama-meta"),
        pytest.param("deepseek-ai/deepseek-coder-6.7b-base", "deepseek", id="deepseek"),
        pytest.param("Qwen/Qwen2.5-Coder-7B", "qwen", id="qwen"),
        pytest.param("mistralai/Codestral-22B-v0.1", "codestral", id="codestral"),
        pytest.param("google/codegemma-7b", "codegemma", id="codegemma"),
        pytest.param("some-org/unknown-model", "starcoder", id="unknown"),
        pytest.param("", "starcoder", id="empty"),
    ],
)
def test_template_for_model(model: str, family: str) -> None:
    assert template_for(model).name == family


@pytest.mark.parametrize(
    ("model", "family"),
    [
        pytest.param("bigcode/starcoder2-15b", "codellama", id="override-starcoder"),
        pytest.param("my/fine-tune", "deepseek", id="override-unknown"),
        pytest.param("Qwen/Qwen2.5-Coder-7B", "codestral", id="override-qwen"),
    ],
)
def test_family_setting_wins(model: str, family: str) -> None:
    assert template_for(model, family) is TEMPLATES[family]


def test_template_names_match_keys() -> None:
    assert {name: t.name for name, t in TEMPLATES.items()} == {n: n for n in TEMPLATES}


def test_custom_template_keeps_the_base_stops() -> None:
    base = TEMPLATES["codellama"]
    t = custom_template("<A>", "<B>", "<C>", base)
    assert t.render("p", "s") == "<A>p<B>s<C>"
    assert t.stop == base.stop
    assert t.name == "custom"
    assert set(t.special_tokens) == {"<A>", "<B>", "<C>", *base.stop}
