"""``hf-lsp models``: the code models Inference Providers serve now, and through which route.

Two listings are read (:mod:`hf_lsp.backends.listing`): the router's ``/v1/models`` gives
the chat models with each provider's status, context length and price per million tokens;
the Hub's model listing gives each model's provider mapping, whose ``text-generation``
entries are the providers that take a raw prompt, so fill-in-the-middle. A model counts as
a code model by :func:`is_code_model`; the FIM column names the template hf-lsp renders for
it (:func:`fim_family`), or ``-`` when hf-lsp knows none (FIM then needs ``hfLsp.fim``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hf_lsp.config.settings import ROUTER_URL, Settings, hub_endpoint, is_legacy
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


def table(rows: Sequence[Offer]) -> str:
    """Aligned plain-text columns."""
    head = ("ROUTE", "MODEL", "PROVIDER", "STATUS", "CONTEXT", "$IN/M", "$OUT/M", "FIM")
    body = [
        (
            o.route, o.model, o.provider, o.status,
            "-" if o.context_length is None else str(o.context_length),
            _price(o.price_in), _price(o.price_out), o.family or "-",
        )
        for o in rows
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *body]
    )


def as_json(rows: Sequence[Offer], sources: Mapping[str, str], errors: Sequence[str]) -> str:
    return json.dumps(
        {"models": [o.as_json() for o in rows], "sources": dict(sources), "errors": list(errors)},
        indent=2,
    )


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and (
            parts.port is None or parts.port > 0)
    except ValueError:
        return False


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


async def run_models(
    settings: Settings,
    *,
    router: str | None = None,
    hub: str | None = None,
    route: str | None = None,
    as_json_output: bool = False,
    include_all: bool = False,
    transport: Any = None,
) -> int:
    """Print the listing; 1 when a listing the answer needs could not be read."""
    import sys

    from hf_lsp.backends.listing import Listing
    from hf_lsp.config.api_token import resolve_token
    from hf_lsp.errors import BackendError
    from hf_lsp.redact import redact

    configured = router_base(settings)
    router = (router or configured or DEFAULT_ROUTER).rstrip("/")
    hub = (hub or hub_endpoint(settings)).rstrip("/")
    for flag, url in (("--router-url", router), ("--hub-url", hub)):
        if not _is_http_url(url):
            print(f"hf-lsp: {flag} must be an http:// or https:// URL, got {url!r}",
                  file=sys.stderr)
            return 2
    token = resolve_token(settings.api_token)[0]
    trusted = [t for t in (configured, os.environ.get("HF_ENDPOINT", "").strip()) if t]
    listing = Listing(settings.network, token, trusted=trusted, transport=transport)
    errors: list[str] = []
    needed = {"chat": ("router",), "fim": ("hub",)}.get(route or "", ("router", "hub"))
    router_data: Any = None
    hub_data: list[Any] = []
    failed: set[str] = set()
    try:
        for name in ("router", "hub"):
            try:
                if name == "router":
                    router_data = await listing.router_models(router)
                else:
                    hub_data = await listing.hub_models(hub)
            except BackendError as exc:
                failed.add(name)
                errors.append(redact(_explain(exc, name, router if name == "router" else hub)))
    finally:
        await listing.aclose()
    rows = offers(router_data, hub_data, code_only=not include_all)
    if route is not None:
        rows = [o for o in rows if o.route == route]
    for message in errors:
        print(f"hf-lsp: {message}", file=sys.stderr)
    if as_json_output:
        print(as_json(rows, {"router": router, "hub": hub}, errors))
    elif rows:
        print(table(rows))
    elif not failed:
        print("hf-lsp: no code model is listed for this route now", file=sys.stderr)
    return 1 if failed & set(needed) else 0


def _explain(exc: Exception, name: str, base: str) -> str:
    """One line for a listing that could not be read, in the user's terms."""
    from hf_lsp.errors import AuthError, HttpStatusError, TransportError

    what = "the router's model list" if name == "router" else "the Hub's model listing"
    if isinstance(exc, AuthError):
        return (f"{what} refused the token ({exc.status}): it is invalid or expired; the "
                "listings need none, so unset it or make a new one")
    if isinstance(exc, HttpStatusError):
        return f"{what} at {base} failed: {exc}"
    if isinstance(exc, TransportError):
        return (f"cannot reach {base} for {what} ({exc}). Offline? Behind a proxy? Set "
                "hfLsp.network.proxy or HTTPS_PROXY; --router-url / --hub-url for a mirror")
    return f"{what} at {base} is not in the expected shape: {exc}"
