"""The loopback Inference Providers fake: the Hub's mapping API and the router's routes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fake_router import DEPLETED, GONE, INVALID_CREDENTIALS, FakeRouter, entry

TOKEN = "hf_fakeRouterToken0123456789abcdef"
CODER = "Qwen/Qwen2.5-Coder-7B"
INSTRUCT = "Qwen/Qwen2.5-Coder-32B-Instruct"
MAPPINGS = {
    CODER: [entry("featherless-ai", "featherless/qwen-coder-7b"),
            entry("together", "together/qwen-coder-7b", status="staging")],
    INSTRUCT: [entry("nscale", "nscale/qwen-instruct", task="conversational")],
    "org/small": [entry("hf-inference", "org/small")],
}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def router() -> Iterator[FakeRouter]:
    with FakeRouter(mappings=MAPPINGS) as server:
        yield server


def mapping_of(router: FakeRouter, model: str, **kwargs: object) -> httpx.Response:
    return httpx.get(f"{router.base_url}/api/models/{model}",
                     params={"expand[]": "inferenceProviderMapping"}, **kwargs)  # type: ignore[arg-type]


def test_mapping_as_an_object_keyed_by_provider(router: FakeRouter) -> None:
    answer = mapping_of(router, CODER).json()
    assert answer["id"] == CODER
    assert answer["inferenceProviderMapping"]["featherless-ai"] == {
        "status": "live", "providerId": "featherless/qwen-coder-7b", "task": "text-generation",
        "isModelAuthor": False}


def test_mapping_as_a_list(router: FakeRouter) -> None:
    router.list_shape = True
    listed = mapping_of(router, CODER, headers=AUTH).json()["inferenceProviderMapping"]
    assert [e["provider"] for e in listed] == ["featherless-ai", "together"]
    assert listed[1]["status"] == "staging"


def test_mapping_errors(router: FakeRouter) -> None:
    assert mapping_of(router, "org/none").status_code == 404
    bad = mapping_of(router, CODER, headers={"Authorization": "Bearer hf_wrong"})
    assert (bad.status_code, bad.json()) == (401, {"error": INVALID_CREDENTIALS})


def post(router: FakeRouter, path: str, body: dict[str, object],
         headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(router.base_url + path, json=body,
                      headers=AUTH if headers is None else headers)


def test_raw_route_of_each_provider(router: FakeRouter) -> None:
    ok = post(router, "/featherless-ai/v1/completions",
              {"model": "featherless/qwen-coder-7b", "prompt": "def f():", "max_tokens": 3})
    assert ok.status_code == 200 and ok.json()["choices"][0]["text"] == "return a +"
    wrong = post(router, "/featherless-ai/v1/completions", {"model": CODER, "prompt": "x"})
    assert wrong.json() == {"error": "Model not supported by provider featherless-ai"}
    # together lists it only as staging: the router does not route there
    assert post(router, "/together/v1/completions",
                {"model": "together/qwen-coder-7b", "prompt": "x"}).status_code == 400
    for path in ("/deepinfra/v1/openai/completions", "/novita/v3/openai/completions"):
        assert post(router, path, {"model": "m", "prompt": "x"}).status_code == 400


def test_streaming_raw_route(router: FakeRouter) -> None:
    answer = post(router, "/featherless-ai/v1/completions",
                  {"model": "featherless/qwen-coder-7b", "prompt": "x", "stream": True})
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text.rstrip().endswith("data: [DONE]")


def test_hf_inference_keeps_the_seed_body(router: FakeRouter) -> None:
    answer = post(router, "/hf-inference/models/org/small",
                  {"inputs": "x", "parameters": {"max_new_tokens": 2,
                                                 "return_full_text": False}})
    assert answer.json() == [{"generated_text": "return a"}]
    assert post(router, f"/hf-inference/models/{CODER}", {"inputs": "x"}).status_code == 400


def test_chat_route_with_provider_or_policy(router: FakeRouter) -> None:
    messages = [{"role": "user", "content": "hi"}]
    for model in (f"{INSTRUCT}:nscale", f"{INSTRUCT}:fastest", INSTRUCT):
        answer = post(router, "/v1/chat/completions", {"model": model, "messages": messages})
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"]
    other = post(router, "/v1/chat/completions",
                 {"model": f"{INSTRUCT}:together", "messages": messages})
    assert other.json() == {"error": "Model not supported by provider together"}
    none = post(router, "/v1/chat/completions", {"model": CODER, "messages": messages})
    assert none.json()["error"]["code"] == "model_not_supported"
    assert "not supported by any provider you have enabled" in none.json()["error"]["message"]


def test_account_errors(router: FakeRouter) -> None:
    body = {"model": "featherless/qwen-coder-7b", "prompt": "x"}
    path = "/featherless-ai/v1/completions"
    assert post(router, path, body, headers={}).json() == {"error": INVALID_CREDENTIALS}
    router.permission = False
    denied = post(router, path, body)
    assert denied.status_code == 403
    assert "does not have sufficient permissions to call Inference Providers" in denied.text
    router.permission, router.credits = True, False
    assert (post(router, path, body).status_code, post(router, path, body).json()) == (
        402, {"error": DEPLETED})
    router.legacy = True
    assert post(router, "/models/x", {"inputs": "x"}).json() == {"error": GONE}
