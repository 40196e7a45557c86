from __future__ import annotations

import json
import math
from typing import Any

import pytest

from hf_lsp.config.settings import (
    DEFAULT_MODEL,
    DEFAULT_URL,
    Settings,
    hub_endpoint,
    merge,
    parse_settings,
    resolve_url,
    to_json,
    unknown_keys,
)
from hf_lsp.errors import SettingsError

# --- defaults -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [pytest.param(None, id="none"), pytest.param({}, id="empty")])
def test_defaults(data: Any) -> None:
    s = parse_settings(data)
    assert s == Settings()
    assert s.backend == "huggingface"
    assert s.model == DEFAULT_MODEL == "Qwen/Qwen2.5-Coder-7B"
    assert s.provider == "auto" and s.provider_routing and s.streaming
    assert s.url is None
    assert s.endpoint() == DEFAULT_URL.format(model=DEFAULT_MODEL)
    assert s.api_token is None
    assert s.parameters.max_new_tokens is None
    assert s.parameters.temperature == 0.2
    assert s.parameters.top_p == 0.95
    assert s.parameters.return_full_text is False
    assert s.parameters.num_return_sequences == 1
    assert s.parameters.stop == []
    assert s.options.use_cache is True
    assert s.options.wait_for_model is False
    assert s.fim.enabled is True
    assert s.fim.template is None
    assert (s.fim.prefix, s.fim.suffix, s.fim.middle) == (None, None, None)
    assert s.context.max_prefix_lines == 120
    assert s.context.max_prefix_chars == 6000
    assert s.context.max_suffix_lines == 40
    assert s.context.max_suffix_chars == 2000
    assert s.context.include_file_path is True
    assert (
        s.max_new_tokens.mid_line,
        s.max_new_tokens.end_of_line,
        s.max_new_tokens.empty_line,
        s.max_new_tokens.block_opener,
    ) == (24, 64, 96, 160)
    assert s.cache.size == 512
    assert s.cache.ttl_seconds == 600
    assert s.request_timeout == 30.0
    assert s.endpoint() == "https://router.huggingface.co"


def test_defaults_are_not_shared_between_instances() -> None:
    a, b = parse_settings({}), parse_settings({})
    assert a.parameters.stop is not b.parameters.stop


# --- accepted values, by their wire names ---------------------------------------------------


@pytest.mark.parametrize(
    ("data", "attribute", "expected"),
    [
        pytest.param({"apiToken": "hf_abc"}, "api_token", "hf_abc", id="apiToken"),
        pytest.param({"model": "org/m"}, "model", "org/m", id="model"),
        pytest.param({"url": "http://127.0.0.1:8080"}, "url", "http://127.0.0.1:8080", id="url"),
        pytest.param({"requestTimeout": 5}, "request_timeout", 5.0, id="requestTimeout-int"),
        pytest.param({"requestTimeout": 0.1}, "request_timeout", 0.1, id="requestTimeout-min"),
        pytest.param({"maxNewTokens": {"midLine": 7}}, "max_new_tokens.mid_line", 7,
                     id="maxNewTokens.midLine"),
        pytest.param({"maxNewTokens": {"blockOpener": 4096}}, "max_new_tokens.block_opener",
                     4096, id="maxNewTokens.blockOpener-max"),
        pytest.param({"cache": {"ttlSeconds": 5}}, "cache.ttl_seconds", 5.0, id="cache.ttlSeconds"),
        pytest.param({"cache": {"size": 0}}, "cache.size", 0, id="cache.size-0"),
        pytest.param({"context": {"maxPrefixChars": 10}}, "context.max_prefix_chars", 10,
                     id="context.maxPrefixChars"),
        pytest.param({"context": {"includeFilePath": False}}, "context.include_file_path", False,
                     id="context.includeFilePath"),
        pytest.param({"parameters": {"max_new_tokens": 250}}, "parameters.max_new_tokens", 250,
                     id="parameters.max_new_tokens-max"),
        pytest.param({"parameters": {"max_new_tokens": 1}}, "parameters.max_new_tokens", 1,
                     id="parameters.max_new_tokens-min"),
        pytest.param({"parameters": {"max_new_tokens": None}}, "parameters.max_new_tokens", None,
                     id="parameters.max_new_tokens-null"),
        pytest.param({"parameters": {"temperature": 0}}, "parameters.temperature", 0.0,
                     id="parameters.temperature-0"),
        pytest.param({"parameters": {"temperature": 100}}, "parameters.temperature", 100.0,
                     id="parameters.temperature-100"),
        pytest.param({"parameters": {"top_p": 1}}, "parameters.top_p", 1.0, id="parameters.top_p"),
        pytest.param({"parameters": {"top_k": 40}}, "parameters.top_k", 40, id="parameters.top_k"),
        pytest.param({"parameters": {"stop": "\n\n"}}, "parameters.stop", ["\n\n"],
                     id="parameters.stop-string"),
        pytest.param({"parameters": {"stop": ["a", "b"]}}, "parameters.stop", ["a", "b"],
                     id="parameters.stop-list"),
        pytest.param({"parameters": {"do_sample": False}}, "parameters.do_sample", False,
                     id="parameters.do_sample"),
        pytest.param({"options": {"use_cache": False}}, "options.use_cache", False,
                     id="options.use_cache"),
        pytest.param({"options": {"wait_for_model": True}}, "options.wait_for_model", True,
                     id="options.wait_for_model"),
        pytest.param({"fim": {"template": "codellama"}}, "fim.template", "codellama",
                     id="fim.template"),
        pytest.param({"fim": {"enabled": False}}, "fim.enabled", False, id="fim.enabled"),
        pytest.param({"fim": {"prefix": "<a>", "suffix": "<b>", "middle": "<c>"}}, "fim.middle",
                     "<c>", id="fim.custom"),
    ],
)
def test_accepted(data: dict[str, Any], attribute: str, expected: Any) -> None:
    value: Any = parse_settings(data)
    for part in attribute.split("."):
        value = getattr(value, part)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"api_token": "x"}, id="snake-case-top-level"),
        pytest.param({"cache": {"ttl_seconds": 1}}, id="snake-case-nested"),
        pytest.param({"parameters": {"maxNewTokens": 5}}, id="camel-case-parameter"),
        pytest.param({"options": {"useCache": False}}, id="camel-case-option"),
    ],
)
def test_names_in_the_wrong_case_are_not_read(data: dict[str, Any]) -> None:
    assert parse_settings(data) == Settings()
    assert unknown_keys(data) != []


# --- rejected values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "path"),
    [
        pytest.param({"parameters": {"temperature": 101}}, "hfLsp.parameters.temperature",
                     id="temperature-101"),
        pytest.param({"parameters": {"temperature": -0.1}}, "hfLsp.parameters.temperature",
                     id="temperature-negative"),
        pytest.param({"parameters": {"temperature": math.nan}}, "hfLsp.parameters.temperature",
                     id="temperature-nan"),
        pytest.param({"parameters": {"temperature": "hot"}}, "hfLsp.parameters.temperature",
                     id="temperature-string"),
        pytest.param({"parameters": {"max_new_tokens": 251}}, "hfLsp.parameters.max_new_tokens",
                     id="max_new_tokens-251"),
        pytest.param({"parameters": {"max_new_tokens": 0}}, "hfLsp.parameters.max_new_tokens",
                     id="max_new_tokens-0"),
        pytest.param({"parameters": {"max_new_tokens": "10"}}, "hfLsp.parameters.max_new_tokens",
                     id="max_new_tokens-string"),
        pytest.param({"parameters": {"max_new_tokens": True}}, "hfLsp.parameters.max_new_tokens",
                     id="max_new_tokens-bool"),
        pytest.param({"parameters": {"max_new_tokens": 10.5}}, "hfLsp.parameters.max_new_tokens",
                     id="max_new_tokens-fraction"),
        pytest.param({"parameters": {"top_p": 2}}, "hfLsp.parameters.top_p", id="top_p-2"),
        pytest.param({"parameters": {"top_k": 0}}, "hfLsp.parameters.top_k", id="top_k-0"),
        pytest.param({"parameters": {"stop": [1]}}, "hfLsp.parameters.stop", id="stop-numbers"),
        pytest.param({"parameters": {"num_return_sequences": 11}},
                     "hfLsp.parameters.num_return_sequences", id="num_return_sequences-11"),
        pytest.param({"parameters": 5}, "hfLsp.parameters", id="parameters-not-object"),
        pytest.param({"options": {"use_cache": "yes"}}, "hfLsp.options.use_cache",
                     id="use_cache-string"),
        pytest.param({"options": {"wait_for_model": 1}}, "hfLsp.options.wait_for_model",
                     id="wait_for_model-int"),
        pytest.param({"url": "ftp://x"}, "hfLsp.url", id="url-ftp"),
        pytest.param({"url": "router.huggingface.co"}, "hfLsp.url", id="url-no-scheme"),
        pytest.param({"url": "https://x/{mode}"}, "hfLsp.url", id="url-unknown-placeholder"),
        pytest.param({"url": 5}, "hfLsp.url", id="url-number"),
        pytest.param({"model": "  "}, "hfLsp.model", id="model-blank"),
        pytest.param({"backend": "nope"}, "hfLsp.backend", id="backend-unknown"),
        pytest.param({"apiToken": 5}, "hfLsp.apiToken", id="apiToken-number"),
        pytest.param({"fim": {"template": "nope"}}, "hfLsp.fim.template", id="fim.template-nope"),
        pytest.param({"fim": {"prefix": "<a>"}}, "hfLsp.fim", id="fim-custom-prefix-only"),
        pytest.param({"fim": {"prefix": "<a>", "suffix": "<b>", "middle": ""}}, "hfLsp.fim",
                     id="fim-custom-empty-middle"),
        pytest.param({"fim": {"enabled": "yes"}}, "hfLsp.fim.enabled", id="fim.enabled-string"),
        pytest.param({"maxNewTokens": {"midLine": 0}}, "hfLsp.maxNewTokens.midLine",
                     id="maxNewTokens.midLine-0"),
        pytest.param({"maxNewTokens": {"endOfLine": 4097}}, "hfLsp.maxNewTokens.endOfLine",
                     id="maxNewTokens.endOfLine-4097"),
        pytest.param({"cache": {"ttlSeconds": -1}}, "hfLsp.cache.ttlSeconds",
                     id="cache.ttlSeconds-negative"),
        pytest.param({"cache": {"size": -1}}, "hfLsp.cache.size", id="cache.size-negative"),
        pytest.param({"context": {"maxSuffixLines": "40"}}, "hfLsp.context.maxSuffixLines",
                     id="context.maxSuffixLines-string"),
        pytest.param({"requestTimeout": 0}, "hfLsp.requestTimeout", id="requestTimeout-0"),
        pytest.param({"requestTimeout": 601}, "hfLsp.requestTimeout", id="requestTimeout-601"),
    ],
)
def test_rejected_with_one_message_naming_the_setting(data: dict[str, Any], path: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    message = str(info.value)
    assert message.startswith(path + " ") or message.startswith(path + ":"), message
    assert ";" not in message  # one problem, one message
    assert "\x00" not in message
    assert " @ " not in message  # no cattrs internals


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param({"parameters": {"temperature": 101}}, "from 0 to 100", id="range"),
        pytest.param({"parameters": {"max_new_tokens": "10"}}, "a whole number", id="int-type"),
        pytest.param({"parameters": {"max_new_tokens": True}}, "(got True)", id="bool-not-int"),
        pytest.param({"options": {"use_cache": "yes"}}, "true or false", id="bool-type"),
        pytest.param({"fim": {"template": "nope"}}, "one of starcoder", id="choices"),
        pytest.param({"url": "ftp://x"}, "'ftp://x'", id="url-echoed"),
        pytest.param({"fim": {"prefix": "<a>"}}, "prefix, suffix and middle", id="fim-custom"),
    ],
)
def test_message_says_what_is_wrong(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        pytest.param(
            {"parameters": {"temperature": 101, "top_p": 2}},
            ["hfLsp.parameters.temperature", "hfLsp.parameters.top_p"],
            id="two-ranges-in-one-object",
        ),
        pytest.param(
            {"parameters": {"max_new_tokens": "10", "temperature": 101}},
            ["hfLsp.parameters.max_new_tokens", "hfLsp.parameters.temperature"],
            id="type-and-range-in-one-object",
        ),
        pytest.param(
            {"requestTimeout": 0, "cache": {"ttlSeconds": -1}},
            ["hfLsp.requestTimeout", "hfLsp.cache.ttlSeconds"],
            id="top-level-and-nested",
        ),
        pytest.param(
            {"url": "ftp://x", "parameters": {"temperature": 101}},
            ["hfLsp.url", "hfLsp.parameters.temperature"],
            id="url-and-range",
        ),
        pytest.param(
            {"model": " ", "fim": {"prefix": "<a>"}, "apiToken": 5},
            ["hfLsp.model", "hfLsp.fim", "hfLsp.apiToken"],
            id="model-fim-token",
        ),
        pytest.param(
            {
                "url": "ftp://x",
                "model": "",
                "apiToken": 1,
                "parameters": {"temperature": 101, "top_p": 2, "max_new_tokens": 0},
                "options": {"use_cache": "no"},
                "fim": {"template": "nope", "suffix": "<s>"},
                "maxNewTokens": {"midLine": 0, "emptyLine": "x"},
                "cache": {"size": -1},
                "context": {"maxPrefixLines": -1},
                "requestTimeout": 1000,
            },
            [
                "hfLsp.url", "hfLsp.model", "hfLsp.apiToken", "hfLsp.parameters.temperature",
                "hfLsp.parameters.top_p", "hfLsp.parameters.max_new_tokens",
                "hfLsp.options.use_cache", "hfLsp.fim.template", "hfLsp.fim:",
                "hfLsp.maxNewTokens.midLine", "hfLsp.maxNewTokens.emptyLine", "hfLsp.cache.size",
                "hfLsp.context.maxPrefixLines", "hfLsp.requestTimeout",
            ],
            id="everything-wrong",
        ),
    ],
)
def test_several_bad_settings_are_all_named(data: dict[str, Any], paths: list[str]) -> None:
    with pytest.raises(SettingsError) as info:
        parse_settings(data)
    problems = str(info.value).split("; ")
    assert len(problems) == len(paths), problems
    for path in paths:
        assert sum(p.startswith(path) and not p.startswith(path + ".") for p in problems) == 1, (
            path,
            problems,
        )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([], id="list"),
        pytest.param("hfLsp", id="string"),
        pytest.param(3, id="number"),
    ],
)
def test_not_an_object(data: Any) -> None:
    with pytest.raises(SettingsError, match=r"^hfLsp: settings must be a JSON object"):
        parse_settings(data)


# --- resolve_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "model", "expected"),
    [
        pytest.param("https://router.huggingface.co/hf-inference/models/{model}",
                     "bigcode/starcoder2-15b",
                     "https://router.huggingface.co/hf-inference/models/bigcode/starcoder2-15b",
                     id="hf-inference-template"),
        pytest.param("https://h/v1/{model}/generate", "org/m", "https://h/v1/org/m/generate",
                     id="placeholder-in-the-middle"),
        pytest.param("https://h/{model}/{model}", "m", "https://h/m/m", id="placeholder-twice"),
        pytest.param("https://h/models/org/id", "other/model", "https://h/models/org/id",
                     id="models-org-id-as-is"),
        pytest.param("https://h/models/org/id/", "other/model", "https://h/models/org/id",
                     id="models-org-id-trailing-slash"),
        pytest.param("https://h/models/gpt2", "other/model", "https://h/models/gpt2",
                     id="models-id-as-is"),
        pytest.param("https://api-inference.huggingface.co", "org/m",
                     "https://api-inference.huggingface.co/models/org/m", id="legacy-base"),
        pytest.param("https://api-inference.huggingface.co/", "org/m",
                     "https://api-inference.huggingface.co/models/org/m", id="legacy-base-slash"),
        pytest.param("https://api-inference.huggingface.co///", "org/m",
                     "https://api-inference.huggingface.co/models/org/m",
                     id="legacy-base-many-slashes"),
        pytest.param("https://api-inference.huggingface.co/models/", "org/m",
                     "https://api-inference.huggingface.co/models/org/m",
                     id="legacy-base-with-models"),
        pytest.param("  https://h  ", "m", "https://h/models/m", id="surrounding-space"),
        pytest.param("http://127.0.0.1:8080", "m", "http://127.0.0.1:8080/models/m",
                     id="local-base"),
    ],
)
def test_resolve_url(url: str, model: str, expected: str) -> None:
    assert resolve_url(url, model) == expected


def test_endpoint_uses_the_model_setting() -> None:
    s = parse_settings({"model": "Qwen/Qwen2.5-Coder-7B",
                        "url": "https://router.huggingface.co/hf-inference/models/{model}"})
    assert s.endpoint() == "https://router.huggingface.co/hf-inference/models/Qwen/Qwen2.5-Coder-7B"
    assert not s.provider_routing and not s.streaming


@pytest.mark.parametrize(
    ("url", "endpoint", "routing"),
    [
        pytest.param(None, DEFAULT_URL, True, id="default"),
        pytest.param("http://127.0.0.1:9/", "http://127.0.0.1:9", True, id="router-base"),
        pytest.param("https://api-inference.huggingface.co", DEFAULT_URL, True, id="legacy"),
        pytest.param("https://api-inference.huggingface.co/models/org/m", DEFAULT_URL, True,
                     id="legacy-model-url"),
        pytest.param("http://h/models/org/m", "http://h/models/org/m", False, id="model-url"),
        pytest.param("http://h/{model}/x", "http://h/org/m/x", False, id="template"),
    ],
)
def test_huggingface_url_forms(url: str | None, endpoint: str, routing: bool) -> None:
    s = parse_settings({"model": "org/m", **({"url": url} if url else {})})
    assert (s.endpoint(), s.provider_routing, s.streaming) == (endpoint, routing, routing)


def test_hub_endpoint_from_setting_env_or_default() -> None:
    assert hub_endpoint(None, {}) == "https://huggingface.co"
    assert hub_endpoint(None, {"HF_ENDPOINT": "http://mirror/"}) == "http://mirror"
    s = parse_settings({"hubUrl": "http://127.0.0.1:1"})
    assert hub_endpoint(s, {"HF_ENDPOINT": "http://mirror"}) == "http://127.0.0.1:1"


# --- merge ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "top", "expected"),
    [
        pytest.param({}, {}, {}, id="empty"),
        pytest.param({"model": "a"}, {"model": "b"}, {"model": "b"}, id="top-wins"),
        pytest.param({"model": "a"}, {"model": None}, {"model": "a"}, id="null-ignored"),
        pytest.param({}, {"model": None}, {}, id="null-not-added"),
        pytest.param({"model": "a"}, {"url": "u"}, {"model": "a", "url": "u"}, id="union"),
        pytest.param(
            {"parameters": {"temperature": 0.1, "top_k": 5}},
            {"parameters": {"temperature": 0.5}},
            {"parameters": {"temperature": 0.5, "top_k": 5}},
            id="deep",
        ),
        pytest.param(
            {"parameters": {"top_k": 5}},
            {"parameters": {"top_k": None}},
            {"parameters": {"top_k": 5}},
            id="deep-null-ignored",
        ),
        pytest.param(
            {"a": {"b": {"c": 1, "d": 2}}},
            {"a": {"b": {"d": 3}}},
            {"a": {"b": {"c": 1, "d": 3}}},
            id="three-levels",
        ),
        pytest.param({"parameters": 5}, {"parameters": {"top_k": 1}},
                     {"parameters": {"top_k": 1}}, id="object-over-scalar"),
        pytest.param({"parameters": {"top_k": 1}}, {"parameters": 5}, {"parameters": 5},
                     id="scalar-over-object"),
        pytest.param({"parameters": {"stop": ["a"]}}, {"parameters": {"stop": ["b"]}},
                     {"parameters": {"stop": ["b"]}}, id="lists-replaced"),
    ],
)
def test_merge(base: dict[str, Any], top: dict[str, Any], expected: dict[str, Any]) -> None:
    before = json.dumps(base, sort_keys=True), json.dumps(top, sort_keys=True)
    assert merge(base, top) == expected
    assert (json.dumps(base, sort_keys=True), json.dumps(top, sort_keys=True)) == before


# --- unknown_keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({}, [], id="empty"),
        pytest.param(None, [], id="none"),
        pytest.param(
            {"apiToken": "x", "parameters": {"max_new_tokens": 5}, "cache": {"ttlSeconds": 1},
             "maxNewTokens": {"midLine": 3}, "options": {"use_cache": True}},
            [],
            id="all-known",
        ),
        pytest.param({"modle": "x"}, ["hfLsp.modle"], id="typo"),
        pytest.param({"api_token": "x"}, ["hfLsp.api_token"], id="snake-case"),
        pytest.param({"parameters": {"maxNewTokens": 5}}, ["hfLsp.parameters.maxNewTokens"],
                     id="camel-case-parameter"),
        pytest.param({"cache": {"ttl_seconds": 1}}, ["hfLsp.cache.ttl_seconds"],
                     id="snake-case-nested"),
        pytest.param({"foo": {"bar": 1}}, ["hfLsp.foo"], id="unknown-object-not-descended"),
        pytest.param({"fim": 5}, [], id="wrong-type-is-not-unknown"),
        pytest.param(
            {"a": 1, "context": {"b": 2, "maxPrefixLines": 1}, "maxNewTokens": {"mid_line": 3}},
            ["hfLsp.a", "hfLsp.context.b", "hfLsp.maxNewTokens.mid_line"],
            id="several",
        ),
    ],
)
def test_unknown_keys(data: Any, expected: list[str]) -> None:
    assert unknown_keys(data) == expected


# --- to_json ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("hf_SecretTokenForToJson0123456789", id="hf-token"),
        pytest.param("plain-secret-value", id="other-token"),
    ],
)
def test_to_json_never_contains_the_token(token: str) -> None:
    s = parse_settings({"apiToken": token})
    assert s.api_token == token
    data = to_json(s)
    assert "apiToken" not in data
    assert token not in json.dumps(data)


def test_to_json_round_trips_with_wire_names() -> None:
    raw = {
        "model": "org/m",
        "parameters": {"max_new_tokens": 12, "stop": ["x"]},
        "options": {"use_cache": False},
        "maxNewTokens": {"midLine": 3},
        "cache": {"ttlSeconds": 9},
        "requestTimeout": 7,
    }
    s = parse_settings(raw)
    data = to_json(s)
    assert data["parameters"]["max_new_tokens"] == 12
    assert data["options"]["use_cache"] is False
    assert data["maxNewTokens"]["midLine"] == 3
    assert data["cache"]["ttlSeconds"] == 9
    assert data["requestTimeout"] == 7
    assert unknown_keys(data) == []
    assert parse_settings(json.loads(json.dumps(data))) == s


@pytest.mark.parametrize(
    ("backend", "allowed"),
    [
        pytest.param("huggingface", False, id="serverless-cap-250"),
        pytest.param("tgi", True, id="tgi-no-serverless-cap"),
        pytest.param("ollama", True, id="ollama-no-serverless-cap"),
    ],
)
def test_serverless_cap_applies_to_the_huggingface_backend_only(
    backend: str, allowed: bool
) -> None:
    data = {"backend": backend, "parameters": {"max_new_tokens": 600}}
    if allowed:
        assert parse_settings(data).parameters.max_new_tokens == 600
    else:
        with pytest.raises(SettingsError, match=r"hfLsp\.parameters\.max_new_tokens.*250"):
            parse_settings(data)


@pytest.mark.parametrize(
    ("data", "endpoint"),
    [
        pytest.param({"backend": "tgi"}, "http://127.0.0.1:8080", id="tgi-default"),
        pytest.param({"backend": "openai", "url": "http://h:8000/v1/"}, "http://h:8000/v1",
                     id="openai-given"),
        pytest.param({"backend": "ollama"}, "http://127.0.0.1:11434", id="ollama-default"),
        pytest.param({"backend": "llamacpp", "url": "http://h:9/"}, "http://h:9",
                     id="llamacpp-given"),
    ],
)
def test_endpoint_per_backend(data: dict[str, Any], endpoint: str) -> None:
    assert parse_settings(data).endpoint() == endpoint


@pytest.mark.parametrize(
    ("data", "path"),
    [
        pytest.param({"requestBody": [1]}, "hfLsp.requestBody", id="requestBody-list"),
        pytest.param({"network": {"proxy": "nope"}}, "hfLsp.network.proxy", id="proxy"),
        pytest.param({"rateLimit": {"maxConcurrent": 0}}, "hfLsp.rateLimit.maxConcurrent",
                     id="maxConcurrent-0"),
        pytest.param({"stream": "yes"}, "hfLsp.stream", id="stream-string"),
    ],
)
def test_backend_settings_are_validated(data: dict[str, Any], path: str) -> None:
    with pytest.raises(SettingsError, match=path.replace(".", r"\.")):
        parse_settings(data)
