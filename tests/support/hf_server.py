"""A local fake of the Hugging Face serverless Inference API text-generation endpoint."""

from __future__ import annotations

import json
import re
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import unquote, urlsplit

_MODEL_PATH = re.compile(r"^/(?:hf-inference/)?models/(?P<model>[^/]+(?:/[^/]+)?)/?$")
_TOKEN = re.compile(r"\s*\S+|\s+")
_JSON = "application/json"
_SLEEP_STEP = 0.02
MAX_NEW_TOKENS_LIMIT = 250
RATE_LIMIT_MESSAGE = (
    "Rate limit reached. You reached free usage limit (reset hourly). "
    "Please subscribe to a plan at https://huggingface.co/pricing to use the API at this rate"
)
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    model: str | None


@dataclass
class FakeModel:
    """A model the server knows: what it generates and how it misbehaves."""

    completion: str
    loading_for: int = 0
    estimated_time: float | None = 20.0
    rejected_parameters: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour: a canned reply, a dropped connection or a delay."""

    kind: Literal["reply", "drop", "delay"]
    code: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    @classmethod
    def status(
        cls,
        code: int,
        body: dict[str, Any] | list[Any] | str,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        if isinstance(body, str):
            data, content_type = body.encode(), "text/plain; charset=utf-8"
        else:
            data, content_type = _dumps(body), _JSON
        merged = _merge_headers({"Content-Type": content_type}, headers or {})
        return cls("reply", code, data, tuple(merged.items()))

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Fault:
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        return cls.status(429, {"error": RATE_LIMIT_MESSAGE}, headers)

    @classmethod
    def malformed(cls) -> Fault:
        return cls._raw(200, b'[{"generated_text": "abc', _JSON)

    @classmethod
    def wrong_shape(cls) -> Fault:
        return cls.status(200, {"unexpected": True})

    @classmethod
    def empty(cls) -> Fault:
        return cls._raw(200, b"", _JSON)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)

    @classmethod
    def html(cls, code: int = 502) -> Fault:
        page = f"<html><body><h1>{code} {_phrase(code)}</h1></body></html>"
        return cls._raw(code, page.encode(), "text/html")

    @classmethod
    def _raw(cls, code: int, body: bytes, content_type: str) -> Fault:
        return cls("reply", code, body, (("Content-Type", content_type),))


@dataclass
class _Reply:
    code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def tokenize(text: str) -> list[str]:
    """Split text into fake tokens: optional leading whitespace plus a run of non-space."""
    return _TOKEN.findall(text)


def generate(completion: str, max_new_tokens: int, stops: list[str]) -> tuple[str, int]:
    """Return the continuation and its token count, cut after the first stop sequence."""
    tokens = tokenize(completion)[:max_new_tokens]
    text = ""
    for count, token in enumerate(tokens, start=1):
        text += token
        cut = _stop_cut(text, stops)
        if cut is not None:
            return text[:cut], count
    return text, len(tokens)


def remaining(completion: str, inputs: str) -> str:
    """What is left of ``completion`` when ``inputs`` already ends with a start of it.

    A real model continues from its prompt; a client that continues a generation sends the
    prompt plus the text so far, and gets the rest.
    """
    middle = inputs.rsplit("<fim_middle>", 1)[-1] if "<fim_middle>" in inputs else ""
    if middle and completion.startswith(middle):
        return completion[len(middle) :]
    return completion


def _stop_cut(text: str, stops: list[str]) -> int | None:
    ends = [text.find(stop) + len(stop) for stop in stops if stop and stop in text]
    return min(ends) if ends else None


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _merge_headers(defaults: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    overridden = {name.lower() for name in extra}
    merged = {k: v for k, v in defaults.items() if k.lower() not in overridden}
    return merged | dict(extra)


def _json_reply(code: int, value: Any, headers: Mapping[str, str] | None = None) -> _Reply:
    return _Reply(code, _dumps(value), {"Content-Type": _JSON, **(headers or {})})


def _error(code: int, message: str, **extra: Any) -> _Reply:
    return _json_reply(code, {"error": message, **extra})


def _parse_body(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _model_of(path: str) -> str | None:
    match = _MODEL_PATH.match(unquote(urlsplit(path).path))
    return match["model"] if match else None


def _body_problem(body: Any) -> str | None:
    prefix = "Failed to deserialize the JSON body into the target type: "
    if not isinstance(body, dict):
        return prefix + "expected a JSON object"
    if "inputs" not in body:
        return prefix + "missing field `inputs`"
    if not isinstance(body["inputs"], str):
        return prefix + "`inputs` must be a string"
    for name in ("parameters", "options"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            return prefix + f"`{name}` must be an object"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _range_problem(
    name: str, value: Any, low: float, high: float, check: Callable[..., bool]
) -> str | None:
    if value is None or (check(value) and low <= value <= high):
        return None
    return f"Input validation error: `{name}` must be between {low} and {high}. Given: {value!r}"


def _parameter_problem(params: Mapping[str, Any]) -> str | None:
    problems = [
        _range_problem(
            "max_new_tokens", params.get("max_new_tokens"), 0, MAX_NEW_TOKENS_LIMIT, _is_int
        ),
        _range_problem("temperature", params.get("temperature"), 0, 100, _is_number),
        _range_problem("num_return_sequences", params.get("num_return_sequences"), 1, 100, _is_int),
    ]
    return next((problem for problem in problems if problem), None)


def _unused_parameters_reply(names: list[str]) -> _Reply:
    message = (
        f"The following `model_kwargs` are not used by the model: {names!r} "
        "(note: typos in the generate arguments will also show up in this list)"
    )
    return _json_reply(400, {"error": message, "warnings": []})


def _wants_wait(headers: Mapping[str, str], body: Mapping[str, Any]) -> bool:
    options = body.get("options") or {}
    return options.get("wait_for_model") is True or headers.get("x-wait-for-model") == "true"


class Serving:
    """A loopback server used as a context manager: started on entry, stopped on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class FakeInferenceServer(Serving):
    """A threaded HTTP server on 127.0.0.1 that answers like the HF Inference API."""

    DEFAULT_MAX_NEW_TOKENS = 8

    def __init__(
        self,
        models: dict[str, FakeModel] | None = None,
        token: str | None = None,
        *,
        load_delay: float = 0.05,
    ) -> None:
        self.models: dict[str, FakeModel] = {}
        self.token = token
        self.load_delay = load_delay
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._loading_left: dict[str, int] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._default: Fault | None = None
        self._active = 0
        self._closed_early = 0
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        for model_id, model in (models or {}).items():
            self.add_model(model_id, model)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeInferenceServer:
        if self._httpd is not None:
            raise RuntimeError("FakeInferenceServer already started")
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="fake-hf-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- public configuration and inspection -----------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeInferenceServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The `url` setting for the serverless API's body: ``{base}/models/{model}``.

        (A bare base URL is the Inference Providers router, which this fake is not.)
        """
        return self.base_url + "/models/{model}"

    def url_for(self, model: str) -> str:
        return f"{self.base_url}/models/{model}"

    def add_model(self, model_id: str, model: FakeModel) -> None:
        with self._lock:
            self.models[model_id] = model
            self._loading_left[model_id] = model.loading_for

    def fault(self, model_id: str, fault: Fault) -> None:
        with self._lock:
            self._faults.setdefault(model_id, deque()).append(fault)

    def set_default(self, fault: Fault | None) -> None:
        with self._lock:
            self._default = fault

    def generation_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.model is not None]

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    @property
    def closed_early(self) -> int:
        with self._lock:
            return self._closed_early

    # -- used by the request handler -------------------------------------------------------

    def _record(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Recorded:
        lowered = {name.lower(): value for name, value in headers.items()}
        recorded = Recorded(method, path, lowered, _parse_body(raw), _model_of(path))
        with self._lock:
            self.requests.append(recorded)
        return recorded

    def _take_fault(self, model: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(model or "")
            return queue.popleft() if queue else self._default

    def _count(self, active: int = 0, closed_early: int = 0) -> None:
        with self._lock:
            self._active += active
            self._closed_early += closed_early

    def _track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def _close_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _sleep(self, seconds: float, gone: Callable[[], bool] | None = None) -> bool:
        """Sleep in small steps; False if the server is stopping or the client left."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(left, _SLEEP_STEP)):
                return False
            if gone is not None and gone():
                return False
        return not self._stopping.is_set()

    # -- the API itself ----------------------------------------------------------------------

    def _answer(self, request: Recorded, started: float) -> _Reply:
        if not self._authorized(request.headers):
            return _error(401, INVALID_CREDENTIALS)
        if request.model is None:
            return _error(404, "Not Found")
        if request.method != "POST":
            return _error(405, "Method Not Allowed")
        model = self.models.get(request.model)
        if model is None:
            return _error(404, f"Model {request.model} does not exist")
        problem = _body_problem(request.body)
        if problem is not None:
            return _error(400, problem)
        if self._still_loading(request.model, _wants_wait(request.headers, request.body)):
            return self._loading_reply(request.model, model)
        return self._generation_reply(model, request.body, started)

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        return self.token is None or headers.get("authorization") == f"Bearer {self.token}"

    def _still_loading(self, model_id: str, wait: bool) -> bool:
        with self._lock:
            left = self._loading_left.get(model_id, 0)
            if left <= 0:
                return False
            self._loading_left[model_id] = 0 if wait else left - 1
        if wait:
            self._sleep(self.load_delay)
        return not wait

    def _loading_reply(self, model_id: str, model: FakeModel) -> _Reply:
        body: dict[str, Any] = {"error": f"Model {model_id} is currently loading"}
        if model.estimated_time is not None:
            body["estimated_time"] = model.estimated_time
        return _json_reply(503, body)

    def _generation_reply(
        self, model: FakeModel, body: Mapping[str, Any], started: float
    ) -> _Reply:
        params: Mapping[str, Any] = body.get("parameters") or {}
        rejected = [name for name in params if name in model.rejected_parameters]
        if rejected:
            return _unused_parameters_reply(rejected)
        problem = _parameter_problem(params)
        if problem is not None:
            return _error(400, problem, error_type="validation")
        max_new_tokens = params.get("max_new_tokens")
        if max_new_tokens is None:
            max_new_tokens = self.DEFAULT_MAX_NEW_TOKENS
        stop = params.get("stop")
        stops = [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []
        text, count = generate(
            remaining(model.completion, body["inputs"]), max_new_tokens, stops
        )
        if params.get("return_full_text") is not False:
            text = body["inputs"] + text
        sequences = [{"generated_text": text}] * (params.get("num_return_sequences") or 1)
        headers = {
            "x-compute-time": f"{time.monotonic() - started:.3f}",
            "x-generated-tokens": str(count),
            "x-prompt-tokens": str(len(tokenize(body["inputs"]))),
        }
        return _json_reply(200, sequences, headers)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        fake: FakeInferenceServer,
    ) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        fake._count(active=1)
        try:
            self._serve(fake)
        except Exception as exc:
            self._send(_error(500, f"fake server error: {exc!r}"))
            self.close_connection = True
            raise
        finally:
            fake._count(active=-1)

    def _serve(self, fake: FakeInferenceServer) -> None:
        started = time.monotonic()
        try:
            raw = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(_error(400, f"Unreadable request body: {exc}"))
            return
        request = fake._record(self.command, self.path, dict(self.headers.items()), raw)
        fault = fake._take_fault(request.model)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "delay" and not self._delay(fake, fault.seconds):
            return
        if fault is not None and fault.kind == "reply":
            self._send(_Reply(fault.code, fault.body, dict(fault.headers)))
            return
        self._send(fake._answer(request, started))

    def _delay(self, fake: FakeInferenceServer, seconds: float) -> bool:
        """Sleep; on shutdown give up without answering. A vanished client is noticed later."""
        fake._sleep(seconds, self._client_gone)
        if fake._stopping.is_set():
            self.close_connection = True
            return False
        return True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        return b"".join(chunks)

    def _client_gone(self) -> bool:
        """True when the peer has closed its end (readable socket that peeks EOF)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _send(self, reply: _Reply) -> None:
        if self._client_gone():
            self._went_away()
            return
        try:
            self.send_response(reply.code)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except ConnectionError:
            self._went_away()
        except OSError:
            self.close_connection = True

    def _went_away(self) -> None:
        self.server.fake._count(closed_early=1)
        self.close_connection = True
