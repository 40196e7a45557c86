"""What Inference Providers serve: the code-model rule, the offers, prices and router facts.

Two listings are read (:mod:`hf_lsp.backends.listing`): the router's ``/v1/models`` gives
the chat models with each provider's status, context length and price per million tokens;
the Hub's model listing gives each model's provider mapping, whose ``text-generation``
entries are the providers that take a raw prompt, so fill-in-the-middle. A model counts as
a code model by :func:`is_code_model`; :func:`fim_family` names the template hf-lsp renders
for it (``None`` when hf-lsp knows none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hf_lsp.config.settings import ROUTER_URL, Settings, is_legacy
from hf_lsp.generation.fim_templates import family_of

DEFAULT_ROUTER = ROUTER_URL

# a code model: a name (the part after the owner) with one of these words in it, or a Hub
# tag of these. "code" covers CodeLlama, CodeGemma, Codestral, DeepSeek-Coder, Qwen*-Coder,
# StarCoder, CodeGeeX, Granite-Code…; Devstral is Mistral's coding model.
CODE_NAME = re.compile(r"cod(e|er|estral|ellama|egemma|egeex)|devstral|santacoder", re.I)
CODE_TAGS = frozenset({"code", "code-generation", "text2code"})

def is_code_model(model: str, tags: Iterable[str] = ()) -> bool:
    """The documented rule: a coder name, or a ``code`` tag on the Hub."""
    name = model.rsplit("/", 1)[-1]
    return bool(CODE_NAME.search(name)) or bool(CODE_TAGS & {t.lower() for t in tags})


def fim_family(model: str) -> str | None:
    """The FIM template hf-lsp uses for a code model (``None``: no known template)."""
    return family_of(model) if is_code_model(model) else None


@dataclass(frozen=True)
class Offer:
    """One model served by one provider through one route (``fim`` or ``chat``)."""

    model: str
    route: str
    provider: str
    status: str
    context_length: int | None = None
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None

    @property
    def family(self) -> str | None:
        return fim_family(self.model)

    def as_json(self) -> dict[str, Any]:
        pricing = None
        if self.price_in is not None or self.price_out is not None:
            pricing = {"input": self.price_in, "output": self.price_out}
        return {
            "model": self.model,
            "route": self.route,
            "provider": self.provider,
            "status": self.status,
            "contextLength": self.context_length,
            "pricePerMillion": pricing,
            "fimFamily": self.family,
        }


Facts = dict[tuple[str, str], tuple[str, int | None, float | None, float | None]]


def router_facts(data: Any) -> Facts:
    """``(model, provider)`` → (status, context length, input price, output price)."""
    facts: Facts = {}
    models = data.get("data") if isinstance(data, Mapping) else None
    for model in models if isinstance(models, list) else ():
        if not isinstance(model, Mapping) or not isinstance(model.get("id"), str):
            continue
        for entry in model.get("providers") or ():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("provider"), str):
                continue
            pricing = entry.get("pricing")
            pricing = pricing if isinstance(pricing, Mapping) else {}
            facts[(model["id"], entry["provider"])] = (
                str(entry.get("status") or "unknown"),
                _int(entry.get("context_length")),
                _number(pricing.get("input")),
                _number(pricing.get("output")),
            )
    return facts


def mapping_entries(mapping: Any) -> list[dict[str, Any]]:
    """A provider mapping as a list, whether it came as a list or keyed by provider."""
    if isinstance(mapping, Mapping):
        return [
            {"provider": provider, **entry}
            for provider, entry in mapping.items()
            if isinstance(entry, Mapping)
        ]
    if isinstance(mapping, list):
        return [dict(e) for e in mapping if isinstance(e, Mapping) and "provider" in e]
    return []


def offers(router: Any, hub: Sequence[Any], *, code_only: bool = True) -> list[Offer]:
    """The routes the two listings show, code models only unless told otherwise.

    Chat: every provider of a router model, with its figures; a Hub ``conversational``
    entry the router does not list is added without them. FIM: every Hub
    ``text-generation`` entry, with the router's figures for the same model and provider.
    """
    facts = router_facts(router)
    tags: dict[str, list[str]] = {}
    found: dict[tuple[str, str, str], Offer] = {}
    for (model, provider), (status, context, price_in, price_out) in facts.items():
        found[(model, "chat", provider)] = Offer(
            model, "chat", provider, status, context, price_in, price_out
        )
    for item in hub:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue
        model = item["id"]
        tags[model] = [str(t) for t in item.get("tags") or () if isinstance(t, str)]
        for entry in mapping_entries(item.get("inferenceProviderMapping")):
            provider, task = str(entry["provider"]), entry.get("task")
            route = {"text-generation": "fim", "conversational": "chat"}.get(str(task))
            if route is None or (model, route, provider) in found:
                continue
            known = facts.get((model, provider))
            context, price_in, price_out = known[1:] if known else (None, None, None)
            found[(model, route, provider)] = Offer(
                model, route, provider, str(entry.get("status") or "unknown"),
                context, price_in, price_out,
            )
    chosen = [
        o for o in found.values()
        if not code_only or is_code_model(o.model, tags.get(o.model, ()))
    ]
    return sorted(chosen, key=lambda o: (o.route != "fim", o.model.lower(), o.provider))


def price_of(router: Any, model: str, provider: str) -> tuple[float, float] | None:
    """USD per million tokens (input, output) of ``model`` at ``provider``; ``None``: unknown."""
    known = router_facts(router).get((model, provider))
    if known is None or known[2] is None or known[3] is None:
        return None
    return known[2], known[3]


# --- the command ------------------------------------------------------------------------


def router_base(settings: Settings) -> str | None:
    """The ``huggingface`` backend's ``url`` when it is a router base (no model in it)."""
    url = (settings.url or "").strip()
    if settings.backend != "huggingface" or not url or "{model}" in url:
        return None
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if "/models" in path or is_legacy(url):
        return None
    if path.endswith("/v1"):
        path = path[:-3]
    return f"{parts.scheme}://{parts.netloc}{path}"


def priced_router(settings: Settings) -> str | None:
    """The router base whose ``/v1/models`` prices the calls these settings make, if any."""
    base = router_base(settings)
    if base is not None:
        return base
    if (urlsplit(settings.endpoint()).hostname or "") == urlsplit(DEFAULT_ROUTER).hostname:
        return DEFAULT_ROUTER
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)
