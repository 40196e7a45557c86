"""``hf-lsp models``: the code models Inference Providers serve now, and through which route.

The listings and the rules (which models are code models, which FIM template each takes)
are :mod:`hf_lsp.backends.catalog`'s; this module prints them as a table or as JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from hf_lsp.backends.catalog import DEFAULT_ROUTER, Offer, offers, router_base
from hf_lsp.config.settings import Settings, hub_endpoint


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
