"""An editor's side of code actions, for the end-to-end tests: documents the client keeps in
step with the server, ``workspace/applyEdit`` applied to them, ``window/showMessageRequest``
answered, and code action listings read as ``CodeAction`` objects."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient


def offset(text: str, pos: types.Position) -> int:
    """A UTF-16 position as an index into ``text`` (the tests use ASCII and plain ``\\n``)."""
    lines = text.split("\n")
    line = min(pos.line, len(lines) - 1)
    return sum(len(ln) + 1 for ln in lines[:line]) + min(pos.character, len(lines[line]))


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start, end = offset(text, edit.range.start), offset(text, edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


@dataclass
class Editor:
    """What the editor holds: each document's text and version, and what the server asked."""

    client: LanguageClient
    texts: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    applied: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    requests: list[types.ShowMessageRequestParams] = field(default_factory=list)
    pick: int | None = 0  # which action a showMessageRequest answers with (None: dismissed)

    def __post_init__(self) -> None:
        client = self.client
        converter = client.protocol._converter

        def action_or_command(obj: Any, _: Any) -> Any:
            if isinstance(obj.get("command"), str):
                return converter.structure(obj, types.Command)
            return converter.structure(obj, types.CodeAction)

        converter.register_structure_hook(
            Union[types.Command, types.CodeAction], action_or_command  # noqa: UP007
        )

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(
            _client: LanguageClient, params: types.ApplyWorkspaceEditParams
        ) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params)
            edit = params.edit
            changes: list[tuple[str, int | None, list[types.TextEdit]]] = []
            for change in edit.document_changes or []:
                assert isinstance(change, types.TextDocumentEdit)
                edits = [e for e in change.edits if isinstance(e, types.TextEdit)]
                changes.append((change.text_document.uri, change.text_document.version, edits))
            for uri, edits in (edit.changes or {}).items():
                changes.append((uri, None, list(edits)))
            for uri, version, _ in changes:
                if version is not None and version != self.versions.get(uri):
                    return types.ApplyWorkspaceEditResult(
                        applied=False, failure_reason=f"version {version} is not current"
                    )
            for uri, _, edits in changes:
                self.change(uri, apply_edits(self.texts[uri], edits))
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def message_request(
            _client: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            self.requests.append(params)
            if self.pick is None or not params.actions:
                return None
            return params.actions[self.pick]

    def open(self, text: str, uri: str = "file:///work/demo.py",
             language: str = "python") -> str:
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                                     text=text)
            )
        )
        return uri

    def change(self, uri: str, text: str) -> None:
        """The user (or an applied edit) changed the document: tell the server."""
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def actions(
        self, uri: str, line: int, character: int = 0, end: tuple[int, int] | None = None,
        diagnostics: list[types.Diagnostic] | None = None, only: list[str] | None = None,
    ) -> list[types.CodeAction]:
        end_line, end_char = end if end is not None else (line, character)
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(
                    start=types.Position(line=line, character=character),
                    end=types.Position(line=end_line, character=end_char),
                ),
                context=types.CodeActionContext(
                    diagnostics=diagnostics or [],
                    only=[types.CodeActionKind(o) for o in only] if only else None,
                ),
            )
        )
        out = []
        for item in result or []:
            assert isinstance(item, types.CodeAction), item
            out.append(item)
        return out

    def send(self, arguments: dict[str, Any]) -> tuple[str, Any]:
        """Start ``hfLsp.runAction``; returns its request id and the future of its answer."""
        msg_id = f"run-{uuid.uuid4().hex[:8]}"
        future = asyncio.ensure_future(self.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="hfLsp.runAction", arguments=[arguments]),
            msg_id=msg_id,
        ))
        return msg_id, future

    async def run(self, action: types.CodeAction | dict[str, Any],
                  **extra: Any) -> dict[str, Any]:
        arguments = action if isinstance(action, dict) else command_argument(action)
        _, future = self.send({**arguments, **extra})
        result = await future
        assert isinstance(result, dict), result
        return result


def command_argument(action: types.CodeAction) -> dict[str, Any]:
    assert action.command is not None and action.command.command == "hfLsp.runAction"
    (argument,) = action.command.arguments or []
    assert isinstance(argument, dict)
    return argument


def titled(actions: list[types.CodeAction], start: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(start)]
    assert len(found) == 1, [a.title for a in actions]
    return found[0]


def progress_kinds(client: LanguageClient) -> list[list[str]]:
    return [
        [getattr(v, "kind", "?") for v in values]
        for token, values in client.progress_reports.items()
        if str(token).startswith("hf-lsp/action/")
    ]
