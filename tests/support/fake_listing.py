"""A loopback fake of the two model listings Inference Providers are read from.

- the router's ``GET /v1/models``: ``{"object": "list", "data": [{"id", "object": "model",
  "created", "owned_by", "architecture": {...}, "providers": [{"provider", "status",
  "context_length"?, "pricing"?: {"input", "output"} (USD per million tokens),
  "supports_tools"?, "supports_structured_output"?, "is_model_author"?}]}]}``;
- the Hub's ``GET /api/models``: a JSON list of ``{"_id", "id", ...}``, filtered by
  ``inference_provider`` (a provider, a comma-separated list, or ``all``: served live by one)
  and ``pipeline_tag``; ``expand[]`` (or ``expand``, as huggingface_hub sends it) names the
  properties returned besides ``_id`` and ``id``; ``limit`` pages the answer, the next page
  named by a ``Link: <…&cursor=…>; rel="next"`` header. ``inferenceProviderMapping`` is a list
  of ``{provider, providerId, status, task}``, or with ``mapping_as_object`` an object keyed by
  provider (both shapes exist in the wild).

Errors are the real ones' bodies: ``{"error": "..."}``. A token is checked only when ``token``
is set; every request is recorded with its headers and query.

With ``upstream``, the fake is also a router in front of one provider: any other request is
passed on to ``upstream`` (a loopback generation fake) and its answer comes back with the
router's ``x-inference-provider`` header naming ``provider``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from hf_server import INVALID_CREDENTIALS, Serving

DEFAULT_PAGE = 1000


def router_model(
    model_id: str, *providers: Mapping[str, Any], owned_by: str | None = None
) -> dict[str, Any]:
    """One entry of the router's ``/v1/models`` list."""
    return {
        "id": model_id,
        "object": "model",
        "created": 1_750_000_000,
        "owned_by": owned_by or model_id.split("/")[0],
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        "providers": [dict(p) for p in providers],
    }


def offer(
    provider: str,
    status: str = "live",
    context_length: int | None = None,
    price: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One provider of a router model, with the fields the router sends when it knows them."""
    entry: dict[str, Any] = {"provider": provider, "status": status}
    if context_length is not None:
        entry["context_length"] = context_length
    if price is not None:
        entry["pricing"] = {"input": price[0], "output": price[1]}
    entry["supports_tools"] = True
    entry["supports_structured_output"] = False
    return entry


def hub_model(
    model_id: str,
    *mapping: tuple[str, str, str],
    pipeline_tag: str = "text-generation",
    tags: tuple[str, ...] = ("transformers", "safetensors"),
) -> dict[str, Any]:
    """One Hub model; ``mapping`` entries are ``(provider, task, status)``."""
    return {
        "_id": hashlib.sha1(model_id.encode()).hexdigest()[:24],
        "id": model_id,
        "pipeline_tag": pipeline_tag,
        "tags": list(tags),
        "downloads": 1000,
        "likes": 10,
        "inferenceProviderMapping": [
            {"provider": p, "providerId": model_id.lower(), "status": s, "task": t}
            for p, t, s in mapping
        ],
    }


ROUTER_MODELS: list[dict[str, Any]] = [
    router_model(
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        offer("novita", "live", 262144, (0.95, 5.0)),
        offer("together", "live", 262144, (2.0, 2.0)),
    ),
    router_model(
        "Qwen/Qwen2.5-Coder-32B-Instruct",
        offer("nscale", "live", 32768, (0.06, 0.2)),
        offer("featherless-ai", "staging", 32768),
    ),
    router_model("deepseek-ai/DeepSeek-V3", offer("fireworks-ai", "live", 131072, (0.9, 0.9))),
    router_model("meta-llama/Llama-3.3-70B-Instruct", offer("groq", "live", 131072, (0.59, 0.79))),
]

HUB_MODELS: list[dict[str, Any]] = [
    hub_model(
        "Qwen/Qwen2.5-Coder-7B",
        ("featherless-ai", "text-generation", "live"),
        tags=("transformers", "code", "qwen", "text-generation"),
    ),
    hub_model(
        "bigcode/starcoder2-15b",
        ("featherless-ai", "text-generation", "live"),
        ("nscale", "text-generation", "error"),
        tags=("transformers", "code"),
    ),
    hub_model(
        "Qwen/Qwen2.5-Coder-32B-Instruct",
        ("nscale", "conversational", "live"),
        ("featherless-ai", "text-generation", "live"),
    ),
    hub_model("mistralai/Mistral-7B-v0.3", ("featherless-ai", "text-generation", "live")),
    hub_model("ise-uiuc/Magicoder-S-DS-6.7B", ("featherless-ai", "text-generation", "live")),
    hub_model("some-org/sql-helper-1b", ("together", "text-generation", "live"),
              tags=("transformers", "code")),
    hub_model("retired/CodeOld-1B", ("nebius", "text-generation", "error")),
]


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FakeListing(Serving):
    """``/v1/models`` and ``/api/models`` on 127.0.0.1; one fake may serve both."""

    def __init__(
        self,
        router_models: list[dict[str, Any]] | None = None,
        hub_models: list[dict[str, Any]] | None = None,
        *,
        token: str | None = None,
        mapping_as_object: bool = False,
        page: int = DEFAULT_PAGE,
        upstream: str | None = None,
        provider: str = "hf-inference",
    ) -> None:
        self.upstream = upstream
        self.provider = provider
        self.router_models = ROUTER_MODELS if router_models is None else router_models
        self.hub_models = HUB_MODELS if hub_models is None else hub_models
        self.token = token
        self.mapping_as_object = mapping_as_object
        self.page = page
        self.requests: list[Seen] = []
        self.failures: dict[str, tuple[int, str]] = {}  # path → (status, raw body)
        self._lock = threading.Lock()
        self._httpd: _Server | None = None

    def start(self) -> FakeListing:
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail(
        self, path: str, status: int, error: str | None = None, raw: str | None = None
    ) -> None:
        """Answer ``path`` with ``status`` and ``{"error": error}`` (or ``raw``) from now on."""
        self.failures[path] = (status, raw if raw is not None else json.dumps({"error": error}))

    # -- the answers ---------------------------------------------------------------------

    def answer(self, seen: Seen, body: bytes = b"") -> tuple[int, str, dict[str, str]]:
        with self._lock:
            self.requests.append(seen)
        if self.upstream is not None and seen.path not in ("/v1/models", "/api/models"):
            return self._forward(seen, body)
        if seen.path in self.failures:
            status, raw = self.failures[seen.path]
            return status, raw, {}
        auth = seen.headers.get("authorization")
        if self.token is not None and auth is not None and auth != f"Bearer {self.token}":
            return 401, json.dumps({"error": INVALID_CREDENTIALS}), {}
        if seen.method != "GET":
            return 405, json.dumps({"error": "Method Not Allowed"}), {}
        if seen.path == "/v1/models":
            return 200, json.dumps({"object": "list", "data": self.router_models}), {}
        if seen.path == "/api/models":
            return self._hub(seen.query)
        return 404, json.dumps({"error": "Not Found"}), {}

    def _forward(self, seen: Seen, body: bytes) -> tuple[int, str, dict[str, str]]:
        """The router's part: the provider's answer, with the provider named."""
        assert self.upstream is not None
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        try:
            headers = {k: v for k, v in seen.headers.items() if k not in ("host", "content-length")}
            query = urlencode(seen.query, doseq=True)
            connection.request(seen.method, seen.path + (f"?{query}" if query else ""),
                               body=body or None, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            relayed = {k: v for k, v in response.getheaders()
                       if k.lower().startswith("x-") or k.lower() == "content-type"}
        finally:
            connection.close()
        relayed["x-inference-provider"] = self.provider
        return response.status, text, relayed

    def _hub(self, query: dict[str, list[str]]) -> tuple[int, str, dict[str, str]]:
        selected = [m for m in self.hub_models if _matches(m, query)]
        start = int(query.get("cursor", ["0"])[0])
        limit = int(query.get("limit", [str(self.page)])[0])
        size = min(limit, self.page)
        chunk = selected[start : start + size]
        expand = query.get("expand[]", []) + query.get("expand", [])
        items = [self._shape(m, expand) for m in chunk]
        headers: dict[str, str] = {}
        if start + size < len(selected):
            rest = {k: v for k, v in query.items() if k != "cursor"}
            rest["cursor"] = [str(start + size)]
            following = f"{self.base_url}/api/models?{urlencode(rest, doseq=True)}"
            headers["Link"] = f'<{following}>; rel="next"'
        return 200, json.dumps(items), headers

    def _shape(self, model: Mapping[str, Any], expand: list[str]) -> dict[str, Any]:
        keys = expand or ["pipeline_tag", "tags", "downloads", "likes"]
        out = {"_id": model["_id"], "id": model["id"]}
        for key in keys:
            if key in model:
                out[key] = model[key]
        mapping = out.get("inferenceProviderMapping")
        if self.mapping_as_object and isinstance(mapping, list):
            out["inferenceProviderMapping"] = {
                e["provider"]: {k: v for k, v in e.items() if k != "provider"} for e in mapping
            }
        return out


def _matches(model: Mapping[str, Any], query: dict[str, list[str]]) -> bool:
    tag = query.get("pipeline_tag", [None])[0]
    if tag is not None and model.get("pipeline_tag") != tag:
        return False
    wanted = query.get("inference_provider", [None])[0]
    if wanted is None:
        return True
    live = {e["provider"] for e in model["inferenceProviderMapping"] if e["status"] == "live"}
    if wanted == "all":
        return bool(live)
    return bool(live & set(wanted.split(",")))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 fake: FakeListing) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length))

    def _serve(self, body: bytes = b"") -> None:
        parts = urlsplit(self.path)
        seen = Seen(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
        )
        status, text, headers = self.server.fake.answer(seen, body)
        data = text.encode()
        self.send_response(status)
        kind = next((v for k, v in headers.items() if k.lower() == "content-type"),
                    "application/json; charset=utf-8")  # a relayed stream stays a stream
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
