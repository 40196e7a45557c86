"""Document sync: open, change (full or incremental), close."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer


def register(server: HfLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HfLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.documents.open(doc.uri, doc.text, doc.language_id, doc.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HfLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        uri, version = params.text_document.uri, params.text_document.version
        doc = ls.documents.get(uri)
        if doc is None:  # a change to a document never opened: start from nothing
            doc = ls.documents.open(uri, "", "", version)
        encoding = ls.position_encoding
        ls.configuration.engine.typed(uri)  # the typing rhythm the debounce follows
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                doc.apply_change(
                    (start.line, start.character),
                    (end.line, end.character),
                    change.text,
                    version,
                    encoding,
                )
                ls.configuration.engine.edited(uri, start.line)
            else:
                doc.replace_all(change.text, version)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HfLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.close(params.text_document.uri)
        ls.configuration.engine.closed(params.text_document.uri)
