"""``hf-lsp models`` against the loopback listings, and the rules it decides by."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import clean_env
from fake_listing import ROUTER_MODELS, FakeListing

from hf_lsp.backends.catalog import (
    fim_family,
    is_code_model,
    mapping_entries,
    offers,
    price_of,
    router_base,
)
from hf_lsp.backends.listing import _next_link, is_hf_host
from hf_lsp.cli.main import main
from hf_lsp.config.settings import parse_settings

SECRET = "hf_listingSecretToken0123456789"


@pytest.fixture
def fake() -> Iterator[FakeListing]:
    with FakeListing() as server:
        yield server


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_LSP_SETTINGS",
                 "HF_HOME", "HF_TOKEN_PATH", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def run(capsys: pytest.CaptureFixture[str], fake: FakeListing, *args: str) -> tuple[int, str, str]:
    code = main(["models", "--router-url", fake.base_url, "--hub-url", fake.base_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()[1:]]


def test_table_lists_code_models_by_route(fake: FakeListing, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    code, out, err = run(capsys, fake)
    assert code == 0, err
    assert out.splitlines()[0].split() == [
        "ROUTE", "MODEL", "PROVIDER", "STATUS", "CONTEXT", "$IN/M", "$OUT/M", "FIM"]
    table = rows(out)
    assert ["fim", "Qwen/Qwen2.5-Coder-7B", "featherless-ai", "live", "-", "-", "-", "qwen"
            ] in table
    assert ["fim", "bigcode/starcoder2-15b", "nscale", "error", "-", "-", "-", "starcoder"
            ] in table
    # the router's figures for the same model and provider fill the FIM row
    assert ["fim", "Qwen/Qwen2.5-Coder-32B-Instruct", "featherless-ai", "live", "32768", "-",
            "-", "qwen"] in table
    assert ["fim", "ise-uiuc/Magicoder-S-DS-6.7B", "featherless-ai", "live", "-", "-", "-", "-"
            ] in table  # a coder without a template hf-lsp knows
    assert ["chat", "Qwen/Qwen3-Coder-480B-A35B-Instruct", "novita", "live", "262144", "0.95",
            "5", "qwen"] in table
    assert ["chat", "Qwen/Qwen2.5-Coder-32B-Instruct", "nscale", "live", "32768", "0.06", "0.2",
            "qwen"] in table
    models = {r[1] for r in table}
    assert "some-org/sql-helper-1b" in models  # by its `code` tag
    assert not models & {"mistralai/Mistral-7B-v0.3", "deepseek-ai/DeepSeek-V3",
                         "meta-llama/Llama-3.3-70B-Instruct"}
    routes = [r[0] for r in table]
    assert routes == sorted(routes, key=lambda r: r != "fim")  # FIM first
    hub = next(r for r in fake.requests if r.path == "/api/models")
    assert hub.query["inference_provider"] == ["all"]
    assert hub.query["pipeline_tag"] == ["text-generation"]
    assert "inferenceProviderMapping" in hub.query["expand[]"]


@pytest.mark.parametrize("route", ["fim", "chat"])
def test_route_filters(fake: FakeListing, capsys: pytest.CaptureFixture[str], route: str) -> None:
    code, out, _ = run(capsys, fake, f"--{route}")
    assert code == 0
    assert {r[0] for r in rows(out)} == {route}


def test_json(fake: FakeListing, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, fake, "--json", "--chat")
    data = json.loads(out)
    assert code == 0 and data["errors"] == []
    first = data["models"][0]
    assert first == {
        "model": "Qwen/Qwen2.5-Coder-32B-Instruct", "route": "chat", "provider": "featherless-ai",
        "status": "staging", "contextLength": 32768, "pricePerMillion": None, "fimFamily": "qwen",
    }
    assert data["models"][1]["pricePerMillion"] == {"input": 0.06, "output": 0.2}


def test_all_lists_every_model(fake: FakeListing, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, fake, "--all")
    assert "meta-llama/Llama-3.3-70B-Instruct" in out and "mistralai/Mistral-7B-v0.3" in out


def test_token_only_to_hugging_face_hosts(
    fake: FakeListing, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code, out, err = run(capsys, fake)
    assert code == 0
    assert all("authorization" not in r.headers for r in fake.requests)  # loopback: no token
    fake.requests.clear()
    monkeypatch.setenv("HF_ENDPOINT", fake.base_url)  # the user's own Hub mirror gets it
    code = main(["models", "--router-url", "http://127.0.0.1:9", "--fim"])
    out, err = capsys.readouterr()
    assert code == 0, err  # the router (prices only, for --fim) is unreachable: a warning
    assert "cannot reach http://127.0.0.1:9" in err and "Qwen/Qwen2.5-Coder-7B" in out
    assert [r.headers.get("authorization") for r in fake.requests] == [f"Bearer {SECRET}"]
    assert SECRET not in out + err


def test_router_base_from_the_settings_gets_the_token(
    fake: FakeListing, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"backend": "huggingface", "url": fake.base_url + "/v1",
                                    "apiToken": SECRET}))
    code = main(["models", "--settings", str(settings), "--hub-url", fake.base_url, "--chat"])
    out, err = capsys.readouterr()
    router = [r for r in fake.requests if r.path == "/v1/models"]
    assert code == 0 and router and router[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in out + err


def test_refused_token_is_explained_and_never_printed(
    fake: FakeListing, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    monkeypatch.setenv("HF_ENDPOINT", fake.base_url)
    fake.token = "hf_anotherToken000000000000"
    fake.fail("/v1/models", 401, f"Invalid credentials in Authorization header {SECRET}")
    code, out, err = run(capsys, fake, "--chat")
    assert code == 1
    assert "refused the token (401)" in err and SECRET not in out + err


@pytest.mark.parametrize(
    ("path", "route", "code"),
    [pytest.param("/api/models", "--chat", 0, id="hub-down-chat-still-listed"),
     pytest.param("/api/models", "--fim", 1, id="hub-down-fim-fails"),
     pytest.param("/v1/models", "--chat", 1, id="router-down-chat-fails")],
)
def test_http_errors(fake: FakeListing, capsys: pytest.CaptureFixture[str], path: str,
                     route: str, code: int) -> None:
    fake.fail(path, 500, "Internal Error")
    got, out, err = run(capsys, fake, route)
    assert got == code
    assert "answered 500: Internal Error" in err and "Traceback" not in err


def test_wrong_shape_is_a_message(fake: FakeListing, capsys: pytest.CaptureFixture[str]) -> None:
    fake.fail("/api/models", 200, raw="<html>proxy login</html>")
    code, _, err = run(capsys, fake, "--fim")
    assert code == 1 and "did not answer JSON" in err


def test_offline_is_a_clear_message_without_a_traceback(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hf_lsp", "models", "--router-url", "http://127.0.0.1:9",
         "--hub-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60, env=clean_env(tmp_path),
    )
    assert out.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in out.stderr and "Offline?" in out.stderr
    assert "Traceback" not in out.stderr


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "tags", "code", "family"),
    [
        pytest.param("Qwen/Qwen2.5-Coder-32B-Instruct", (), True, "qwen", id="qwen2.5-coder"),
        pytest.param("Qwen/Qwen3-Coder-30B-A3B-Instruct", (), True, "qwen", id="qwen3-coder"),
        pytest.param("bigcode/starcoder2-15b", (), True, "starcoder", id="starcoder2"),
        pytest.param("deepseek-ai/deepseek-coder-6.7b-base", (), True, "deepseek",
                     id="deepseek-coder"),
        pytest.param("codellama/CodeLlama-13b-hf", (), True, "codellama", id="codellama"),
        pytest.param("mistralai/Codestral-22B-v0.1", (), True, "codestral", id="codestral"),
        pytest.param("google/codegemma-7b", (), True, "codegemma", id="codegemma"),
        pytest.param("mistralai/Devstral-Small-2505", (), True, None, id="devstral-no-fim"),
        pytest.param("Qwen/Qwen3-235B-A22B", (), False, None, id="general-qwen"),
        pytest.param("deepseek-ai/DeepSeek-V3", (), False, None, id="general-deepseek"),
        pytest.param("acme/helper", ("code",), True, None, id="code-tag"),
        pytest.param("codellama-fans/llama-3", (), False, None, id="owner-only"),
    ],
)
def test_code_model_rule(model: str, tags: tuple[str, ...], code: bool, family: str | None
                         ) -> None:
    assert is_code_model(model, tags) is code
    if code:
        assert fim_family(model) == family


def test_mapping_both_shapes() -> None:
    as_list = [{"provider": "together", "providerId": "x", "status": "live", "task": "t"}]
    as_object = {"together": {"providerId": "x", "status": "live", "task": "t"}}
    assert mapping_entries(as_list) == mapping_entries(as_object) == as_list
    assert mapping_entries(None) == [] and mapping_entries(["junk", 3]) == []


def test_offers_ignore_bad_entries() -> None:
    router = {"data": [{"id": 3}, "x", {"id": "a/coder", "providers": [
        {"provider": "p", "pricing": {"input": "cheap", "output": -1}, "context_length": True},
        "junk"]}]}
    hub = [None, {"id": "b/coder", "inferenceProviderMapping": {"q": "junk"}}]
    (only,) = offers(router, hub)
    assert (only.model, only.status, only.context_length, only.price_in) == (
        "a/coder", "unknown", None, None)
    assert offers("not json", "neither") == []  # type: ignore[arg-type]


def test_price_of() -> None:
    data = {"object": "list", "data": ROUTER_MODELS}
    assert price_of(data, "Qwen/Qwen3-Coder-480B-A35B-Instruct", "together") == (2.0, 2.0)
    assert price_of(data, "Qwen/Qwen2.5-Coder-32B-Instruct", "featherless-ai") is None
    assert price_of(data, "nope/nope", "together") is None and price_of(None, "a", "b") is None


@pytest.mark.parametrize(
    ("url", "base"),
    [
        pytest.param("https://router.huggingface.co", "https://router.huggingface.co", id="root"),
        pytest.param("https://proxy.example/hf/v1/", "https://proxy.example/hf", id="v1"),
        pytest.param("https://router.huggingface.co/hf-inference/models/{model}", None,
                     id="model-route"),
        pytest.param("https://api-inference.huggingface.co", None, id="legacy"),
    ],
)
def test_router_base(url: str, base: str | None) -> None:
    assert router_base(parse_settings({"backend": "huggingface", "url": url})) == base
    assert router_base(parse_settings({"backend": "openai", "url": url})) is None


def test_hosts_and_links() -> None:
    assert is_hf_host("https://huggingface.co/api/models")
    assert is_hf_host("https://router.huggingface.co/v1") and is_hf_host("https://hf.co/x")
    assert not is_hf_host("https://huggingface.co.evil.example/")
    assert not is_hf_host("https://evilhuggingface.co/") and not is_hf_host("not a url")
    assert is_hf_host("http://127.0.0.1:5/x", ["http://127.0.0.1:5"])
    assert _next_link('<https://huggingface.co/api/models?cursor=a>; rel="next"') == (
        "https://huggingface.co/api/models?cursor=a")
    assert _next_link('<https://x/prev>; rel="prev"') is None and _next_link("") is None


@pytest.mark.parametrize("url", ["notaurl", "http://", "http://[::1", "ftp://x", "http://x:99999"])
def test_a_bad_url_is_a_message(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert main(["models", "--router-url", url]) == 2
    assert "--router-url must be an http:// or https:// URL" in capsys.readouterr().err
    assert main(["models", "--hub-url", url, "--router-url", "http://127.0.0.1:9"]) == 2
    assert "--hub-url must be" in capsys.readouterr().err
