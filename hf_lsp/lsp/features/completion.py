"""``textDocument/inlineCompletion`` (ghost text) and ``textDocument/completion`` (a list item)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from hf_lsp.completion.service import Outcome

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer

log = logging.getLogger(__name__)

_WORD_BEFORE = re.compile(r"\w*$")
LABEL_LIMIT = 60


ACCEPT_COMMAND = "hfLsp.accept"
DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"


async def _complete(
    ls: HfLanguageServer,
    uri: str,
    position: types.Position,
    *,
    invoked: bool = False,
    ranges: bool = False,
) -> tuple[Outcome, types.Position] | None:
    doc = ls.documents.get(uri)
    if doc is None:
        log.warning("completion asked for %s, which is not open", uri)
        return None
    encoding = ls.position_encoding
    line, index = doc.clamp(position.line, position.character, encoding)
    outcome = await ls.configuration.engine.complete(
        doc,
        line,
        index,
        workspace_path(ls, uri),
        others=ls.documents,
        repo=workspace_name(ls, uri),
        invoked=invoked,
        ranges=ranges,
    )
    at = types.Position(*doc.position_of(line, index, encoding))
    return outcome, at


def workspace_name(ls: HfLanguageServer, uri: str) -> str:
    """The name of the workspace folder holding ``uri`` (a repository name for the prompt)."""
    try:
        folders = list(ls.workspace.folders.values())
    except RuntimeError:
        return ""
    for folder in folders:
        if uri.startswith(folder.uri.rstrip("/") + "/"):
            return str(folder.name)
    root = ls.workspace.root_uri or ""
    return unquote(root.rstrip("/").rsplit("/", 1)[-1]) if root else ""


def _item_id(item: object) -> str | None:
    """The suggestion id in an item's command arguments (items come back in notifications)."""
    command = getattr(item, "command", None)
    if isinstance(item, dict):
        command = item.get("command")
    arguments = command.get("arguments") if isinstance(command, dict) else getattr(
        command, "arguments", None
    )
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], str):
        return arguments[0]
    return None


def workspace_path(ls: HfLanguageServer, uri: str) -> str | None:
    """The document's path relative to its workspace folder, as the prompt names it."""
    try:
        folders = [f.uri for f in ls.workspace.folders.values()] or [ls.workspace.root_uri]
    except RuntimeError:  # no workspace before initialize
        return None
    for root in sorted((f for f in folders if f), key=len, reverse=True):
        base = root.rstrip("/") + "/"
        if uri.startswith(base):
            return unquote(uri[len(base):])
    return None


_SNIPPET_SPECIAL = re.compile(r"([\\$}])")


def snippet_literal(text: str) -> str:
    """``text`` as a snippet that inserts exactly ``text`` (backslash, ``$`` and ``}`` escaped)."""
    return _SNIPPET_SPECIAL.sub(r"\\\1", text)


def _item_capabilities(ls: HfLanguageServer) -> Any:
    text_document = ls.client_capabilities.text_document
    completion = text_document.completion if text_document else None
    return completion.completion_item if completion else None


def client_has_snippets(ls: HfLanguageServer) -> bool:
    item = _item_capabilities(ls)
    return bool(item and item.snippet_support)


def client_has_markdown(ls: HfLanguageServer) -> bool:
    item = _item_capabilities(ls)
    return bool(item and types.MarkupKind.Markdown in (item.documentation_format or ()))


def client_has_inline(ls: HfLanguageServer) -> bool:
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.inline_completion is not None)


def register(server: HfLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: HfLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        result = await _complete(
            ls, params.text_document.uri, params.position, invoked=invoked, ranges=True
        )
        if result is None:
            return None
        outcome, at = result
        doc = ls.documents.get(params.text_document.uri)
        items = []
        for c in outcome.completions:
            end = at  # insert at the cursor: nothing typed is replaced …
            if c.replace and doc is not None:  # … but auto-closed `)` `"` the text writes are
                end = types.Position(
                    *doc.position_of(c.line, c.index + c.replace, ls.position_encoding)
                )
            items.append(
                types.InlineCompletionItem(
                    insert_text=c.text,
                    range=types.Range(start=at, end=end),
                    command=types.Command(title="hf-lsp: accepted", command=ACCEPT_COMMAND,
                                          arguments=[c.id]),
                )
            )
        return types.InlineCompletionList(items=items)

    @server.command(ACCEPT_COMMAND)
    def accept(ls: Any, *args: Any) -> None:  # pygls reads these hints at run time
        if args and isinstance(args[0], str):
            ls.configuration.engine.accepted(args[0])

    @server.feature(DID_SHOW)
    def did_show(ls: HfLanguageServer, params: Any) -> None:
        ident = _item_id(getattr(params, "item", None))
        if ident is not None:
            ls.configuration.engine.shown(ident)

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: HfLanguageServer, params: Any) -> None:
        ident = _item_id(getattr(params, "item", None))
        if ident is not None:
            ls.configuration.engine.accepted(ident, partial=True)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(
        ls: HfLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        if client_has_inline(ls):
            return None  # the client shows the same suggestion as ghost text
        result = await _complete(ls, params.text_document.uri, params.position)
        if result is None:
            return None
        outcome, at = result
        doc = ls.documents.get(params.text_document.uri)
        # a snippet (escaped, so it is taken literally) where the client takes snippets: some
        # cut a plain-text edit at its first space (Neovim 0.11's built-in completion); plain
        # text elsewhere, which a client without snippets inserts as it is (Eglot without
        # yasnippet would insert the escapes)
        snippets = client_has_snippets(ls)
        markdown = client_has_markdown(ls)
        items = []
        for c in outcome.completions:
            assert doc is not None
            word = _WORD_BEFORE.search(doc.line_text(c.line)[: c.index])
            typed = word.group(0) if word else ""
            start = types.Position(
                *doc.position_of(c.line, c.index - len(typed), ls.position_encoding)
            )
            first = (typed + c.text).strip().splitlines()[0] if (typed + c.text).strip() else c.text
            items.append(
                types.CompletionItem(
                    label=first if len(first) <= LABEL_LIMIT else first[:LABEL_LIMIT] + "…",
                    kind=types.CompletionItemKind.Snippet,
                    detail=f"hf-lsp · {ls.configuration.settings.model}",
                    documentation=types.MarkupContent(
                        kind=types.MarkupKind.Markdown, value=f"```\n{typed + c.text}\n```"
                    ) if markdown else typed + c.text,  # a string: plain text to any client
                    filter_text=typed + c.text,
                    sort_text="0",
                    insert_text_format=types.InsertTextFormat.Snippet
                    if snippets else types.InsertTextFormat.PlainText,
                    text_edit=types.TextEdit(
                        range=types.Range(start=start, end=at),
                        new_text=snippet_literal(typed + c.text) if snippets else typed + c.text,
                    ),
                )
            )
        # incomplete: the next keystroke asks again (answered from the cache when it can be)
        return types.CompletionList(is_incomplete=True, items=items)
