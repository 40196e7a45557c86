"""The language server: built by :func:`create_server`, handlers registered from ``handlers/``."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from hf_lsp import __version__
from hf_lsp.config.layered import Configuration
from hf_lsp.config.settings import Settings
from hf_lsp.language.document import DocumentStore
from hf_lsp.logs import EditorLogHandler

if TYPE_CHECKING:
    import httpx  # only for annotations: httpx loads with the first backend

log = logging.getLogger(__name__)

_MESSAGE_TYPES = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class HfLspProtocol(LanguageServerProtocol):
    """pygls's protocol, answering requests whose params cannot be read instead of dropping them."""

    _initialize_seen = False

    def handle_message(self, message: Any) -> None:
        """Lifecycle rules pygls leaves out: answer what it would drop silently."""
        if not hasattr(message, "jsonrpc"):  # valid JSON, but not a JSON-RPC message
            msg_id = message.get("id") if isinstance(message, dict) else None
            self._send_error(msg_id, types.ErrorCodes.InvalidRequest, "not a JSON-RPC message")
            return
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if method == types.INITIALIZE:
            self._initialize_seen = True
        elif method != types.EXIT and not self._initialize_seen:
            if is_request:  # LSP: requests before initialize get ServerNotInitialized
                self._send_error(message.id, types.ErrorCodes.ServerNotInitialized,
                                 f"{method} before initialize")
            return  # notifications before initialize are dropped
        if self._shutdown and method != types.EXIT and is_request:
            # LSP: requests after shutdown error with InvalidRequest (pygls sends nothing)
            self._send_error(message.id, types.ErrorCodes.InvalidRequest,
                             f"{method} after shutdown")
            return
        super().handle_message(message)

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        # written by hand: pygls drops a null id, which JSON-RPC requires here
        self._send_data({"jsonrpc": "2.0", "id": msg_id,
                         "error": {"code": int(code), "message": message}})

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and "method" in data and "params" not in data:
            data = {**data, "params": None}  # JSON-RPC lets a request omit its params
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                self._send_response(data["id"], None, exc.to_response_error())
            raise

    # Document sync: hf-lsp keeps its own documents (hf_lsp.language.document). pygls's built-in
    # handlers would keep a second copy, re-joined on every keystroke, and its position codec
    # rewrites the change's range in place before our handler sees it: a character past the
    # end of the last line becomes one before its end, and lines are split where
    # str.splitlines() splits (\x0b, \x0c, \x85, \u2028…), not where LSP does. They are
    # also generators, and pygls keeps the future of a generator run for a notification in
    # its request table for good: one leaked entry per keystroke. So these plain functions
    # only call the registered (synchronous) handlers.

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def _user_handler(self, method: str, params: Any) -> None:
        if (handler := self.fm.features.get(method)) is not None:
            result = handler(params)
            if inspect.isawaitable(result):  # an async handler, should one be registered
                self._server.run_task(result, method)  # type: ignore[attr-defined]


class HfLanguageServer(LanguageServer):
    """The server object: documents, configuration and the completion engine hang off it."""

    def __init__(
        self,
        settings: Settings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__("hf-lsp", __version__, protocol_cls=HfLspProtocol)
        self.documents = DocumentStore()
        self.transport = transport
        self.tasks: set[asyncio.Task[Any]] = set()
        self.initial_settings: asyncio.Task[Any] | None = None  # the `initialize` options
        self.configuration = Configuration(
            settings, transport=transport, alert=lambda _cause, message: self.show(message)
        )
        self.log_handler = EditorLogHandler(self.send_log)

    @property
    def position_encoding(self) -> str:
        try:
            encoding = self.workspace.position_encoding
        except RuntimeError:  # before initialize
            encoding = None
        if isinstance(encoding, types.PositionEncodingKind):
            return encoding.value
        return encoding or types.PositionEncodingKind.Utf16.value

    def send_log(self, level: int, message: str) -> None:
        kind = _MESSAGE_TYPES.get(level, types.MessageType.Log)
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def show(self, message: str, level: int = logging.ERROR) -> None:
        """A pop-up, for what the user must act on (callers make sure it is once per cause)."""
        kind = _MESSAGE_TYPES.get(level, types.MessageType.Info)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def start_tcp(self, host: str, port: int) -> None:
        """Serve over TCP, reading frames as on stdio (a broken frame costs only itself)."""
        from threading import Event

        from pygls.io_ import run_async

        from hf_lsp.lsp.framing import AsyncResync

        self._stop_event = stop = Event()

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await run_async(stop_event=stop, reader=AsyncResync(reader),
                            protocol=self.protocol, logger=log,
                            error_handler=self.report_server_error)
            self.shutdown()  # type: ignore[no-untyped-call]

        async def serve() -> None:
            self._server = await asyncio.start_server(connected, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except asyncio.CancelledError:  # shutdown closed the listening socket
            pass

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a background coroutine, keep a reference, and log what it raises."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed: %s", name, t.exception(), exc_info=t.exception())

        task.add_done_callback(done)
        return task

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls would pop up "Error in server" for every bad message: log it instead
        log.error("%s: %s", getattr(source, "__name__", source), error)
        if source is JsonRpcException and isinstance(error, ValueError):
            # the reader could not decode a frame's body (not JSON, not UTF-8): JSON-RPC
            # answers a parse error with id null, and the server carries on
            self.protocol._send_error(None, types.ErrorCodes.ParseError,  # type: ignore[attr-defined]
                                      f"parse error: {error}")


def create_server(
    settings: Settings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HfLanguageServer:
    """A fully wired server. ``settings`` replaces the defaults, ``transport`` the network."""
    from hf_lsp.lsp.features import register_all

    server = HfLanguageServer(settings, transport)
    register_all(server)
    return server
