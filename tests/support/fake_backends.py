"""Loopback fakes of four self-hosted completion servers: TGI, OpenAI-compatible, Ollama, llama.cpp.

Each `FakeBackend` answers one wire format on 127.0.0.1 the way the real server does: the same
routes, request validation, answer and error shapes, and streaming framing (SSE with or without a
space after ``data:``, ``[DONE]`` or not, NDJSON). It reuses the machinery of `hf_server`: the
threaded HTTP server, request recording, `Fault` injection, the ``active``/``closed_early``
counters and a quick `stop()`. Streamed answers use chunked transfer encoding and are written
chunk by chunk, so a client reads them incrementally; a client that goes away mid-stream is
counted in ``closed_early``.

The model "generates" the first N tokens of ``completion`` (split with `hf_server.tokenize`),
where N is the request's length parameter, and stops at the first stop sequence: TGI keeps the
stop sequence in its text, the others leave it out (and, while streaming, hold back text that
could be the start of a stop sequence, as the real servers do).
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from hf_server import (
    FakeInferenceServer,
    Fault,
    Recorded,
    Serving,
    _Handler,
    _HTTPServer,
    _is_int,
    _is_number,
    _parse_body,
    _Reply,
    tokenize,
)

Kind = Literal["tgi", "openai", "ollama", "llamacpp"]
StreamFaultKind = Literal["error_event", "cut"]
Reason = Literal["length", "eos", "stop"]

KINDS: tuple[Kind, ...] = ("tgi", "openai", "ollama", "llamacpp")
DEFAULT_MODELS: dict[Kind, str] = {
    "tgi": "bigcode/starcoder2-3b",
    "openai": "bigcode/starcoder2-3b",
    "ollama": "starcoder2:3b",
    "llamacpp": "model.gguf",
}
GENERATION_PATHS: dict[Kind, frozenset[str]] = {
    "tgi": frozenset({"/generate", "/generate_stream"}),
    "openai": frozenset({"/v1/completions", "/v1/chat/completions"}),
    "ollama": frozenset({"/api/generate"}),
    "llamacpp": frozenset({"/infill", "/completion", "/completions", "/v1/completions"}),
}
TGI_DEFAULT_MAX_NEW_TOKENS = 20
TGI_MAX_STOP_SEQUENCES = 4
TGI_EOS_TOKEN = "<|endoftext|>"
OPENAI_DEFAULT_MAX_TOKENS = 16
OLLAMA_DEFAULT_NUM_PREDICT = 128
OLLAMA_CREATED_AT = "2024-01-01T00:00:00Z"
STREAM_FAULT_MESSAGE = "simulated failure during generation"

_JSON = "application/json"
_JSON_UTF8 = "application/json; charset=utf-8"
_SSE = "text/event-stream"
_NDJSON = "application/x-ndjson"
_TEXT = "text/plain; charset=utf-8"
_DONE = b"data: [DONE]\n\n"
_ANY_MODEL = ""  # the single key of the engine's fault queue

_Route = Callable[[Recorded, bytes], _Reply]
_Check = Callable[[Any], bool]


# -- generation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """What the fake model produced: streamed pieces, the whole text, tokens used, why it ended."""

    pieces: tuple[str, ...]
    text: str
    tokens: int
    reason: Reason
    stop_word: str = ""


def continuation(
    completion: str, limit: int | None, stops: Sequence[str], *, include_stop: bool
) -> Generation:
    """Generate up to ``limit`` tokens (None: all) of ``completion``, ending at the first stop.

    With ``include_stop`` (TGI) the text ends right after the stop sequence and every token is
    one piece; without it the text ends right before the stop sequence, and text that might be
    the start of a stop sequence is held back from the pieces until it is known not to be.
    The reason is ``eos`` when the model ran out of text before the limit.
    """
    tokens = tokenize(completion)
    budget = tokens if limit is None else tokens[: max(limit, 0)]
    words = [stop for stop in stops if stop]
    text, pieces, sent = "", [], 0
    for count, token in enumerate(budget, start=1):
        text += token
        hit = _stop_hit(text, words, include_stop=include_stop)
        if hit is not None:
            cut, word = hit
            text = text[:cut]
            if cut > sent:
                pieces.append(text[sent:])
            return Generation(tuple(pieces), text, count, "stop", word)
        safe = len(text) if include_stop else len(text) - _held_back(text, words)
        if safe > sent:
            pieces.append(text[sent:safe])
            sent = safe
    if len(text) > sent:
        pieces.append(text[sent:])
    finished = limit is None or limit > len(tokens)
    return Generation(tuple(pieces), text, len(budget), "eos" if finished else "length")


def _stop_hit(text: str, words: list[str], *, include_stop: bool) -> tuple[int, str] | None:
    if include_stop:
        hits = [(text.find(word) + len(word), word) for word in words if word in text]
    else:
        hits = [(text.find(word), word) for word in words if word in text]
    return min(hits) if hits else None


def _held_back(text: str, words: list[str]) -> int:
    """Length of the longest end of ``text`` that begins some stop sequence."""
    return max(
        (k for word in words for k in range(1, len(word)) if text.endswith(word[:k])), default=0
    )


# -- instruction models ---------------------------------------------------------------------------

ChatAnswer = Callable[[Sequence[Mapping[str, Any]]], str]
"""What a chat request is answered with, from its messages (the default: ``completion``)."""
InstructShape = Literal["fenced", "prose", "echo_file", "bare"]
_BLOCK = re.compile(r"^(`{3,})(\S*)\n(.*?)^\1\s*$", re.S | re.M)


def instruct(fill: str, shape: InstructShape = "fenced", *, hole: str) -> ChatAnswer:
    """An instruction model asked to fill ``hole`` in the first code block of the last user
    message, answering ``fill`` in one of the shapes such models use: a fenced block, a
    fenced block between sentences, the whole block echoed with the hole filled, or bare.
    """

    def answer(messages: Sequence[Mapping[str, Any]]) -> str:
        users = [m for m in messages if m.get("role") == "user"]
        content = str(users[-1].get("content", "")) if users else ""
        block = _BLOCK.search(content)
        language = block.group(2) if block else ""
        code = block.group(3) if block and hole in block.group(3) else ""
        if shape == "bare":
            return fill
        if shape == "echo_file" and code:
            return f"```{language}\n{code.replace(hole, fill, 1).rstrip()}\n```"
        fenced = f"```{language}\n{fill}\n```"
        if shape == "prose":
            return f"Here is the code that goes in the hole:\n\n{fenced}\n\nThis completes it."
        return fenced

    return answer


# -- error bodies ---------------------------------------------------------------------------------

_TGI_ERROR_TYPES = {422: "validation", 424: "generation", 429: "overloaded"}
_OPENAI_ERROR_TYPES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    404: "NotFoundError",
    422: "UnprocessableEntityError",
    500: "InternalServerError",
    501: "NotImplementedError",
}
_LLAMA_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    500: "server_error",
    501: "not_supported_error",
    503: "unavailable_error",
}


def error_body(kind: Kind, code: int, message: str) -> dict[str, Any]:
    """The JSON error body the real ``kind`` server sends with status ``code``."""
    if kind == "tgi":
        return {"error": message, "error_type": _TGI_ERROR_TYPES.get(code, "generation")}
    if kind == "openai":
        fallback = "InternalServerError" if code >= 500 else "BadRequestError"
        kind_name = _OPENAI_ERROR_TYPES.get(code, fallback)
        return {"error": {"message": message, "type": kind_name, "param": None, "code": code}}
    if kind == "ollama":
        return {"error": message}
    fallback = "server_error" if code >= 500 else "invalid_request_error"
    return {
        "error": {"code": code, "message": message, "type": _LLAMA_ERROR_TYPES.get(code, fallback)}
    }


def error_fault(
    kind: Kind, code: int, message: str, headers: Mapping[str, str] | None = None
) -> Fault:
    """A `Fault` answering with ``kind``'s error shape, e.g. TGI's 429 "Model is overloaded"."""
    return Fault.status(code, error_body(kind, code, message), headers)


# -- encoding helpers -----------------------------------------------------------------------------


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _json(code: int, value: Any, content_type: str = _JSON, **headers: str) -> _Reply:
    return _Reply(code, _compact(value), {"Content-Type": content_type, **headers})


def _text(code: int, text: str) -> _Reply:
    return _Reply(code, text.encode(), {"Content-Type": _TEXT})


def _empty(code: int) -> _Reply:
    return _Reply(code, b"")


def _sse(value: Any, *, space: bool = True) -> bytes:
    return (b"data: " if space else b"data:") + _compact(value) + b"\n\n"


def _ndjson(value: Any) -> bytes:
    return _compact(value) + b"\n"


def _decode(raw: bytes) -> tuple[Any, json.JSONDecodeError | None]:
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError as exc:
        return None, json.JSONDecodeError(f"invalid UTF-8: {exc.reason}", "", exc.start)
    except json.JSONDecodeError as exc:
        return None, exc


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_str_or_strs(value: Any) -> bool:
    return isinstance(value, str) or _is_strs(value)


def _is_count(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _stops(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


# -- streams --------------------------------------------------------------------------------------


@dataclass
class _Stream(_Reply):
    """A streamed answer: events before the tokens, one per token, the closing ones.

    ``error`` replaces the rest of the stream when an ``error_event`` stream fault fires.
    """

    head: list[bytes] = field(default_factory=list)
    tokens: list[bytes] = field(default_factory=list)
    tail: list[bytes] = field(default_factory=list)
    error: list[bytes] = field(default_factory=list)
    faultable: bool = True


@dataclass(frozen=True)
class _StreamFault:
    kind: StreamFaultKind
    after_tokens: int


def _stream(content_type: str, **parts: Any) -> _Stream:
    headers = {"Content-Type": content_type, "Cache-Control": "no-cache"}
    return _Stream(200, b"", headers, **parts)


def _plan(stream: _Stream, fault: _StreamFault | None) -> tuple[list[bytes], bytes | None]:
    """The events to write and, for a cut, the half event to write before hanging up."""
    if fault is None:
        return [*stream.head, *stream.tokens, *stream.tail], None
    sent = max(0, min(fault.after_tokens, len(stream.tokens)))
    events = [*stream.head, *stream.tokens[:sent]]
    if fault.kind == "error_event":
        return [*events, *stream.error], None
    victim = ([*stream.tokens[sent:], *stream.tail] or stream.error)[0]
    return events, victim[: max(1, len(victim) // 2)]


# -- the wire formats -----------------------------------------------------------------------------


class _Protocol:
    """Routes and shapes shared by every format; subclasses add the format's own."""

    kind: ClassVar[Kind]
    public_paths: ClassVar[frozenset[str]] = frozenset()
    json_type: ClassVar[str] = _JSON

    def __init__(self, backend: FakeBackend) -> None:
        self.backend = backend
        self.routes: dict[tuple[str, str], _Route] = {}

    def answer(self, request: Recorded, raw: bytes) -> _Reply:
        path = urlsplit(request.path).path
        route = self.routes.get((request.method, path))
        if route is None:
            known = any(known_path == path for _, known_path in self.routes)
            return self.method_not_allowed() if known else self.not_found()
        if path not in self.public_paths and not self.backend._authorized(request.headers):
            return self.unauthorized()
        return route(request, raw)

    @property
    def model_ids(self) -> tuple[str, ...]:
        return self.backend.models or (DEFAULT_MODELS[self.kind],)

    def error(self, code: int, message: str) -> _Reply:
        return _json(code, error_body(self.kind, code, message), self.json_type)

    def not_found(self) -> _Reply:
        return _empty(404)

    def method_not_allowed(self) -> _Reply:
        return _empty(405)

    def unauthorized(self) -> _Reply:
        return _empty(401)

    def generate(
        self, limit: int | None, stops: Sequence[str], text: str | None = None
    ) -> Generation:
        completion = self.backend.completion if text is None else text
        return continuation(completion, limit, stops, include_stop=self.kind == "tgi")


class _TGI(_Protocol):
    """text-generation-inference: ``/generate``, ``/generate_stream``, ``/info``, ``/health``."""

    kind = "tgi"
    PARAMETERS: ClassVar[dict[str, tuple[_Check, str]]] = {
        "max_new_tokens": (_is_count, "u32"),
        "temperature": (_is_number, "f32"),
        "top_p": (_is_number, "f32"),
        "top_k": (_is_int, "i32"),
        "typical_p": (_is_number, "f32"),
        "repetition_penalty": (_is_number, "f32"),
        "frequency_penalty": (_is_number, "f32"),
        "truncate": (_is_count, "usize"),
        "seed": (_is_count, "u64"),
        "best_of": (_is_count, "usize"),
        "stop": (_is_strs, "a sequence of strings"),
        "details": (_is_bool, "a boolean"),
        "return_full_text": (_is_bool, "a boolean"),
        "do_sample": (_is_bool, "a boolean"),
        "decoder_input_details": (_is_bool, "a boolean"),
        "watermark": (_is_bool, "a boolean"),
    }

    def __init__(self, backend: FakeBackend) -> None:
        super().__init__(backend)
        self.routes = {
            ("POST", "/generate"): lambda request, raw: self.generation(request, raw, False),
            ("POST", "/generate_stream"): lambda request, raw: self.generation(request, raw, True),
            ("GET", "/info"): self.info,
            ("GET", "/health"): lambda request, raw: _empty(200),
        }

    def info(self, request: Recorded, raw: bytes) -> _Reply:
        return _json(
            200,
            {
                "model_id": self.model_ids[0],
                "model_sha": None,
                "model_pipeline_tag": "text-generation",
                "max_concurrent_requests": 128,
                "max_best_of": 2,
                "max_stop_sequences": TGI_MAX_STOP_SEQUENCES,
                "max_input_tokens": self.backend.max_input_tokens,
                "max_total_tokens": self.backend.max_total_tokens,
                "validation_workers": 2,
                "max_client_batch_size": 4,
                "router": "text-generation-router",
                "version": "3.0.0",
            },
        )

    def generation(self, request: Recorded, raw: bytes, stream: bool) -> _Reply:
        parsed = self.parse(request.headers, raw)
        if isinstance(parsed, _Reply):
            return parsed
        inputs, params = parsed
        problem = self.invalid(inputs, params)
        if problem is not None:
            body = {"error": f"Input validation error: {problem}", "error_type": "validation"}
            if stream:  # TGI answers 200 and reports the problem as the stream's only event
                return _stream(
                    _SSE, head=[b":\n\n"], tail=[_sse(body, space=False)], faultable=False
                )
            return _json(422, body)
        truncate = params.get("truncate")
        input_length = self.input_length(inputs, truncate)
        max_new_tokens = params.get("max_new_tokens") or TGI_DEFAULT_MAX_NEW_TOKENS
        made = self.generate(max_new_tokens, params.get("stop") or [])
        finish = {"length": "length", "eos": "eos_token", "stop": "stop_sequence"}[made.reason]
        eos = made.reason == "eos"
        generated_tokens = made.tokens + int(eos)  # the EOS token is generated too
        text = (inputs if params.get("return_full_text") else "") + made.text
        headers = {
            "x-generated-tokens": str(generated_tokens),
            "x-prompt-tokens": str(input_length),
        }
        if not stream:
            answer: dict[str, Any] = {"generated_text": text}
            if params.get("details"):
                answer["details"] = {
                    "finish_reason": finish,
                    "generated_tokens": generated_tokens,
                    "seed": None,
                }
            return _json(200, answer, **headers)
        details = {
            "finish_reason": finish,
            "generated_tokens": generated_tokens,
            "seed": None,
            "input_length": input_length,
        }
        tokens = [(piece, False) for piece in made.pieces]
        if eos or not tokens:
            tokens.append((TGI_EOS_TOKEN, True))
        events = [
            _sse(
                {
                    "index": index,
                    "token": {"id": index, "text": piece, "logprob": -0.1, "special": special},
                    "top_tokens": None,
                    "generated_text": text if index == len(tokens) - 1 else None,
                    "details": details if index == len(tokens) - 1 else None,
                },
                space=False,
            )
            for index, (piece, special) in enumerate(tokens)
        ]
        error = {"error": STREAM_FAULT_MESSAGE, "error_type": "generation"}
        return _stream(
            _SSE,
            head=[b":\n\n"],
            tokens=events[:-1],
            tail=events[-1:],
            error=[_sse(error, space=False)],
        )

    def parse(self, headers: Mapping[str, str], raw: bytes) -> tuple[str, dict[str, Any]] | _Reply:
        """Axum's ``Json`` extractor: 415, 400 (syntax) or 422 (shape), as plain text."""
        if not headers.get("content-type", "").lower().startswith(_JSON):
            return _text(415, "Expected request with `Content-Type: application/json`")
        body, error = _decode(raw)
        if error is not None:
            return _text(400, f"Failed to parse the request body as JSON: {error}")
        problem = self.shape_problem(body)
        if problem is not None:
            return _text(
                422, f"Failed to deserialize the JSON body into the target type: {problem}"
            )
        return body["inputs"], body.get("parameters") or {}

    def shape_problem(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return f"invalid type: {_json_kind(body)}, expected struct GenerateRequest"
        if "inputs" not in body:
            return "missing field `inputs`"
        if not isinstance(body["inputs"], str):
            return f"inputs: invalid type: {_json_kind(body['inputs'])}, expected a string"
        params = body.get("parameters")
        if params is None:
            return None
        if not isinstance(params, dict):
            kind = _json_kind(params)
            return f"parameters: invalid type: {kind}, expected struct GenerateParameters"
        for name, (check, expected) in self.PARAMETERS.items():
            value = params.get(name)
            if value is not None and not check(value):
                return f"parameters.{name}: invalid value: {_json_kind(value)}, expected {expected}"
        return None

    def invalid(self, inputs: str, params: Mapping[str, Any]) -> str | None:
        """TGI's checks in its order; the message that follows "Input validation error: "."""
        backend = self.backend

        def breaks(name: str, allowed: Callable[[Any], bool]) -> bool:
            value = params.get(name)
            return value is not None and not allowed(value)

        if breaks("temperature", lambda v: v > 0):
            return "`temperature` must be strictly positive"
        if breaks("repetition_penalty", lambda v: v > 0):
            return "`repetition_penalty` must be strictly positive"
        if breaks("frequency_penalty", lambda v: -2 <= v <= 2):
            return "`frequency_penalty` must be >= -2.0 and <= 2.0"
        if breaks("top_p", lambda v: 0 < v < 1):
            return "`top_p` must be > 0.0 and < 1.0"
        if breaks("typical_p", lambda v: 0 < v < 1):
            return "`typical_p` must be > 0.0 and < 1.0"
        if breaks("top_k", lambda v: v > 0):
            return "`top_k` must be strictly positive"
        if breaks("max_new_tokens", lambda v: v > 0):
            return "`max_new_tokens` must be strictly positive"
        stops = params.get("stop") or []
        if len(stops) > TGI_MAX_STOP_SEQUENCES:
            return (
                f"`stop` supports up to {TGI_MAX_STOP_SEQUENCES} stop sequences. "
                f"Given: {len(stops)}"
            )
        if not inputs:
            return "`inputs` cannot be empty"
        truncate = params.get("truncate")
        if truncate is not None and not 0 < truncate <= backend.max_input_tokens:
            return (
                f"`truncate` must be strictly positive and less than {backend.max_input_tokens}. "
                f"Given: {truncate}"
            )
        input_length = self.input_length(inputs, truncate)
        max_new_tokens = params.get("max_new_tokens") or TGI_DEFAULT_MAX_NEW_TOKENS
        if input_length + max_new_tokens > backend.max_total_tokens:
            return (
                f"`inputs` tokens + `max_new_tokens` must be <= {backend.max_total_tokens}. "
                f"Given: {input_length} `inputs` tokens and {max_new_tokens} `max_new_tokens`"
            )
        if input_length > backend.max_input_tokens:
            return (
                f"`inputs` must have less than {backend.max_input_tokens} tokens. "
                f"Given: {input_length}"
            )
        return None

    @staticmethod
    def input_length(inputs: str, truncate: int | None) -> int:
        count = len(tokenize(inputs))
        return count if truncate is None else min(count, truncate)


def _pydantic_error(field_name: str, value: Any, check: _Check) -> dict[str, Any]:
    names: dict[_Check, tuple[str, str]] = {
        _is_int: ("int_type", "Input should be a valid integer"),
        _is_number: ("float_type", "Input should be a valid number"),
        _is_str: ("string_type", "Input should be a valid string"),
        _is_bool: ("bool_type", "Input should be a valid boolean"),
        _is_dict: ("dict_type", "Input should be a valid dictionary"),
        _is_list: ("list_type", "Input should be a valid list"),
    }
    kind, msg = names.get(check, ("union_type", "Input should be a valid string or list"))
    return {"type": kind, "loc": ["body", field_name], "msg": msg, "input": value}


class _OpenAIShapes:
    """Completion and chat answers in the OpenAI format, shared by vLLM and llama.cpp."""

    def __init__(self, protocol: _Protocol, stream_error: Callable[[], list[bytes]]) -> None:
        self.protocol = protocol
        self.stream_error = stream_error

    def completion(
        self,
        *,
        model: str,
        prompts: Sequence[str],
        n: int,
        limit: int | None,
        stops: Sequence[str],
        stream: bool,
        include_usage: bool,
    ) -> _Reply:
        made = self.protocol.generate(limit, stops)
        finish = "length" if made.reason == "length" else "stop"
        count = len(prompts) * n
        usage = self.usage(sum(len(tokenize(p)) for p in prompts), made.tokens * count)
        base = {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": model}
        if not stream:
            choices = [
                {"index": i, "text": made.text, "logprobs": None, "finish_reason": finish}
                for i in range(count)
            ]
            return _json(200, {**base, "choices": choices, "usage": usage})

        def chunk(index: int, text: str, reason: str | None) -> bytes:
            choice = {"index": index, "text": text, "logprobs": None, "finish_reason": reason}
            return _sse({**base, "choices": [choice]})

        tokens = [chunk(i, piece, None) for piece in made.pieces for i in range(count)]
        tail = [chunk(i, "", finish) for i in range(count)]
        if include_usage:
            tail.append(_sse({**base, "choices": [], "usage": usage}))
        return _stream(_SSE, tokens=tokens, tail=[*tail, _DONE], error=self.stream_error())

    def chat(
        self,
        *,
        model: str,
        prompt_tokens: int,
        n: int,
        limit: int | None,
        stops: Sequence[str],
        stream: bool,
        include_usage: bool,
        text: str | None = None,
    ) -> _Reply:
        made = self.protocol.generate(limit, stops, text)
        finish = "length" if made.reason == "length" else "stop"
        usage = self.usage(prompt_tokens, made.tokens * n)
        base = {"id": "chatcmpl-1", "created": 0, "model": model}
        if not stream:
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": made.text},
                    "logprobs": None,
                    "finish_reason": finish,
                }
                for i in range(n)
            ]
            return _json(
                200, {**base, "object": "chat.completion", "choices": choices, "usage": usage}
            )

        def chunk(index: int, delta: dict[str, str], reason: str | None) -> bytes:
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}
            return _sse({**base, "object": "chat.completion.chunk", "choices": [choice]})

        head = [chunk(i, {"role": "assistant", "content": ""}, None) for i in range(n)]
        tokens = [chunk(i, {"content": piece}, None) for piece in made.pieces for i in range(n)]
        tail = [chunk(i, {}, finish) for i in range(n)]
        if include_usage:
            tail.append(
                _sse({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
            )
        return _stream(
            _SSE, head=head, tokens=tokens, tail=[*tail, _DONE], error=self.stream_error()
        )

    @staticmethod
    def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }


class _OpenAI(_Protocol):
    """An OpenAI-compatible server as vLLM runs it (FastAPI validation, vLLM's checks)."""

    kind = "openai"
    public_paths = frozenset({"/health"})
    COMPLETION_FIELDS: ClassVar[dict[str, _Check]] = {
        "model": _is_str,
        "prompt": _is_str_or_strs,
        "suffix": _is_str,
        "max_tokens": _is_int,
        "temperature": _is_number,
        "top_p": _is_number,
        "top_k": _is_int,
        "n": _is_int,
        "stop": _is_str_or_strs,
        "stream": _is_bool,
        "stream_options": _is_dict,
        "echo": _is_bool,
        "seed": _is_int,
    }
    CHAT_FIELDS: ClassVar[dict[str, _Check]] = {
        "model": _is_str,
        "messages": _is_list,
        "max_tokens": _is_int,
        "max_completion_tokens": _is_int,
        "temperature": _is_number,
        "top_p": _is_number,
        "n": _is_int,
        "stop": _is_str_or_strs,
        "stream": _is_bool,
        "stream_options": _is_dict,
        "seed": _is_int,
    }

    def __init__(self, backend: FakeBackend) -> None:
        super().__init__(backend)
        self.shapes = _OpenAIShapes(self, self.stream_error)
        self.routes = {
            ("POST", "/v1/completions"): self.completions,
            ("POST", "/v1/chat/completions"): self.chat,
            ("GET", "/v1/models"): self.list_models,
            ("GET", "/health"): lambda request, raw: _empty(200),
        }

    def not_found(self) -> _Reply:
        return _json(404, {"detail": "Not Found"})

    def method_not_allowed(self) -> _Reply:
        return _json(405, {"detail": "Method Not Allowed"})

    def unauthorized(self) -> _Reply:
        message = "Invalid API key"
        return _json(
            401, {"error": {"message": message, "type": "AuthenticationError", "code": 401}}
        )

    def stream_error(self) -> list[bytes]:
        error = {"message": STREAM_FAULT_MESSAGE, "type": "InternalServerError", "code": 500}
        return [_sse({"error": error}), _DONE]

    def list_models(self, request: Recorded, raw: bytes) -> _Reply:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "vllm"} for m in self.model_ids
        ]
        return _json(200, {"object": "list", "data": data})

    def body(
        self, raw: bytes, fields: Mapping[str, _Check], required: str
    ) -> dict[str, Any] | _Reply:
        """FastAPI/pydantic request parsing: 422 with a ``detail`` list."""
        body, error = _decode(raw)
        if error is not None:
            detail = {
                "loc": ["body"],
                "msg": f"JSON decode error: {error.msg}",
                "type": "json_invalid",
            }
            return _json(422, {"detail": [detail]})
        if not isinstance(body, dict):
            msg = "Input should be a valid dictionary or object to extract fields from"
            detail = {"loc": ["body"], "msg": msg, "type": "model_attributes_type"}
            return _json(422, {"detail": [detail]})
        details = [
            _pydantic_error(name, body[name], check)
            for name, check in fields.items()
            if body.get(name) is not None and not check(body[name])
        ]
        if required not in body:
            details.insert(
                0, {"type": "missing", "loc": ["body", required], "msg": "Field required"}
            )
        return _json(422, {"detail": details}) if details else body

    def unknown_model(self, body: Mapping[str, Any]) -> _Reply | None:
        model = body.get("model")
        if self.backend.models and model is not None and model not in self.backend.models:
            return self.error(404, f"The model `{model}` does not exist.")
        return None

    def checked(
        self, body: Mapping[str, Any], prompt_tokens: int, max_tokens: int | None
    ) -> _Reply | None:
        """vLLM's sampling-parameter and context-length checks."""
        n, temperature, top_p = body.get("n"), body.get("temperature"), body.get("top_p")
        if n is not None and n < 1:
            return self.error(400, f"n must be at least 1, got {n}.")
        if temperature is not None and temperature < 0:
            return self.error(400, f"temperature must be non-negative, got {temperature}.")
        if top_p is not None and not 0 < top_p <= 1:
            return self.error(400, f"top_p must be in (0, 1], got {top_p}.")
        if max_tokens is not None and max_tokens < 1:
            return self.error(400, f"max_tokens must be at least 1, got {max_tokens}.")
        context = self.backend.max_total_tokens
        if prompt_tokens + (max_tokens or 0) > context:
            return self.error(
                400,
                f"This model's maximum context length is {context} tokens. However, you "
                f"requested {prompt_tokens + (max_tokens or 0)} tokens ({prompt_tokens} in the "
                f"messages, {max_tokens or 0} in the completion). Please reduce the length of "
                "the messages or completion.",
            )
        return None

    def completions(self, request: Recorded, raw: bytes) -> _Reply:
        body = self.body(raw, self.COMPLETION_FIELDS, "prompt")
        if isinstance(body, _Reply):
            return body
        problem = self.unknown_model(body)
        if problem is not None:
            return problem
        if body.get("suffix") is not None:
            return self.error(400, "suffix is not currently supported")
        prompt = body["prompt"]
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            max_tokens = OPENAI_DEFAULT_MAX_TOKENS
        prompt_tokens = max(len(tokenize(p)) for p in prompts) if prompts else 0
        problem = self.checked(body, prompt_tokens, max_tokens)
        if problem is not None:
            return problem
        return self.shapes.completion(
            model=body.get("model") or self.model_ids[0],
            prompts=prompts,
            n=body.get("n") or 1,
            limit=max_tokens,
            stops=_stops(body.get("stop")),
            stream=bool(body.get("stream")),
            include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        )

    def chat(self, request: Recorded, raw: bytes) -> _Reply:
        body = self.body(raw, self.CHAT_FIELDS, "messages")
        if isinstance(body, _Reply):
            return body
        messages = body["messages"]
        bad = [
            i
            for i, message in enumerate(messages)
            if not isinstance(message, dict) or not isinstance(message.get("role"), str)
        ]
        if bad:
            detail = {
                "type": "missing",
                "loc": ["body", "messages", bad[0], "role"],
                "msg": "Field required",
            }
            return _json(422, {"detail": [detail]})
        prompt_tokens = sum(
            len(tokenize(m["content"])) for m in messages if isinstance(m.get("content"), str)
        )
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        problem = self.unknown_model(body) or self.checked(body, prompt_tokens, max_tokens)
        if problem is not None:
            return problem
        answer = self.backend.chat_answer
        return self.shapes.chat(
            text=answer(messages) if answer is not None else None,
            model=body.get("model") or self.model_ids[0],
            prompt_tokens=prompt_tokens,
            n=body.get("n") or 1,
            limit=max_tokens,
            stops=_stops(body.get("stop")),
            stream=bool(body.get("stream")),
            include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        )


class _Ollama(_Protocol):
    """Ollama: ``/api/generate`` (streams NDJSON by default), ``/api/tags``, ``/api/version``."""

    kind = "ollama"
    json_type = _JSON_UTF8
    FIELDS: ClassVar[dict[str, tuple[_Check, str]]] = {
        "model": (_is_str, "string"),
        "prompt": (_is_str, "string"),
        "suffix": (_is_str, "string"),
        "system": (_is_str, "string"),
        "template": (_is_str, "string"),
        "raw": (_is_bool, "bool"),
        "stream": (_is_bool, "bool"),
        "options": (_is_dict, "map[string]interface {}"),
        "context": (_is_list, "[]int"),
        "images": (_is_list, "[]api.ImageData"),
    }
    OPTIONS: ClassVar[dict[str, tuple[_Check, str]]] = {
        "num_predict": (_is_number, "integer"),
        "num_ctx": (_is_number, "integer"),
        "top_k": (_is_number, "integer"),
        "seed": (_is_number, "integer"),
        "temperature": (_is_number, "float"),
        "top_p": (_is_number, "float"),
        "repeat_penalty": (_is_number, "float"),
        "stop": (_is_strs, "[]string"),
    }

    def __init__(self, backend: FakeBackend) -> None:
        super().__init__(backend)
        self.routes = {
            ("POST", "/api/generate"): self.generation,
            ("GET", "/api/tags"): self.tags,
            ("GET", "/api/version"): lambda request, raw: _json(
                200, {"version": "0.5.0"}, _JSON_UTF8
            ),
            ("GET", "/"): lambda request, raw: _text(200, "Ollama is running"),
        }

    def not_found(self) -> _Reply:
        return _text(404, "404 page not found")

    def method_not_allowed(self) -> _Reply:
        return self.not_found()  # gin answers 404 for a known path with another method

    def unauthorized(self) -> _Reply:
        return self.error(401, "unauthorized")  # Ollama has no auth; as a proxy in front says it

    def tags(self, request: Recorded, raw: bytes) -> _Reply:
        models = [
            {
                "name": m,
                "model": m,
                "modified_at": OLLAMA_CREATED_AT,
                "size": 0,
                "digest": "0" * 64,
            }
            for m in self.model_ids
        ]
        return _json(200, {"models": models}, _JSON_UTF8)

    @staticmethod
    def full_name(model: str) -> str:
        name = model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"
        return name if "/" in name else f"library/{name}"

    def known(self, model: str) -> bool:
        wanted = self.full_name(model)
        return not self.backend.models or any(
            self.full_name(m) == wanted for m in self.backend.models
        )

    def generation(self, request: Recorded, raw: bytes) -> _Reply:
        if not raw.strip():
            return self.error(400, "missing request body")
        body, error = _decode(raw)
        if error is not None:
            return self.error(400, f"invalid character at offset {error.pos}: {error.msg}")
        if not isinstance(body, dict):
            target = "api.GenerateRequest"
            return self.error(
                400, f"json: cannot unmarshal {_json_kind(body)} into Go value of type {target}"
            )
        for name, (check, go_type) in self.FIELDS.items():
            if body.get(name) is not None and not check(body[name]):
                return self.error(
                    400,
                    f"json: cannot unmarshal {_json_kind(body[name])} into Go struct field "
                    f"GenerateRequest.{name} of type {go_type}",
                )
        options: dict[str, Any] = body.get("options") or {}
        for name, (check, go_type) in self.OPTIONS.items():
            if options.get(name) is not None and not check(options[name]):
                return self.error(400, f"option {name!r} must be of type {go_type}")
        model = body.get("model") or ""
        if not model:
            return self.error(400, "model is required")
        if not self.known(model):
            return self.error(404, f'model "{model}" not found, try pulling it first')
        if body.get("suffix") and not self.backend.ollama_suffix_supported:
            full = f"registry.ollama.ai/{self.full_name(model)}"
            return self.error(400, f"{full} does not support insert")
        base = {"model": model, "created_at": OLLAMA_CREATED_AT}
        prompt = body.get("prompt") or ""
        if not prompt:  # an empty prompt only loads (or, with keep_alive 0, unloads) the model
            reason = "unload" if body.get("keep_alive") in (0, "0", "0s") else "load"
            return _json(
                200, {**base, "response": "", "done": True, "done_reason": reason}, _JSON_UTF8
            )
        num_predict = options.get("num_predict")
        if num_predict is None:
            num_predict = OLLAMA_DEFAULT_NUM_PREDICT
        limit = None if num_predict < 0 else int(num_predict)
        made = self.generate(limit, _stops(options.get("stop")))
        final = {
            "done": True,
            "done_reason": "length" if made.reason == "length" else "stop",
            "total_duration": 0,
            "load_duration": 0,
            "prompt_eval_count": len(tokenize(prompt + (body.get("suffix") or ""))),
            "prompt_eval_duration": 0,
            "eval_count": made.tokens,
            "eval_duration": 0,
        }
        if body.get("stream") is False:
            return _json(200, {**base, "response": made.text, **final}, _JSON_UTF8)
        return _stream(
            _NDJSON,
            tokens=[_ndjson({**base, "response": piece, "done": False}) for piece in made.pieces],
            tail=[_ndjson({**base, "response": "", **final})],
            error=[_ndjson({"error": STREAM_FAULT_MESSAGE})],
        )


class _LlamaCpp(_Protocol):
    """llama.cpp's server: ``/infill``, ``/completion``, ``/v1/completions``, ``/health``."""

    kind = "llamacpp"
    json_type = _JSON_UTF8
    public_paths = frozenset({"/health", "/v1/health", "/models", "/v1/models"})

    def __init__(self, backend: FakeBackend) -> None:
        super().__init__(backend)
        self.shapes = _OpenAIShapes(self, self.stream_error)
        self.routes = {
            ("POST", "/infill"): self.infill,
            ("POST", "/completion"): self.native,
            ("POST", "/completions"): self.native,
            ("POST", "/v1/completions"): self.openai_completions,
            ("GET", "/health"): self.health,
            ("GET", "/v1/health"): self.health,
            ("GET", "/models"): self.list_models,
            ("GET", "/v1/models"): self.list_models,
        }

    def answer(self, request: Recorded, raw: bytes) -> _Reply:
        if self.backend._still_loading():  # every route answers 503 until the model is loaded
            return self.error(503, "Loading model")
        return super().answer(request, raw)

    def not_found(self) -> _Reply:
        return self.error(404, "File Not Found")

    def method_not_allowed(self) -> _Reply:
        return self.not_found()

    def unauthorized(self) -> _Reply:
        return self.error(401, "Invalid API Key")

    def stream_error(self) -> list[bytes]:
        return [_sse(error_body("llamacpp", 500, STREAM_FAULT_MESSAGE))]

    def health(self, request: Recorded, raw: bytes) -> _Reply:
        return _json(200, {"status": "ok"}, _JSON_UTF8)

    def list_models(self, request: Recorded, raw: bytes) -> _Reply:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "llamacpp"}
            for m in self.model_ids
        ]
        return _json(200, {"object": "list", "data": data}, _JSON_UTF8)

    def body(self, raw: bytes) -> dict[str, Any] | _Reply:
        body, error = _decode(raw)
        if error is not None:
            return self.error(500, f"[json.exception.parse_error.101] parse error: {error}")
        if not isinstance(body, dict):
            return self.error(400, "request body must be a JSON object")
        return body

    @staticmethod
    def value(body: Mapping[str, Any], name: str, default: Any, check: _Check) -> Any:
        """``json_value``: a missing or mistyped field silently takes its default."""
        value = body.get(name)
        return value if value is not None and check(value) else default

    def limit(self, body: Mapping[str, Any]) -> int | None:
        n_predict = self.value(body, "n_predict", -1, _is_int)
        return None if n_predict < 0 else int(n_predict)

    def too_long(self, prompt_tokens: int) -> _Reply | None:
        n_ctx = self.backend.max_total_tokens
        if prompt_tokens < n_ctx:
            return None
        payload = error_body(
            "llamacpp", 400, "the request exceeds the available context size, try increasing it"
        )
        payload["error"].update(
            type="exceed_context_size_error", n_prompt_tokens=prompt_tokens, n_ctx=n_ctx
        )
        return _json(400, payload, _JSON_UTF8)

    def infill(self, request: Recorded, raw: bytes) -> _Reply:
        if not self.backend.infill_supported:
            return self.error(501, "Infill is not supported by this model")
        body = self.body(raw)
        if isinstance(body, _Reply):
            return body
        extra = body.get("input_extra", [])
        if not isinstance(extra, list):
            return self.error(
                400, '"input_extra" must be an array of {"filename": string, "text": string}'
            )
        texts = []
        for chunk in extra:
            if not isinstance(chunk, dict) or not isinstance(chunk.get("text"), str):
                return self.error(
                    400, 'extra_context chunk must contain a "text" field with a string value'
                )
            if "filename" in chunk and not isinstance(chunk["filename"], str):
                return self.error(400, 'extra_context chunk\'s "filename" field must be a string')
            texts.append(chunk["text"])
        pieces = [
            self.value(body, key, "", _is_str) for key in ("input_prefix", "input_suffix", "prompt")
        ]
        prompt_tokens = sum(len(tokenize(text)) for text in [*texts, *pieces])
        return self.native_answer(body, prompt_tokens)

    def native(self, request: Recorded, raw: bytes) -> _Reply:
        body = self.body(raw)
        if isinstance(body, _Reply):
            return body
        if "prompt" not in body:
            return self.error(500, "[json.exception.out_of_range.403] key 'prompt' not found")
        prompt = body["prompt"]
        if isinstance(prompt, str):
            prompt_tokens = len(tokenize(prompt))
        elif isinstance(prompt, list) and all(_is_int(token) for token in prompt):
            prompt_tokens = len(prompt)
        else:
            return self.error(
                400,
                '"prompt" must be a string, a list of tokens, a list of mixed strings & tokens, '
                "or a list of prompts",
            )
        return self.too_long(prompt_tokens) or self.native_answer(body, prompt_tokens)

    def native_answer(self, body: Mapping[str, Any], prompt_tokens: int) -> _Reply:
        made = self.generate(self.limit(body), self.value(body, "stop", [], _is_strs))
        stop_type = {"length": "limit", "eos": "eos", "stop": "word"}[made.reason]
        final = {
            "index": 0,
            "content": made.text,
            "id_slot": 0,
            "stop": True,
            "model": self.value(body, "model", self.model_ids[0], _is_str),
            "tokens_predicted": made.tokens,
            "tokens_evaluated": prompt_tokens,
            "stop_type": stop_type,
            "stopping_word": made.stop_word,
            "truncated": False,
        }
        if not self.value(body, "stream", False, _is_bool):
            return _json(200, final, _JSON_UTF8)
        tokens = [_sse({"index": 0, "content": piece, "stop": False}) for piece in made.pieces]
        return _stream(
            _SSE, tokens=tokens, tail=[_sse({**final, "content": ""})], error=self.stream_error()
        )

    def openai_completions(self, request: Recorded, raw: bytes) -> _Reply:
        body = self.body(raw)
        if isinstance(body, _Reply):
            return body
        if "prompt" not in body:
            return self.error(400, '"prompt" is required')
        for name in ("best_of", "suffix"):
            if name in body:
                return self.error(400, f"Unsupported param: {name}")
        if self.value(body, "n", 1, _is_int) != 1:
            return self.error(400, "Only one completion choice is allowed")
        if self.value(body, "echo", False, _is_bool):
            return self.error(400, "Only no echo is supported")
        prompt = body["prompt"]
        prompts = [prompt] if isinstance(prompt, str) else [p for p in prompt if isinstance(p, str)]
        problem = self.too_long(max((len(tokenize(p)) for p in prompts), default=0))
        if problem is not None:
            return problem
        n_predict = self.value(body, "max_tokens", -1, _is_int)
        n_predict = self.value(body, "n_predict", n_predict, _is_int)
        limit = None if n_predict < 0 else int(n_predict)
        return self.shapes.completion(
            model=self.value(body, "model", self.model_ids[0], _is_str),
            prompts=prompts[:1] or [""],
            n=1,
            limit=limit,
            stops=_stops(body.get("stop")),
            stream=self.value(body, "stream", False, _is_bool),
            include_usage=bool(
                self.value(body, "stream_options", {}, _is_dict).get("include_usage")
            ),
        )


_PROTOCOLS: dict[Kind, type[_Protocol]] = {
    "tgi": _TGI,
    "openai": _OpenAI,
    "ollama": _Ollama,
    "llamacpp": _LlamaCpp,
}


# -- the HTTP side --------------------------------------------------------------------------------


class _Engine(FakeInferenceServer):
    """hf_server's machinery (lifecycle, recording, faults, counters), serving a `FakeBackend`."""

    def __init__(self, backend: FakeBackend) -> None:
        super().__init__()
        self.backend = backend

    def start(self) -> _Engine:
        if self._httpd is not None:
            raise RuntimeError("FakeBackend already started")
        self._httpd = _HTTPServer(("127.0.0.1", 0), _BackendHandler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fake-{self.backend.kind}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def _record(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> Recorded:
        lowered = {name.lower(): value for name, value in headers.items()}
        body = _parse_body(raw)
        model = body.get("model") if isinstance(body, dict) else None
        recorded = Recorded(method, path, lowered, body, model if isinstance(model, str) else None)
        with self._lock:
            self.requests.append(recorded)
        return recorded


class _BackendHandler(_Handler):
    def setup(self) -> None:
        super().setup()
        # Like the real servers: no Nagle delay between the header write and the body or chunks.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, fake: FakeInferenceServer) -> None:
        if not isinstance(fake, _Engine):
            raise TypeError("a _BackendHandler serves a FakeBackend engine")
        try:
            raw = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(_json(400, {"error": f"Unreadable request body: {exc}"}))
            return
        request = fake._record(self.command, self.path, dict(self.headers.items()), raw)
        backend = fake.backend
        fault = fake._take_fault(_ANY_MODEL) if backend._is_generation(request) else None
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "delay" and not self._delay(fake, fault.seconds):
            return
        if fault is not None and fault.kind == "reply":
            self._send(_Reply(fault.code, fault.body, dict(fault.headers)))
            return
        reply = backend._protocol.answer(request, raw)
        if isinstance(reply, _Stream):
            self._stream(fake, reply)
        else:
            self._send(reply)

    def _stream(self, engine: _Engine, stream: _Stream) -> None:
        fault = engine.backend._take_stream_fault() if stream.faultable else None
        events, partial = _plan(stream, fault)
        if self._client_gone():
            self._went_away()
            return
        try:
            self.send_response(stream.code)
            for name, value in stream.headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index, event in enumerate(events):
                if not self._next_chunk(engine, pause=index > 0):
                    return
                self._chunk(event)
            if partial is not None:
                if self._next_chunk(engine, pause=bool(events)):
                    self._chunk(partial)
                    self._hang_up()
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except ConnectionError:
            self._went_away()
        except OSError:
            self.close_connection = True

    def _next_chunk(self, engine: _Engine, *, pause: bool) -> bool:
        """Wait ``chunk_delay`` if asked; False (and the stream is over) if the client left."""
        delay = engine.backend.chunk_delay
        if pause and delay > 0 and not engine._sleep(delay, self._client_gone):
            if engine._stopping.is_set():
                self.close_connection = True
            else:
                self._went_away()
            return False
        if self._client_gone():
            self._went_away()
            return False
        return True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# -- the public class -----------------------------------------------------------------------------


class FakeBackend(Serving):
    """A loopback server speaking one self-hosted completion API; a context manager."""

    def __init__(
        self,
        kind: Kind,
        completion: str = "return a + b\n",
        *,
        token: str | None = None,
        max_total_tokens: int = 4096,
        max_input_tokens: int = 4000,
        infill_supported: bool = True,
        ollama_suffix_supported: bool = True,
        chunk_delay: float = 0.0,
        models: tuple[str, ...] = (),
        loading_for: int = 0,
        chat_answer: ChatAnswer | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown backend kind {kind!r}; expected one of {KINDS}")
        if loading_for and kind != "llamacpp":
            raise ValueError("loading_for is a llama.cpp behaviour (kind='llamacpp')")
        self.kind: Kind = kind
        self.completion = completion
        self.token = token
        self.max_total_tokens = max_total_tokens
        self.max_input_tokens = max_input_tokens
        self.infill_supported = infill_supported
        self.ollama_suffix_supported = ollama_suffix_supported
        self.chunk_delay = chunk_delay
        self.models = tuple(models)
        self.chat_answer = chat_answer
        self._loading_left = loading_for
        self._stream_faults: deque[_StreamFault] = deque()
        self._engine = _Engine(self)
        self._protocol = _PROTOCOLS[kind](self)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeBackend:
        self._engine.start()
        return self

    def stop(self) -> None:
        self._engine.stop()

    # -- configuration and inspection --------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._engine.base_url

    @property
    def requests(self) -> list[Recorded]:
        return self._engine.requests

    def generation_requests(self) -> list[Recorded]:
        with self._engine._lock:
            return [r for r in self._engine.requests if self._is_generation(r)]

    def fault(self, fault: Fault) -> None:
        """Queue a one-shot fault for the next generation request (FIFO, before the default)."""
        self._engine.fault(_ANY_MODEL, fault)

    def set_default(self, fault: Fault | None) -> None:
        """A fault for every generation request with no queued fault; None clears it."""
        self._engine.set_default(fault)

    def stream_fault(self, kind: StreamFaultKind, after_tokens: int = 2) -> None:
        """Break the next streamed answer after ``after_tokens`` token events.

        ``error_event`` sends the format's in-stream error in place of the rest of the stream;
        ``cut`` sends half of the next event and closes the connection.
        """
        if kind not in ("error_event", "cut"):
            raise ValueError(f"unknown stream fault {kind!r}")
        with self._engine._lock:
            self._stream_faults.append(_StreamFault(kind, after_tokens))

    @property
    def active(self) -> int:
        return self._engine.active

    @property
    def closed_early(self) -> int:
        return self._engine.closed_early

    # -- used by the handler -----------------------------------------------------------------

    def _is_generation(self, request: Recorded) -> bool:
        path = urlsplit(request.path).path
        return request.method == "POST" and path in GENERATION_PATHS[self.kind]

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        return self.token is None or headers.get("authorization") == f"Bearer {self.token}"

    def _take_stream_fault(self) -> _StreamFault | None:
        with self._engine._lock:
            return self._stream_faults.popleft() if self._stream_faults else None

    def _still_loading(self) -> bool:
        with self._engine._lock:
            if self._loading_left <= 0:
                return False
            self._loading_left -= 1
            return True
