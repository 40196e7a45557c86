"""``workspace/didChangeConfiguration`` and pulling ``workspace/configuration``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from hf_lsp.config.settings import SECTION

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer

log = logging.getLogger(__name__)


def can_pull(ls: HfLanguageServer) -> bool:
    workspace = ls.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


async def pull(ls: HfLanguageServer) -> None:
    """Ask the client for the ``hfLsp`` section, when it can answer."""
    if not can_pull(ls):
        return
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
    except Exception as exc:  # a client that fails the request still has its pushed settings
        log.warning("workspace/configuration failed: %s", exc)
        return
    value = answer[0] if answer else None
    await ls.configuration.update("pull", value if isinstance(value, dict) else {})


def register(server: HfLanguageServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: HfLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if params.settings is not None:
            await ls.configuration.update("push", params.settings)
        await pull(ls)
