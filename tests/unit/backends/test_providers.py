"""Inference Providers: reading the Hub's mapping, choosing a route, keeping the mapping."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hf_lsp.backends import providers
from hf_lsp.backends.providers import Entry, MappingStore, choose, read_mapping
from hf_lsp.errors import ProviderError

ROUTER = "https://router.huggingface.co"
OBJECT = {"inferenceProviderMapping": {
    "together": {"status": "staging", "providerId": "t/m", "task": "text-generation"},
    "nscale": {"status": "live", "providerId": "n/m", "task": "conversational"},
    "featherless-ai": {"status": "live", "providerId": "f/m", "task": "text-generation",
                       "isModelAuthor": False},
}}
LISTED = {"inferenceProviderMapping": [
    {"provider": "nscale", "providerId": "n/m", "status": "live", "task": "conversational"},
    {"provider": "hf-inference", "providerId": "org/m", "status": "live",
     "task": "text-generation", "adapter": "lora", "type": "single-model"},
]}


def test_both_shapes_are_read() -> None:
    assert [(e.provider, e.provider_id, e.status, e.task) for e in read_mapping(OBJECT)] == [
        ("together", "t/m", "staging", "text-generation"),
        ("nscale", "n/m", "live", "conversational"),
        ("featherless-ai", "f/m", "live", "text-generation"),
    ]
    assert [e.provider for e in read_mapping(LISTED)] == ["nscale", "hf-inference"]


@pytest.mark.parametrize("data", [None, {}, {"inferenceProviderMapping": None}, [1, "x"],
                                  {"inferenceProviderMapping": {"p": "live"}},
                                  {"inferenceProviderMapping": [{"provider": "p"}]}])
def test_odd_mappings_read_as_empty(data: object) -> None:
    assert read_mapping(data) == []


def test_auto_prefers_live_text_generation_then_chat() -> None:
    route = choose("org/m", "auto", read_mapping(OBJECT), ROUTER)
    assert (route.kind, route.provider, route.model, route.url) == (
        "raw", "featherless-ai", "f/m", ROUTER + "/featherless-ai/v1/completions")
    hf = choose("org/m", "auto", read_mapping(LISTED), ROUTER)
    assert (hf.kind, hf.url) == ("hf-inference", ROUTER + "/hf-inference/models/org/m")
    chat_only = [Entry("nscale", "n/m", "live", "conversational")]
    chat = choose("org/m", "auto", chat_only, ROUTER)
    assert (chat.kind, chat.model, chat.url) == (
        "chat", "org/m:nscale", ROUTER + "/v1/chat/completions")


def test_a_named_provider_or_a_policy() -> None:
    entries = read_mapping(OBJECT)
    assert choose("org/m", "together", entries, ROUTER).url == ROUTER + "/together/v1/completions"
    assert choose("org/m", "nscale", entries, ROUTER).model == "org/m:nscale"
    assert choose("org/m", "cheapest", None, ROUTER).model == "org/m:cheapest"
    unknown = choose("org/m", "groq", [Entry("groq", "g/m", "live", "text-generation")], ROUTER)
    assert unknown.url == ROUTER + "/groq/v1/completions"


def test_a_provider_the_mapping_lacks_names_those_that_serve() -> None:
    with pytest.raises(ProviderError) as caught:
        choose("org/m", "cerebras", read_mapping(OBJECT), ROUTER)
    assert "nscale (conversational), featherless-ai (text-generation)" in str(caught.value)
    with pytest.raises(ProviderError, match="no Inference Provider serves org/m now"):
        choose("org/m", "auto", [], ROUTER)


def test_the_store_keeps_mappings_on_disk_with_a_ttl(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "provider-mapping.json"
    entries = read_mapping(OBJECT)
    MappingStore(path).put("http://hub", "org/m", entries)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    providers._memory.clear()  # a new process
    assert MappingStore(path).get("http://hub", "org/m") == entries
    assert MappingStore(path).get("http://other-hub", "org/m") is None
    providers._memory.clear()
    assert MappingStore(path, ttl=-1).get("http://hub", "org/m") is None  # expired
    path.write_text("not json")
    providers._memory.clear()
    assert MappingStore(path).get("http://hub", "org/m") is None  # a broken file is ignored


def test_the_store_reads_its_file_once_per_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model whose lookup keeps failing is asked for at every keystroke: not from disk."""
    path = tmp_path / "provider-mapping.json"
    path.write_text("{}")
    providers._memory.clear()
    store = MappingStore(path)
    reads: list[int] = []
    load = store._load
    monkeypatch.setattr(store, "_load", lambda: reads.append(1) or load())
    for _ in range(5):
        assert store.get("http://hub", "org/unknown") is None
    assert len(reads) == 1
    store.put("http://hub", "org/unknown", read_mapping(OBJECT))
    assert store.get("http://hub", "org/unknown") == read_mapping(OBJECT)


async def test_the_serverless_body_to_a_hugging_face_host_needs_a_token() -> None:
    import httpx

    from hf_lsp.backends.http import Connection
    from hf_lsp.backends.huggingface import HuggingFaceBackend
    from hf_lsp.errors import TokenMissingError
    from hf_lsp.generation.contract import GenerationRequest

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.url}")

    request = GenerationRequest(prompt="x", parameters={"max_new_tokens": 4})
    url = "https://router.huggingface.co/hf-inference/models/org/m"
    backend = HuggingFaceBackend(Connection(url), transport=httpx.MockTransport(refuse))
    with pytest.raises(TokenMissingError, match="nothing was sent"):
        await backend.generate(request)
    with pytest.raises(TokenMissingError):
        async for _ in backend.stream(request):
            pass
    await backend.aclose()
    proxy = HuggingFaceBackend(
        Connection("http://proxy.example/models/org/m"),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[
            {"generated_text": "y"}])))
    assert (await proxy.generate(request)).texts == ("y",)  # a proxy may need no token
    await proxy.aclose()


def test_the_route_kind_comes_from_the_kept_mapping() -> None:
    from hf_lsp.backends.http import Connection
    from hf_lsp.backends.router import RouterBackend

    hub = "http://127.0.0.1:9/kind-test"
    made = RouterBackend(Connection(ROUTER, token="hf_x"), hub=hub)
    assert made.route_kind("org/chat") is None  # not looked up yet
    made.store.put(hub, "org/chat", read_mapping(LISTED)[:1])
    made.store.put(hub, "org/raw", read_mapping(OBJECT))
    made.store.put(hub, "org/none", [])
    assert made.route_kind("org/chat") == "chat"
    assert made.route_kind("org/raw") == "raw"
    assert made.route_kind("org/none") is None  # no route: the request explains it
    policy = RouterBackend(Connection(ROUTER, token="hf_x"), hub=hub, provider="fastest")
    assert policy.route_kind("org/anything") == "chat"


def test_the_suggested_models_put_fim_with_a_family_first() -> None:
    from hf_lsp.backends.catalog import Offer
    from hf_lsp.backends.suggest import hint, suggested, with_suggestions

    rows = [
        Offer("Qwen/Qwen2.5-Coder-7B", "fim", "featherless-ai", "live"),
        Offer("Qwen/Qwen2.5-Coder-7B", "fim", "together", "live"),  # one name per model
        Offer("bigcode/starcoder2-15b", "fim", "nscale", "error"),  # not live
        Offer("org/sql-coder", "fim", "together", "live"),  # no FIM template known
        Offer("deepseek-ai/deepseek-coder-6.7b-base", "fim", "novita", "live"),
        Offer("codellama/CodeLlama-7b-hf", "fim", "together", "live"),
        Offer("mistralai/Codestral-22B-v0.1", "fim", "mistral", "live"),
        Offer("Qwen/Qwen3-Coder-480B-A35B-Instruct", "chat", "novita", "live"),
        Offer("mistralai/Devstral-Small", "chat", "nebius", "live"),
    ]
    assert suggested(rows, exclude="codellama/CodeLlama-7b-hf") == [
        "Qwen/Qwen2.5-Coder-7B (fill-in-the-middle)",
        "deepseek-ai/deepseek-coder-6.7b-base (fill-in-the-middle)",
        "mistralai/Codestral-22B-v0.1 (fill-in-the-middle)",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct (chat)",
    ]
    assert suggested(rows[7:]) == ["Qwen/Qwen3-Coder-480B-A35B-Instruct (chat)",
                                   "mistralai/Devstral-Small (chat)"]
    assert hint([]) == providers.MODELS_HINT
    error = ProviderError(f"no provider: {providers.MODELS_HINT}", status=0)
    named = with_suggestions(error, ["a/b (chat)"])
    assert str(named) == (
        "no provider: code models served now: a/b (chat) (`hf-lsp models` lists them all)")
    other = ProviderError("the token is wrong", status=401)
    assert with_suggestions(other, ["a/b (chat)"]) is other and str(other) == "the token is wrong"
