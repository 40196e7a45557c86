"""llm-ls compatibility: ``llm-ls/getCompletions``, ``acceptCompletion``, ``rejectCompletion``.

llm.nvim and llm-vscode send their settings with every request; they become the highest
settings layer (``llm-ls``), applied only when they change. The answer is the text to insert
at the cursor, as llm-ls gives it: ``{"request_id", "completions": [{"generated_text"}]}``.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hf_lsp.config.settings import BACKENDS

if TYPE_CHECKING:
    from hf_lsp.lsp.server import HfLanguageServer

log = logging.getLogger(__name__)

GET_COMPLETIONS = "llm-ls/getCompletions"
ACCEPT = "llm-ls/acceptCompletion"
REJECT = "llm-ls/rejectCompletion"
KEPT = 256
_PARAMETERS = (
    "max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "max_time",
    "do_sample", "stop", "num_return_sequences",
)


def plain(value: Any) -> Any:
    """Turn the namedtuples pygls makes of unknown methods' params back into plain values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def overrides(params: Mapping[str, Any], said: set[str]) -> dict[str, Any]:
    """The hf-lsp settings an llm-ls request carries (``said``: notes already logged)."""
    out: dict[str, Any] = {}
    if isinstance(params.get("model"), str) and params["model"].strip():
        out["model"] = params["model"]
    if isinstance(params.get("apiToken"), str) and params["apiToken"]:
        out["apiToken"] = params["apiToken"]
    backend = params.get("backend")
    if isinstance(backend, str) and backend in BACKENDS:
        out["backend"] = backend
    elif backend and _once(said, f"backend {backend}"):
        log.warning("llm-ls backend %r is not supported here; using %s", backend, BACKENDS[0])
    if isinstance(params.get("url"), str) and params["url"]:
        out["url"] = params["url"]
    fim = params.get("fim")
    if isinstance(fim, Mapping):
        enabled = fim.get("enabled")
        out["fim"] = {"enabled": bool(enabled) if enabled is not None else True}
        tokens = [fim.get(k) for k in ("prefix", "suffix", "middle")]
        if enabled and all(isinstance(t, str) and t for t in tokens):
            out["fim"].update(dict(zip(("prefix", "suffix", "middle"), tokens, strict=True)))
    window = params.get("contextWindow")
    if isinstance(window, int) and not isinstance(window, bool) and window > 0:
        out["tokens"] = {"contextWindow": max(64, window)}
    body = params.get("requestBody")
    if isinstance(body, Mapping) and isinstance(body.get("parameters"), Mapping):
        chosen = {k: v for k, v in body["parameters"].items() if k in _PARAMETERS}
        if chosen:
            out["parameters"] = chosen
    clear = params.get("tokensToClear")
    if isinstance(clear, list) and any(isinstance(t, str) and t for t in clear):
        out["tokensToClear"] = [t for t in clear if isinstance(t, str) and t]
    tokenizer = params.get("tokenizerConfig")
    if isinstance(tokenizer, Mapping):
        counting = _tokenizer(tokenizer, said)
        if counting:
            out.setdefault("tokens", {}).update(counting)
    # only `true` is mapped: llm-ls's `false` defaults must not undo the user's own settings
    if params.get("tlsSkipVerifyInsecure") is True:
        out["network"] = {"tlsVerify": False}
    if params.get("disableUrlPathCompletion") is True:
        out["urlPathCompletion"] = False
    return out


def _tokenizer(config: Mapping[str, Any], said: set[str]) -> dict[str, str]:
    """``tokenizerConfig`` as ``tokens`` settings: a file, a Hub repository, or a download.

    Naming a repository or a URL is the user asking for that download, so it needs no
    ``allowDownload``.
    """
    path, repository = config.get("path"), config.get("repository")
    url, to = config.get("url"), config.get("to")
    if isinstance(path, str) and path:
        return {"tokenizerPath": path}
    if isinstance(repository, str) and repository:
        if config.get("api_token") and _once(said, "tokenizer token"):
            log.info("tokenizerConfig.api_token is not used: the Hub is asked with the Hugging "
                     "Face token (apiToken, $HF_TOKEN or the login file)")
        return {"tokenizerRepository": repository}
    if isinstance(url, str) and url and isinstance(to, str) and to:
        return {"tokenizerPath": to, "tokenizerUrl": url}
    if _once(said, "tokenizer"):
        log.warning("llm-ls tokenizerConfig %s names no path, repository, or url and to; "
                    "estimating tokens", sorted(config))
    return {}


def invoked(params: Mapping[str, Any]) -> bool:
    """Whether the user asked for this completion (a key, a command) rather than typed.

    llm-ls's own params do not say; a client says so as inline completion does, with
    ``triggerKind`` 1 (Invoked) at the top or in ``context``.
    """
    context = params.get("context")
    kind = context.get("triggerKind") if isinstance(context, Mapping) else None
    kind = params.get("triggerKind", kind)
    return kind == 1 and not isinstance(kind, bool)


def _request_id() -> str:
    """A random UUID (version 4), as llm-ls sends; without the `uuid` module's start-up cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _once(said: set[str], what: str) -> bool:
    if what in said:
        return False
    said.add(what)
    return True


def register(server: HfLanguageServer) -> None:
    issued: OrderedDict[str, list[str]] = OrderedDict()  # request id → suggestion ids
    said: set[str] = set()
    last: list[dict[str, Any]] = [{}]

    @server.feature(GET_COMPLETIONS)
    async def get_completions(ls: HfLanguageServer, params: Any) -> dict[str, Any]:
        data = plain(params) or {}
        request_id = _request_id()
        wanted = overrides(data, said)
        if wanted != last[0]:
            last[0] = wanted
            await ls.configuration.update("llm-ls", wanted)
        document = data.get("textDocument") or {}
        position = data.get("position") or {}
        doc = ls.documents.get(str(document.get("uri", "")))
        if doc is None:
            log.warning("llm-ls/getCompletions for %s, which is not open", document.get("uri"))
            return {"request_id": request_id, "completions": []}
        from hf_lsp.lsp.features.completion import workspace_name, workspace_path

        line, index = doc.clamp(
            int(position.get("line", 0)), int(position.get("character", 0)), ls.position_encoding
        )
        outcome = await ls.configuration.engine.complete(
            doc, line, index, workspace_path(ls, doc.uri), others=ls.documents,
            repo=workspace_name(ls, doc.uri), ranges=False, invoked=invoked(data),
            alternatives=False,
        )
        issued[request_id] = [c.id for c in outcome.completions]
        while len(issued) > KEPT:
            issued.popitem(last=False)
        return {
            "request_id": request_id,
            "completions": [{"generated_text": c.text} for c in outcome.completions],
        }

    def _ids(data: Mapping[str, Any]) -> tuple[list[str], list[int], int | None]:
        ids = issued.get(str(data.get("request_id", data.get("requestId", ""))), [])
        shown = data.get("shown_completions", data.get("shownCompletions")) or []
        accepted = data.get("accepted_completion", data.get("acceptedCompletion"))
        return ids, [i for i in shown if isinstance(i, int)], accepted

    @server.feature(ACCEPT)
    def accept(ls: HfLanguageServer, params: Any) -> None:
        ids, shown, accepted = _ids(plain(params) or {})
        engine = ls.configuration.engine
        for i in shown:
            if 0 <= i < len(ids):
                engine.shown(ids[i])
        if isinstance(accepted, int) and 0 <= accepted < len(ids):
            engine.shown(ids[accepted])
            engine.accepted(ids[accepted])

    @server.feature(REJECT)
    def reject(ls: HfLanguageServer, params: Any) -> None:
        ids, shown, _ = _ids(plain(params) or {})
        for i in shown:
            if 0 <= i < len(ids):
                ls.configuration.engine.shown(ids[i])
