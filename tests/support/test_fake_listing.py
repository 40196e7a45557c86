"""Tests for the loopback fake of the router's and the Hub's model listings."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fake_listing import FakeListing, hub_model


@pytest.fixture
def fake() -> Iterator[FakeListing]:
    with FakeListing(page=3) as server:
        yield server


def test_router_models_have_the_routers_shape(fake: FakeListing) -> None:
    data = httpx.get(f"{fake.base_url}/v1/models").json()
    assert data["object"] == "list"
    first = data["data"][0]
    assert {"id", "object", "created", "owned_by", "providers"} <= first.keys()
    provider = first["providers"][0]
    assert provider["status"] == "live" and provider["context_length"] == 262144
    assert provider["pricing"] == {"input": 0.95, "output": 5.0}


def test_hub_listing_filters_expands_and_pages(fake: FakeListing) -> None:
    params = [("inference_provider", "all"), ("pipeline_tag", "text-generation"),
              ("expand[]", "inferenceProviderMapping")]
    seen: list[dict[str, object]] = []
    url: str | None = f"{fake.base_url}/api/models"
    query: list[tuple[str, str]] | None = params
    while url:
        response = httpx.get(url, params=query)
        seen.extend(response.json())
        link = response.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
        query = None
    ids = [m["id"] for m in seen]
    assert "retired/CodeOld-1B" not in ids  # no live provider
    assert len(ids) == 6 and len(fake.requests) == 2  # two pages of three
    assert set(seen[0]) == {"_id", "id", "inferenceProviderMapping"}  # only what was expanded
    entry = seen[0]["inferenceProviderMapping"][0]  # type: ignore[index]
    assert set(entry) == {"provider", "providerId", "status", "task"}


def test_hub_listing_by_provider_and_as_an_object() -> None:
    with FakeListing(mapping_as_object=True) as fake:
        data = httpx.get(f"{fake.base_url}/api/models",
                         params={"inference_provider": "together",
                                 "expand": "inferenceProviderMapping"}).json()
    assert [m["id"] for m in data] == ["some-org/sql-helper-1b"]
    assert data[0]["inferenceProviderMapping"]["together"]["task"] == "text-generation"


def test_pipeline_tag_filter() -> None:
    models = [hub_model("a/coder-1", ("x", "text-generation", "live")),
              hub_model("a/embed-1", ("x", "feature-extraction", "live"),
                        pipeline_tag="feature-extraction")]
    with FakeListing(hub_models=models) as fake:
        data = httpx.get(f"{fake.base_url}/api/models",
                         params={"pipeline_tag": "text-generation"}).json()
    assert [m["id"] for m in data] == ["a/coder-1"]


def test_failures_and_a_wrong_token(fake: FakeListing) -> None:
    fake.fail("/v1/models", 503, "Service Unavailable")
    response = httpx.get(f"{fake.base_url}/v1/models")
    assert response.status_code == 503 and response.json() == {"error": "Service Unavailable"}
    fake.token = "hf_right"
    response = httpx.get(f"{fake.base_url}/api/models", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid credentials in Authorization header"
    assert fake.requests[-1].headers["authorization"] == "Bearer x"


def test_router_in_front_of_a_provider() -> None:
    from hf_server import FakeInferenceServer, FakeModel

    with FakeInferenceServer({"a/coder": FakeModel("return 1\n")}) as hf, \
            FakeListing(upstream=hf.base_url, provider="hf-inference") as router:
        response = httpx.post(f"{router.base_url}/models/a/coder",
                              json={"inputs": "x", "parameters": {"max_new_tokens": 2}})
        listed = httpx.get(f"{router.base_url}/v1/models")
    assert response.status_code == 200 and response.json()[0]["generated_text"]
    assert response.headers["x-inference-provider"] == "hf-inference"
    assert response.headers["x-generated-tokens"] == "2"
    assert listed.json()["object"] == "list"  # the listings are still the fake's own
    assert hf.generation_requests()[0].body["inputs"] == "x"
