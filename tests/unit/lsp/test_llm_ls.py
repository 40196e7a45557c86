"""llm-ls request params → hf-lsp settings (``overrides``): every drop-in field, table tests."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hf_lsp.config.settings import merge, parse_settings
from hf_lsp.lsp.features.llm_ls import invoked, overrides

# what llm.nvim sends when the user changed nothing
DEFAULTS: dict[str, Any] = {
    "model": "bigcode/starcoder2-15b",
    "backend": "huggingface",
    "url": None,
    "tokensToClear": ["<|endoftext|>"],
    "tlsSkipVerifyInsecure": False,
    "disableUrlPathCompletion": False,
    "tokenizerConfig": None,
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"tokensToClear": ["<EOT>", "<pad>"]}, {"tokensToClear": ["<EOT>", "<pad>"]},
                     id="tokens-to-clear"),
        pytest.param({"tokensToClear": ["", 3, "<pad>"]}, {"tokensToClear": ["<pad>"]},
                     id="tokens-to-clear-only-strings"),
        pytest.param({"tokensToClear": []}, {}, id="tokens-to-clear-empty"),
        pytest.param({"tokensToClear": "<pad>"}, {}, id="tokens-to-clear-not-a-list"),
        pytest.param({"tlsSkipVerifyInsecure": True}, {"network": {"tlsVerify": False}},
                     id="tls-skip"),
        pytest.param({"tlsSkipVerifyInsecure": False}, {}, id="tls-default-leaves-it"),
        pytest.param({"tlsSkipVerifyInsecure": "yes"}, {}, id="tls-not-a-boolean"),
        pytest.param({"disableUrlPathCompletion": True}, {"urlPathCompletion": False},
                     id="verbatim-url"),
        pytest.param({"disableUrlPathCompletion": False}, {}, id="url-default-leaves-it"),
        pytest.param({"tokenizerConfig": {"path": "/t/tokenizer.json"}},
                     {"tokens": {"tokenizerPath": "/t/tokenizer.json"}}, id="tokenizer-path"),
        pytest.param({"tokenizerConfig": {"repository": "bigcode/starcoder2-3b"}},
                     {"tokens": {"tokenizerRepository": "bigcode/starcoder2-3b"}},
                     id="tokenizer-repository"),
        pytest.param({"tokenizerConfig": {"url": "https://example.com/tokenizer.json",
                                          "to": "/t/tokenizer.json"}},
                     {"tokens": {"tokenizerPath": "/t/tokenizer.json",
                                 "tokenizerUrl": "https://example.com/tokenizer.json"}},
                     id="tokenizer-url-to"),
        pytest.param({"tokenizerConfig": {"url": "https://example.com/tokenizer.json"}}, {},
                     id="tokenizer-url-without-to"),
        pytest.param({"tokenizerConfig": None}, {}, id="tokenizer-none"),
    ],
)
def test_each_llm_ls_field_maps_to_its_setting(
    fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    out = overrides(fields, set())
    assert out == expected
    parse_settings(out)  # whatever is mapped is a valid settings layer


def test_the_usual_request_is_a_valid_layer_that_changes_nothing_it_does_not_name() -> None:
    user = {"network": {"tlsVerify": False}, "urlPathCompletion": False,
            "url": "http://127.0.0.1:1/generate"}
    out = overrides({**DEFAULTS, "contextWindow": 2048}, set())
    assert "network" not in out and "urlPathCompletion" not in out
    settings = parse_settings(merge(user, out))
    assert settings.tokens_to_clear == ["<|endoftext|>"]
    assert settings.tokens.context_window == 2048
    # llm-ls's `false` defaults do not undo what the user set for hf-lsp
    assert (settings.network.tls_verify, settings.url_path_completion) == (False, False)


def test_a_verbatim_url_is_used_as_written() -> None:
    out = overrides({**DEFAULTS, "backend": "tgi", "url": "http://127.0.0.1:8080/generate",
                     "disableUrlPathCompletion": True}, set())
    settings = parse_settings(out)
    assert settings.verbatim
    assert settings.endpoint() == "http://127.0.0.1:8080/generate"


@pytest.mark.parametrize(
    ("data", "endpoint"),
    [
        pytest.param({"url": "http://h/x/"}, "http://h/x/", id="kept-as-written"),
        pytest.param({"backend": "huggingface", "url": "http://h/generate"},
                     "http://h/generate", id="hf-no-models-appended"),
        pytest.param({"backend": "huggingface", "url": "http://h/m/{model}/generate"},
                     "http://h/m/org/m/generate", id="model-filled-in"),
        pytest.param({"backend": "tgi"}, "http://127.0.0.1:8080", id="no-url-no-effect"),
    ],
)
def test_endpoint_with_url_path_completion_off(data: dict[str, Any], endpoint: str) -> None:
    settings = parse_settings({"backend": "tgi", "model": "org/m", **data,
                               "urlPathCompletion": False})
    assert settings.endpoint() == endpoint


def test_an_unknown_tokenizer_config_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    said: set[str] = set()
    with caplog.at_level(logging.INFO, logger="hf_lsp.lsp.features.llm_ls"):
        for _ in range(3):
            assert overrides({"tokenizerConfig": {"file": "x"}}, said) == {}
            overrides({"tokenizerConfig": {"repository": "o/m", "api_token": "hf_x"}}, said)
    assert len([r for r in caplog.records if "names no path" in r.message]) == 1
    assert len([r for r in caplog.records if "api_token is not used" in r.message]) == 1
    assert all("hf_x" not in r.getMessage() for r in caplog.records)


def test_a_get_completions_request_is_invoked_only_when_it_says_so() -> None:
    assert not invoked({"position": {"line": 0, "character": 0}})  # llm-ls's own params
    assert invoked({"triggerKind": 1}) and invoked({"context": {"triggerKind": 1}})
    assert not invoked({"triggerKind": 2}) and not invoked({"triggerKind": True})
