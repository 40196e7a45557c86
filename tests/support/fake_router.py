"""A loopback fake of Hugging Face's Inference Providers: the Hub's mapping API and the router.

One server answers both hosts' routes, so a test points ``url`` and ``hubUrl`` at it:

- ``GET /api/models/{id}?expand[]=inferenceProviderMapping`` → ``{"_id", "id",
  "inferenceProviderMapping"}``, the mapping as an object keyed by provider or, with
  ``list_shape``, as a list of ``{provider, providerId, status, task}``; 404 for an unknown
  model, 401 for a token that is sent and wrong (public models need none).
- ``POST /{provider}/…/completions`` (featherless-ai ``/v1``, deepinfra ``/v1/openai``,
  together ``/v1``, novita ``/v3/openai``, any other provider ``/v1``): the OpenAI
  completions format of `fake_backends` (vLLM's validation, SSE), for a ``model`` that the
  mapping gives that provider for ``text-generation``.
- ``POST /hf-inference/models/{id}``: the serverless API's body, answered by `hf_server`.
- ``POST /v1/chat/completions`` with ``model`` = ``<id>[:<provider>|:fastest|:cheapest]``.

Errors are the router's own bodies: 401 invalid credentials, 403 missing permission, 402
depleted credits, 400 "Model not supported by provider X" / "not supported by any provider
you have enabled", 410 from the legacy host (``legacy=True``).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote, urlsplit

from fake_backends import FakeBackend, _json, _OpenAI
from hf_server import FakeInferenceServer, FakeModel, Recorded, _parse_body, _Reply

INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
NO_PERMISSION = (
    "This authentication method does not have sufficient permissions to call Inference "
    "Providers on behalf of user {user}"
)
DEPLETED = (
    "You have depleted your monthly included credits. Purchase pre-paid credits to continue "
    "using Inference Providers. Alternatively, subscribe to PRO to get 20x more included "
    "credits."
)
GONE = (
    "https://api-inference.huggingface.co is no longer supported. Please use "
    "https://router.huggingface.co instead."
)
RAW_PATHS = {
    "/featherless-ai/v1/completions": "featherless-ai",
    "/deepinfra/v1/openai/completions": "deepinfra",
    "/together/v1/completions": "together",
    "/novita/v3/openai/completions": "novita",
}
POLICIES = ("fastest", "cheapest", "preferred")


def entry(provider: str, provider_id: str, task: str = "text-generation",
          status: str = "live") -> dict[str, str]:
    return {"provider": provider, "providerId": provider_id, "status": status, "task": task}


def not_supported_by(provider: str) -> dict[str, Any]:
    return {"error": f"Model not supported by provider {provider}"}


def not_supported_by_any(model: str) -> dict[str, Any]:
    return {"error": {
        "message": f"The requested model '{model}' is not supported by any provider you have "
        "enabled.",
        "type": "invalid_request_error", "param": "model", "code": "model_not_supported",
    }}


class _Router(_OpenAI):
    backend: FakeRouter

    def answer(self, request: Recorded, raw: bytes) -> _Reply:
        router = self.backend
        path = unquote(urlsplit(request.path).path)
        if router.legacy:
            return _json(410, {"error": GONE})
        if path.startswith("/api/models/"):
            return self.mapping(request, path[len("/api/models/"):].rstrip("/"))
        if request.method != "POST":
            return _json(405, {"error": "Method Not Allowed"})
        if not router._authorized(request.headers):
            return _json(401, {"error": INVALID_CREDENTIALS})
        if not router.permission:
            return _json(403, {"error": NO_PERMISSION.format(user=router.user)})
        if not router.credits:
            return _json(402, {"error": DEPLETED})
        body = _parse_body(raw)
        if path == "/v1/chat/completions":
            return self.routed_chat(request, raw, body)
        if path.startswith("/hf-inference/models/"):
            return self.hf_inference(request, path[len("/hf-inference/models/"):].rstrip("/"))
        provider = RAW_PATHS.get(path)
        if provider is None and path.endswith("/v1/completions") and path.count("/") == 3:
            provider = path.split("/")[1]
        if provider is None:
            return _json(404, {"error": "Not Found"})
        model = body.get("model") if isinstance(body, dict) else None
        if not router.serves(provider, "text-generation", provider_id=model):
            return _json(400, not_supported_by(provider))
        return self.completions(request, raw)

    def mapping(self, request: Recorded, model: str) -> _Reply:
        router = self.backend
        sent = request.headers.get("authorization")
        if sent is not None and not router._authorized(request.headers):
            return _json(401, {"error": INVALID_CREDENTIALS})
        entries = router.mappings.get(model)
        if entries is None:
            return _json(404, {"error": "Repository not found"})
        if router.list_shape:
            shaped: Any = [dict(e) for e in entries]
        else:
            shaped = {
                e["provider"]: {"status": e["status"], "providerId": e["providerId"],
                                "task": e["task"], "isModelAuthor": False}
                for e in entries
            }
        return _json(200, {"_id": f"id-{model}", "id": model,
                           "inferenceProviderMapping": shaped})

    def hf_inference(self, request: Recorded, model: str) -> _Reply:
        router = self.backend
        if not router.serves("hf-inference", "text-generation", provider_id=model):
            return _json(400, not_supported_by("hf-inference"))
        seed = router.seed
        if model not in seed.models:
            seed.add_model(model, FakeModel(router.completion))
        recorded = Recorded(request.method, f"/models/{model}", request.headers, request.body,
                            model)
        return seed._answer(recorded, time.monotonic())

    def routed_chat(self, request: Recorded, raw: bytes, body: Any) -> _Reply:
        router = self.backend
        asked = body.get("model") if isinstance(body, dict) else None
        if not isinstance(asked, str):
            return self.chat(request, raw)
        model, _, provider = asked.partition(":")
        explicit = provider and provider not in POLICIES
        if explicit and not router.serves(provider, "conversational", model=model):
            return _json(400, not_supported_by(provider))
        if not explicit and not router.serves(None, "conversational", model=model):
            return _json(400, not_supported_by_any(model))
        return self.chat(request, raw)


class FakeRouter(FakeBackend):
    """The Hub's mapping API and the Inference Providers router on 127.0.0.1."""

    def __init__(
        self,
        completion: str = "return a + b\n",
        *,
        mappings: dict[str, list[dict[str, str]]] | None = None,
        token: str | None = "hf_fakeRouterToken0123456789abcdef",
        list_shape: bool = False,
        chunk_delay: float = 0.0,
    ) -> None:
        super().__init__("openai", completion, token=token, chunk_delay=chunk_delay)
        self.mappings: dict[str, list[dict[str, str]]] = dict(mappings or {})
        self.list_shape = list_shape
        self.permission = True
        self.credits = True
        self.legacy = False
        self.user = "alice"
        self.seed = FakeInferenceServer(token=token)
        self._protocol = _Router(self)

    def serves(self, provider: str | None, task: str, *, model: str | None = None,
               provider_id: str | None = None) -> bool:
        """Whether a live mapping entry matches (``provider`` None: any provider)."""
        for name, entries in self.mappings.items():
            for e in entries:
                if (e["status"] == "live" and e["task"] == task
                        and (provider is None or e["provider"] == provider)
                        and (model is None or name == model)
                        and (provider_id is None or e["providerId"] == provider_id)):
                    return True
        return False

    def mapping_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("/api/models/")]

    def _is_generation(self, request: Recorded) -> bool:
        return request.method == "POST" and not request.path.startswith("/api/")
