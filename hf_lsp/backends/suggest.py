"""Code models Inference Providers serve now, named in the message about a model none serves.

When the configured model is unknown to the Hub or no provider serves it, the one message
that says so also names a few code models that are served: read once, off the typing path,
from the listings ``hf-lsp models`` reads (:mod:`hf_lsp.backends.listing`), with a short
timeout. Fill-in-the-middle models whose FIM tokens hf-lsp knows come first, then chat
models. When the listings cannot be read, the message points to ``hf-lsp models`` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import httpx

from hf_lsp.backends.catalog import Offer, offers
from hf_lsp.backends.listing import Listing
from hf_lsp.backends.providers import MODELS_HINT
from hf_lsp.config.settings import Network
from hf_lsp.errors import BackendError

log = logging.getLogger(__name__)

READ_TIMEOUT = 4.0  # seconds per listing request
FIM_NAMED = 3  # fill-in-the-middle models named, at most
NAMED = 4  # models named in all


async def read_offers(
    network: Network,
    token: str | None,
    router: str,
    hub: str,
    *,
    trusted: Iterable[str] = (),
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Offer] | None:
    """The code models both listings show (``None``: neither could be read)."""
    listing = Listing(network, token, trusted=trusted, transport=transport,
                      timeout=READ_TIMEOUT)
    router_data: object = None
    hub_data: list[object] = []
    read = 0
    try:
        try:
            router_data = await listing.router_models(router)
            read += 1
        except BackendError as exc:
            log.info("cannot read the router's model list for suggestions: %s", exc)
        try:
            hub_data = await listing.hub_models(hub)
            read += 1
        except BackendError as exc:
            log.info("cannot read the Hub's model listing for suggestions: %s", exc)
    finally:
        await listing.aclose()
    return offers(router_data, hub_data) if read else None


def suggested(rows: Sequence[Offer], exclude: str = "") -> list[str]:
    """A few live code models, FIM ones with a known family first, then chat ones."""
    live = [o for o in rows if o.status == "live" and o.model != exclude]
    fim = list(dict.fromkeys(o.model for o in live if o.route == "fim" and o.family))
    chat = list(dict.fromkeys(o.model for o in live if o.route == "chat" and o.model not in fim))
    names = [f"{m} (fill-in-the-middle)" for m in fim[:FIM_NAMED]]
    names += [f"{m} (chat)" for m in chat[: NAMED - len(names)]]
    return names


def hint(names: Sequence[str]) -> str:
    """What replaces the pointer to ``hf-lsp models`` when served models are known."""
    if not names:
        return MODELS_HINT
    return f"code models served now: {', '.join(names)} (`hf-lsp models` lists them all)"


def with_suggestions(exc: BackendError, names: Sequence[str]) -> BackendError:
    """``exc`` with the served models named in place of the pointer to ``hf-lsp models``."""
    if not names or MODELS_HINT not in exc.message:
        return exc
    exc.message = exc.message.replace(MODELS_HINT, hint(names))
    exc.args = (exc.message,)
    return exc


__all__ = ["hint", "read_offers", "suggested", "with_suggestions"]
