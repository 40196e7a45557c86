"""Hugging Face Inference Providers: which provider serves the model, and how to reach it.

The Hub says who serves a model: ``GET {hub}/api/models/{id}?expand[]=inferenceProviderMapping``
→ an object keyed by provider, or a list of ``{provider, providerId, status, task}``. A
provider that serves it for ``text-generation`` gets the raw fill-in-the-middle prompt in an
OpenAI-style completions body at its route behind the router (``hf-inference``: the
serverless API's body); one that serves it only as ``conversational`` gets a chat request at
``{router}/v1/chat/completions`` with ``model`` = ``<id>:<provider>``. The mapping is fetched
once per model and kept (in memory, and on disk beside the persistent cache when that is
on) for :data:`MAPPING_TTL`; a "not supported" answer fetches it again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hf_lsp.config.api_token import token_file_path
from hf_lsp.errors import (
    AuthError,
    BackendError,
    BadRequestError,
    CreditsError,
    HttpStatusError,
    ModelNotFoundError,
    ProviderError,
    ServerError,
    TokenMissingError,
)

log = logging.getLogger(__name__)

RAW_ROUTES = {
    "featherless-ai": "/featherless-ai/v1/completions",
    "deepinfra": "/deepinfra/v1/openai/completions",
    "together": "/together/v1/completions",
    "novita": "/novita/v3/openai/completions",
}
POLICIES = ("fastest", "cheapest", "preferred")
MAPPING_TTL = 6 * 3600.0
TOKENS_PAGE = "https://huggingface.co/settings/tokens"
BILLING_PAGE = "https://huggingface.co/settings/billing"
PERMISSION = '"Make calls to Inference Providers"'
MODELS_HINT = "`hf-lsp models` lists the code models Inference Providers serve now"


def token_missing() -> TokenMissingError:
    """No token anywhere: what is needed, where hf-lsp looked, how to make one."""
    return TokenMissingError(
        "a Hugging Face token is needed for Inference Providers, and none was found, so "
        "nothing was sent. hf-lsp looks in the hfLsp.apiToken setting, $HF_TOKEN, "
        f"$HUGGING_FACE_HUB_TOKEN, then the file {token_file_path()} (written by `hf auth "
        f"login`). Make a token at {TOKENS_PAGE}: a fine-grained token needs the permission "
        f"{PERMISSION}. (Local servers need none: the tgi, openai, ollama and llamacpp "
        "backends.)"
    )


@dataclass(frozen=True)
class Entry:
    """One provider serving the model, as the Hub lists it."""

    provider: str
    provider_id: str
    status: str
    task: str

    def to_json(self) -> dict[str, str]:
        return {"provider": self.provider, "providerId": self.provider_id,
                "status": self.status, "task": self.task}


def read_mapping(data: Any) -> list[Entry]:
    """The entries of a model's ``inferenceProviderMapping``: an object or a list."""
    mapping = data.get("inferenceProviderMapping") if isinstance(data, Mapping) else data
    items: list[Mapping[str, Any]] = []
    if isinstance(mapping, Mapping):
        items = [{"provider": k, **v} for k, v in mapping.items() if isinstance(v, Mapping)]
    elif isinstance(mapping, list):
        items = [m for m in mapping if isinstance(m, Mapping)]
    entries = []
    for item in items:
        provider, provider_id = item.get("provider"), item.get("providerId")
        if isinstance(provider, str) and provider and isinstance(provider_id, str) and provider_id:
            entries.append(Entry(provider, provider_id, str(item.get("status") or "live"),
                                 str(item.get("task") or "")))
    return entries


@dataclass(frozen=True)
class Route:
    """Where one model's requests go: ``raw`` (completions), ``hf-inference`` or ``chat``."""

    kind: str
    provider: str
    model: str  # the body's `model`: the provider's id, or `<id>:<provider>` for chat
    url: str

    def describe(self) -> str:
        what = {"raw": "raw fill-in-the-middle", "hf-inference": "the serverless API's body",
                "chat": "chat (an instruction model)"}[self.kind]
        return f"{self.provider}: POST {self.url} (model {self.model}, {what})"


def serving(entries: list[Entry]) -> str:
    """The providers that serve the model, for a message."""
    live = [e for e in entries if e.status == "live"] or entries
    return ", ".join(f"{e.provider} ({e.task or 'any task'})" for e in live)


def choose(model: str, provider: str, entries: list[Entry] | None, router: str) -> Route:
    """The route for ``model`` by the ``provider`` setting; ``entries`` is the Hub's mapping."""
    router = router.rstrip("/")
    if provider in POLICIES:
        return Route("chat", provider, f"{model}:{provider}", router + "/v1/chat/completions")
    entries = entries or []
    if provider == "auto":
        candidates = [e for e in entries if e.status == "live"]
        if not candidates:
            listed = f" (listed but not live: {serving(entries)})" if entries else ""
            raise ProviderError(
                f"no Inference Provider serves {model} now{listed}. Choose another "
                f"hfLsp.model: {MODELS_HINT}", status=0)
    else:
        candidates = [e for e in entries if e.provider == provider]
        if not candidates:
            others = (f"the providers that serve it: {serving(entries)}; set hfLsp.provider "
                      "to one of them, or to `auto`" if entries
                      else f"no provider serves it now; choose another hfLsp.model: "
                      f"{MODELS_HINT}")
            raise ProviderError(
                f"hfLsp.provider {provider!r} does not serve {model}: {others}", status=0)
        for entry in candidates:
            if entry.status != "live":
                log.warning("%s serves %s with status %r (not live): it may fail",
                            entry.provider, model, entry.status)
    raw = next((e for e in candidates if e.task == "text-generation"), None)
    if raw is not None:
        if raw.provider == "hf-inference":
            return Route("hf-inference", raw.provider, raw.provider_id,
                         f"{router}/hf-inference/models/{raw.provider_id}")
        path = RAW_ROUTES.get(raw.provider, f"/{raw.provider}/v1/completions")
        return Route("raw", raw.provider, raw.provider_id, router + path)
    chat = next((e for e in candidates if e.task == "conversational"), None)
    if chat is None:
        raise ProviderError(
            f"{model} is served ({serving(candidates)}) but not for text generation or chat: "
            f"choose another hfLsp.model: {MODELS_HINT}", status=0)
    return Route("chat", chat.provider, f"{model}:{chat.provider}",
                 router + "/v1/chat/completions")


# --- the mapping, kept ----------------------------------------------------------------------

_memory: dict[tuple[str, str], tuple[float, list[Entry]]] = {}


class MappingStore:
    """Mappings by (hub, model), in memory and, when ``path`` is given, in one JSON file."""

    def __init__(self, path: Path | None, ttl: float = MAPPING_TTL) -> None:
        self.path = path
        self.ttl = ttl
        self._read: set[tuple[str, str]] = set()  # keys already looked for in the file

    def get(self, hub: str, model: str) -> list[Entry] | None:
        """The kept mapping; the file is read once per model, not at every keystroke."""
        now = time.time()
        found = _memory.get((hub, model))
        if found is None and self.path is not None and (hub, model) not in self._read:
            self._read.add((hub, model))
            stored = self._load().get(f"{hub} {model}")
            if isinstance(stored, Mapping) and isinstance(stored.get("fetched"), (int, float)):
                found = (float(stored["fetched"]), read_mapping(stored.get("entries")))
                _memory[(hub, model)] = found
        if found is None or now - found[0] > self.ttl:
            return None
        return found[1]

    def put(self, hub: str, model: str, entries: list[Entry]) -> None:
        now = time.time()
        _memory[(hub, model)] = (now, entries)
        if self.path is None:
            return
        data = {k: v for k, v in self._load().items()
                if isinstance(v, Mapping) and now - float(v.get("fetched", 0)) <= self.ttl}
        data[f"{hub} {model}"] = {"fetched": now, "entries": [e.to_json() for e in entries]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data), encoding="utf-8")
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as exc:
            log.warning("cannot store the provider mapping in %s: %s", self.path, exc)

    def _load(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring the provider mapping file %s: %s", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}


def mapping_url(hub: str, model: str) -> str:
    model = quote(model, safe="/")
    return f"{hub.rstrip('/')}/api/models/{model}?expand[]=inferenceProviderMapping"


def hub_error(status: int, model: str, message: str, body: str) -> HttpStatusError:
    """A failed mapping lookup, in the user's words."""
    if status in (401, 403):
        return refused(status, message, body)
    if status == 404:
        return ModelNotFoundError(
            f"the Hub has no model {model!r} (404: {message}): check hfLsp.model ({MODELS_HINT})",
            status=status, body=body)
    return ServerError(f"the Hub answered {status} while looking up who serves {model}: "
                       f"{message}", status=status, body=body)


# --- the router's errors ----------------------------------------------------------------------


def refused(status: int, message: str, body: str) -> AuthError:
    """401: the token is not (or no longer) valid."""
    return AuthError(
        f"Hugging Face refused the token ({status}: {message}): it is invalid, expired or "
        f"revoked. Make a new one at {TOKENS_PAGE} (a fine-grained token needs {PERMISSION}) "
        "and set it in hfLsp.apiToken or $HF_TOKEN, or run `hf auth login`",
        status=status, body=body)


def explain(exc: HttpStatusError, route: Route, model: str, entries: list[Entry] | None
            ) -> BackendError:
    """A router error in the user's words; ``entries``: a fresh mapping, for "not supported"."""
    text = exc.body or str(exc)
    lowered = text.lower()
    status = exc.status
    if status == 401:
        return refused(status, _said(text), exc.body)
    if status == 403 and ("permission" in lowered or "inference providers" in lowered):
        error = AuthError(
            f"the token may not call Inference Providers (403: {_said(text)}): at {TOKENS_PAGE}, "
            f"edit the token and tick {PERMISSION}, or make a token with that permission",
            status=status, body=exc.body)
        error.cause = "permission"
        return error
    if status == 402:
        return CreditsError(
            f"the Inference Providers credits are used up (402: {_said(text)}): buy pre-paid "
            f"credits or subscribe to PRO at {BILLING_PAGE}; completions resume once there are "
            "credits", status=status, body=exc.body)
    if status == 400 and "not supported" in lowered:
        if entries is None or not [e for e in entries if e.status == "live"]:
            what = f"and no provider serves it now. Choose another hfLsp.model: {MODELS_HINT}"
        else:
            what = (f"Providers that serve it: {serving(entries)}. With hfLsp.provider `auto` "
                    "hf-lsp takes the first; or set it to one of them")
        return ProviderError(
            f"{route.provider} does not serve {model} (400: {_said(text)}), {what}",
            status=status, body=exc.body)
    if status == 410:
        return gone(exc)
    return exc


def gone(exc: HttpStatusError) -> HttpStatusError:
    """410 from the retired serverless API."""
    error = ServerError(
        f"the serverless Inference API is retired (410: {_said(exc.body or str(exc))}): "
        "https://router.huggingface.co (Inference Providers) replaces it. Unset hfLsp.url, or "
        "set it to https://router.huggingface.co", status=exc.status, body=exc.body)
    error.cause = "legacy"
    return error


def not_supported(exc: BackendError) -> bool:
    return isinstance(exc, BadRequestError) and "not supported" in (exc.body or str(exc)).lower()


def _said(text: str) -> str:
    """The human part of an error body."""
    from hf_lsp.backends.http import error_text, json_or_none

    return error_text(json_or_none(text), text)
