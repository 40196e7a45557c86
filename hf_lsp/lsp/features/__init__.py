"""LSP handlers: each converts params, calls one service, converts the result back."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer


def register_all(server: HfLanguageServer) -> None:
    from hf_lsp.lsp.features import actions, completion, configuration, documents, lifecycle, llm_ls

    lifecycle.register(server)
    configuration.register(server)
    documents.register(server)
    completion.register(server)
    llm_ls.register(server)
    actions.register(server)
