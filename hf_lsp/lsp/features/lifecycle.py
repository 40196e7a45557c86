"""initialize / initialized / shutdown, and the ``hfLsp/status`` request."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer

log = logging.getLogger(__name__)

STATUS = "hfLsp/status"


def register(server: HfLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: HfLanguageServer, params: types.InitializeParams) -> None:
        logging.getLogger("hf_lsp").addHandler(ls.log_handler)
        client = params.client_info.name if params.client_info else "an unknown client"
        log.info("hf-lsp %s serving %s (positions in %s)", ls.version, client, ls.position_encoding)
        # applied right after the answer, which this (synchronous) handler lets pygls send at
        # once: reading settings first builds their converter (~25 ms), which start-up need
        # not wait for. The task runs before the handler of anything the client sends after
        # the answer (initialized waits for it all the same)
        ls.initial_settings = ls.run_task(
            ls.configuration.update("init", params.initialization_options), "initialize"
        )

    @server.feature(types.INITIALIZED)
    async def initialized(ls: HfLanguageServer, params: types.InitializedParams) -> None:
        from hf_lsp.lsp.features.configuration import pull

        if ls.initial_settings is not None:  # the pull overrides them: it comes after them
            await asyncio.wait({ls.initial_settings})
        await pull(ls)
        ls.configuration.warm()  # after `initialize` is answered: start-up does not wait

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: HfLanguageServer, params: Any) -> None:
        for task in list(ls.tasks):
            task.cancel()
        await ls.configuration.aclose()
        logging.getLogger("hf_lsp").removeHandler(ls.log_handler)

    @server.feature(STATUS)
    def status(ls: HfLanguageServer, params: Any) -> dict[str, Any]:
        figures = dict(ls.configuration.engine.status())
        figures.update(ls.configuration.meter.status())
        figures["tokenSource"] = ls.configuration.token_source
        figures["documents"] = len(ls.documents)
        figures["version"] = ls.version
        # leak detectors: pending asyncio tasks (the server's own reader loop included; a
        # synchronous handler adds none), LSP requests still running, shared backend calls
        figures["tasks"] = len(asyncio.all_tasks())
        figures["pendingRequests"] = len(getattr(ls.protocol, "_request_futures", ()))
        figures["inFlight"] = ls.configuration.engine.cache.in_flight
        return figures
