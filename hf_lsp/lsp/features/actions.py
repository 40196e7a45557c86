"""``textDocument/codeAction`` (cheap listing) and the ``hfLsp.runAction`` command that generates.

Listing asks no model: each action is a code action whose command, ``hfLsp.runAction``, takes
one JSON object (``action``, ``uri``, ``range`` and, as the action needs, ``diagnostic``,
``instruction`` or ``index``). The command reports ``$/progress`` (cancellable), applies the
answer with one ``workspace/applyEdit`` re-anchored against the document as it is by then, or
shows an explanation, and answers ``{"status": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

import hf_lsp.actions.service as action_service
from hf_lsp.actions.catalog import (
    CUSTOM,
    FIX,
    Diagnostic,
    NotApplicable,
    Plan,
    Region,
    offers,
    plan,
)
from hf_lsp.errors import HfLspError
from hf_lsp.language.document import Document
from hf_lsp.language.languages import language_from_path
from hf_lsp.language.reanchor import reanchor
from hf_lsp.lsp.features.completion import workspace_path

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer

log = logging.getLogger(__name__)

COMMAND = "hfLsp.runAction"
KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.Refactor,
    types.CodeActionKind.RefactorRewrite,
]
REPORT_EVERY = 0.1  # seconds between two progress reports
REPORT_CHARS = 200  # unless this many characters more arrived
LABEL_CHARS = 48
_told: weakref.WeakKeyDictionary[HfLanguageServer, set[str]] = weakref.WeakKeyDictionary()


def _region(doc: Document, r: types.Range, encoding: str) -> Region:
    sl, si = doc.clamp(r.start.line, r.start.character, encoding)
    el, ei = doc.clamp(r.end.line, r.end.character, encoding)
    if (el, ei) < (sl, si):
        sl, si, el, ei = el, ei, sl, si
    return Region(sl, si, el, ei)


def _range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _language(doc: Document) -> str:
    return doc.language_id or language_from_path(doc.uri)


def _diagnostic_json(d: types.Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {"message": d.message, "range": _range_json(d.range)}
    if d.source:
        out["source"] = d.source
    if d.code is not None:
        out["code"] = d.code
    return out


def _diagnostic(data: Any, doc: Document, encoding: str) -> Diagnostic | None:
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return None
    r = data.get("range") or {}
    try:
        start = int(r["start"]["line"])
        end = int(r["end"]["line"])
    except (KeyError, TypeError, ValueError):
        return None
    return Diagnostic(data["message"], start, end, str(data.get("source") or ""), dict(data))


def _parse_range(data: Any) -> types.Range | None:
    try:
        s, e = data["start"], data["end"]
        return types.Range(
            start=types.Position(line=int(s["line"]), character=int(s["character"])),
            end=types.Position(line=int(e["line"]), character=int(e["character"])),
        )
    except (KeyError, TypeError, ValueError):
        return None


class _Progress:
    """``$/progress`` for one action, when the client takes server-created progress."""

    def __init__(self, ls: HfLanguageServer, title: str) -> None:
        self.ls = ls
        self.title = title
        self.token: str | None = None
        self._last = 0.0
        self._reported = 0

    async def begin(self, on_cancel: Any) -> None:
        window = self.ls.client_capabilities.window
        if not (window and window.work_done_progress):
            return
        token = f"hf-lsp/action/{uuid.uuid4().hex}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses: carry on without progress
            log.info("no progress for %s: %s", self.title, exc)
            return
        self.token = token
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: on_cancel() if f.cancelled() else None)
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=f"hf-lsp: {self.title}", cancellable=True, message="asking the model"
            ),
        )

    def report(self, text: str) -> None:
        now = time.monotonic()
        if self.token is None or len(text) == self._reported:
            return
        grew = len(text) - self._reported
        if self._reported and now - self._last < REPORT_EVERY and grew < REPORT_CHARS:
            return  # a stream reports often: at most every REPORT_EVERY s or REPORT_CHARS
        self._last = now
        self._reported = len(text)
        tokens = len(re.findall(r"\s*\S+", text))
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(
                message=f"{len(text)} characters (~{tokens} tokens) so far", cancellable=True
            ),
        )

    def end(self, message: str) -> None:
        if self.token is None:
            return
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.ls.work_done_progress.tokens.pop(self.token, None)
        self.token = None


def _label(i: int, text: str) -> str:
    first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    lines = len(text.strip("\n").split("\n"))
    short = first if len(first) <= LABEL_CHARS else first[: LABEL_CHARS - 1] + "…"
    return f"{i + 1}: {short} ({lines} line{'s' if lines != 1 else ''})"


def _explanation_file(doc: Document, plan_: Plan, text: str) -> Path:
    import hashlib
    import tempfile  # with shutil, bz2, lzma and zlib: ~5 ms that start-up need not pay

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    stem = re.sub(r"[^\w.-]+", "-", doc.uri.rsplit("/", 1)[-1]) or "code"
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    name = f"{stem}-L{plan_.guard[0] + 1}-{digest}.md"
    body = (
        f"# {plan_.title}: {doc.uri.rsplit('/', 1)[-1]}, lines {plan_.guard[0] + 1}–"
        f"{plan_.guard[1] + 1}\n\n{text.strip()}\n\n```{plan_.language}\n{plan_.code}\n```\n"
    )
    for folder in (Path(base) / "hf-lsp" / "explanations",
                   Path(tempfile.gettempdir()) / "hf-lsp-explanations"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(body, encoding="utf-8")
            return path
        except OSError as exc:
            log.warning("cannot write %s: %s", folder, exc)
    raise OSError("no writable folder for the explanation")


async def _show(ls: HfLanguageServer, doc: Document, plan_: Plan, text: str) -> dict[str, Any]:
    window = ls.client_capabilities.window
    can_show = bool(window and window.show_document and window.show_document.support)
    limit = ls.configuration.settings.actions.show_inline_chars
    if len(text) <= limit or not can_show:
        ls.show(f"hf-lsp: {text}", logging.INFO)
        return {"status": "shown", "as": "message"}
    try:
        path = _explanation_file(doc, plan_, text)
    except OSError:
        ls.show(f"hf-lsp: {text}", logging.INFO)
        return {"status": "shown", "as": "message"}
    uri = path.as_uri()
    try:
        result = await ls.window_show_document_async(
            types.ShowDocumentParams(uri=uri, take_focus=True)
        )
    except Exception as exc:
        log.warning("window/showDocument failed: %s", exc)
        result = None
    if result is None or not result.success:
        ls.show(f"hf-lsp: {text}", logging.INFO)
        return {"status": "shown", "as": "message"}
    return {"status": "shown", "as": "document", "uri": uri}


async def _choose(ls: HfLanguageServer, title: str, texts: tuple[str, ...]) -> str | None:
    """One answer: the only one, or the one the user picks (``None``: none picked)."""
    window = ls.client_capabilities.window
    if len(texts) == 1 or not (window and window.show_message):
        return texts[0]
    labels = [_label(i, t) for i, t in enumerate(texts)]
    try:
        picked = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Info,
                message=f"hf-lsp: {len(texts)} answers for {title}. Which one?",
                actions=[types.MessageActionItem(title=label) for label in labels],
            )
        )
    except Exception as exc:
        log.warning("window/showMessageRequest failed: %s", exc)
        return texts[0]
    if picked is None or picked.title not in labels:
        return None
    return texts[labels.index(picked.title)]


async def _apply(
    ls: HfLanguageServer, uri: str, snapshot: list[str], plan_: Plan, text: str
) -> dict[str, Any]:
    doc = ls.documents.get(uri)
    if doc is None:
        ls.show(f"hf-lsp: {plan_.title}: not applied, the document was closed", logging.WARNING)
        return {"status": "not-applied", "reason": "closed"}
    delta = reanchor(snapshot, doc.lines, plan_.guard)
    if delta is None:
        first, last = plan_.guard
        where = f"line {first + 1}" if first == last else f"lines {first + 1}–{last + 1}"
        ls.show(
            f"hf-lsp: {plan_.title}: not applied, {where} changed while the model was writing",
            logging.WARNING,
        )
        return {"status": "not-applied", "reason": "changed"}
    t = plan_.target
    encoding = ls.position_encoding
    start = doc.position_of(t.start_line + delta, t.start_index, encoding)
    end = doc.position_of(t.end_line + delta, t.end_index, encoding)
    edit = types.TextEdit(
        range=types.Range(start=types.Position(*start), end=types.Position(*end)), new_text=text
    )
    ws = ls.client_capabilities.workspace
    if ws and ws.workspace_edit and ws.workspace_edit.document_changes:
        change = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version
                    ),
                    edits=[edit],
                )
            ]
        )
    else:
        change = types.WorkspaceEdit(changes={uri: [edit]})
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=change, label=f"hf-lsp: {plan_.title}")
    )
    if not result.applied:
        reason = result.failure_reason or "no reason given"
        ls.show(f"hf-lsp: {plan_.title}: the editor did not apply the edit ({reason})",
                logging.WARNING)
        return {"status": "not-applied", "reason": reason}
    return {"status": "applied", "line": start[0]}


async def run_action(ls: HfLanguageServer, args: Any) -> dict[str, Any]:
    """The whole of one action: plan, generate with progress, then apply or show."""
    if not isinstance(args, dict):
        return {"status": "error", "message": "hfLsp.runAction takes one JSON object"}
    uri = args.get("uri")
    doc = ls.documents.get(uri) if isinstance(uri, str) else None
    if doc is None:
        ls.show(f"hf-lsp: {args.get('uri')} is not open", logging.WARNING)
        return {"status": "error", "message": "document not open"}
    encoding = ls.position_encoding
    r = _parse_range(args.get("range")) or types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
    )
    settings = ls.configuration.settings
    action = str(args.get("action", ""))
    instruction = args.get("instruction")
    try:
        plan_ = plan(
            action,
            doc.lines,
            _language(doc),
            _region(doc, r, encoding),
            settings,
            instruction=instruction if isinstance(instruction, str) else "",
            diagnostic=_diagnostic(args.get("diagnostic"), doc, encoding),
            index=int(args.get("index", 0) or 0) if action == CUSTOM else 0,
        )
    except NotApplicable as exc:
        ls.show(f"hf-lsp: {exc}", logging.WARNING)
        return {"status": "not-applicable", "message": str(exc)}
    snapshot = list(doc.lines)
    progress = _Progress(ls, plan_.title)
    engine = ls.configuration.engine
    cancelled_by_client = False
    work: asyncio.Future[action_service.ActionAnswer] | None = None

    def cancel() -> None:
        nonlocal cancelled_by_client
        cancelled_by_client = True
        if work is not None:
            work.cancel()

    msg_id = ls.protocol.msg_id
    request = ls.protocol._request_futures.get(msg_id) if msg_id is not None else None
    if request is not None:  # this executeCommand: `$/cancelRequest` cancels it
        request.add_done_callback(lambda f: cancel() if f.cancelled() else None)
    await progress.begin(cancel)  # before the work, so that its first report has a token
    work = asyncio.ensure_future(
        asyncio.wait_for(
            action_service.run(
                plan_, settings, engine, ls.configuration.chat_engine,
                file=workspace_path(ls, doc.uri) or doc.uri.rsplit("/", 1)[-1],
                on_progress=progress.report,
            ),
            settings.actions.max_time,
        )
    )
    if cancelled_by_client:
        work.cancel()
    try:
        answer = await work
    except asyncio.CancelledError:
        progress.end("cancelled")
        if not cancelled_by_client:
            raise
        log.info("%s: cancelled; nothing was changed", plan_.title)
        return {"status": "cancelled"}
    except asyncio.TimeoutError:
        progress.end("took too long")
        ls.show(f"hf-lsp: {plan_.title} took longer than hfLsp.actions.maxTime "
                f"({settings.actions.max_time:g} s); nothing was changed", logging.WARNING)
        return {"status": "timeout"}
    except HfLspError as exc:
        progress.end("failed")
        ls.show(f"hf-lsp: {plan_.title} failed: {exc}")
        return {"status": "error", "message": str(exc)}
    progress.end("done" + (" (from the cache)" if answer.from_cache else ""))
    if answer.stopped is not None:  # a budget cut it short: say which, once per budget
        cause, message = answer.stopped
        log.warning("%s", message)
        told = _told.setdefault(ls, set())
        if cause not in told:
            told.add(cause)
            ls.show(message, logging.WARNING)
    if not answer.texts:
        ls.show(f"hf-lsp: {plan_.title}: the model's answer held nothing to use",
                logging.WARNING)
        return {"status": "empty"}
    chosen = await _choose(ls, plan_.title, answer.texts)
    if chosen is None:
        return {"status": "dismissed"}
    if plan_.output == "show":
        result = await _show(ls, doc, plan_, chosen)
    else:
        result = await _apply(ls, doc.uri, snapshot, plan_, chosen)
    result.update(mode=answer.mode, fromCache=answer.from_cache, answers=len(answer.texts))
    return result


def register(server: HfLanguageServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=False),
    )
    def code_action(
        ls: HfLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return None
        encoding = ls.position_encoding
        diagnostics = {
            id(d): d for d in params.context.diagnostics if d.source != "hf-lsp"
        }
        found = offers(
            doc.lines,
            _language(doc),
            _region(doc, params.range, encoding),
            ls.configuration.settings,
            [
                Diagnostic(d.message, d.range.start.line, d.range.end.line, d.source or "",
                           {"id": key})
                for key, d in diagnostics.items()
            ],
        )
        only = params.context.only
        out = []
        for offer in found:
            kind = offer.kind
            if only and not any(kind == o or kind.startswith(f"{o}.") for o in only):
                continue
            argument: dict[str, Any] = {
                "action": offer.action,
                "uri": doc.uri,
                "range": _range_json(params.range),
                "version": doc.version,
            }
            attached = None
            if offer.action == FIX:
                attached = diagnostics[offer.arguments["diagnostic"]["id"]]  # type: ignore[index]
                argument["diagnostic"] = _diagnostic_json(attached)
            elif "index" in offer.arguments:
                argument["index"] = offer.arguments["index"]
            out.append(
                types.CodeAction(
                    title=offer.title,
                    kind=types.CodeActionKind(kind),
                    diagnostics=[attached] if attached is not None else None,
                    command=types.Command(title=offer.title, command=COMMAND,
                                          arguments=[argument]),
                )
            )
        return out

    # pygls reads the annotations at run time: `ls` must not name a TYPE_CHECKING-only class
    @server.command(COMMAND)
    async def run(ls: Any, *args: Any) -> dict[str, Any]:
        result = await run_action(ls, args[0] if args else None)
        log.info("%s → %s", COMMAND, json.dumps(result, default=str)[:200])
        return result
