"""llama.cpp's server: ``POST {url}/infill`` (it does fill-in-the-middle with the model's tokens).

``input_prefix`` / ``input_suffix`` / ``input_extra`` → ``{"content", "stop_type"}``;
streaming is SSE ``data: {json}``. A model without FIM tokens answers 501 "Infill is not
supported by this model": the message says to use the ``openai`` backend instead. With
``fim.enabled`` off, ``POST {url}/completion`` takes the prefix alone. A verbatim URL (``url``
with ``urlPathCompletion`` off) that is not an ``/infill`` route gets the rendered FIM prompt as
``prompt``, as llm-ls sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hf_lsp.backends.http import HttpBackend, error_text, status_error, url_path
from hf_lsp.errors import BadRequestError, HttpStatusError, MalformedResponseError, ServerError
from hf_lsp.generation.contract import Chunk, Generation, GenerationRequest, Usage

_FINISH = {"limit": "length", "eos": "eos_token", "word": "stop_sequence"}


def llamacpp_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    p = {k: v for k, v in parameters.items() if v is not None}
    out: dict[str, Any] = {"n_predict": p.get("max_new_tokens", 128), "cache_prompt": True}
    if p.get("do_sample") is False:
        out["temperature"] = 0.0
    elif "temperature" in p:
        out["temperature"] = p["temperature"]
    for ours, theirs in (("top_p", "top_p"), ("top_k", "top_k"),
                         ("repetition_penalty", "repeat_penalty")):
        if ours in p:
            out[theirs] = p[ours]
    if p.get("stop"):
        out["stop"] = list(p["stop"])
    return out


def _usage(data: Mapping[str, Any]) -> Usage | None:
    """``tokens_evaluated`` (the prompt) and ``tokens_predicted``."""
    return Usage.read(data.get("tokens_evaluated"), data.get("tokens_predicted"))


class LlamaCppBackend(HttpBackend):
    """A llama.cpp ``llama-server``."""

    who = "the llama.cpp server"

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return self.endpoint + ("/infill" if request.fim else "/completion")

    def infill(self, request: GenerationRequest) -> bool:
        """Whether the request goes to ``/infill`` (a verbatim URL: only if it is that route)."""
        if not request.fim:
            return False
        return not self.verbatim or url_path(self.endpoint).endswith("/infill")

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        body = llamacpp_parameters(request.parameters)
        body["stream"] = stream
        if self.infill(request):
            body.update(input_prefix=request.prefix, input_suffix=request.suffix, input_extra=[])
        elif request.fim:
            body["prompt"] = request.prompt
        else:
            body["prompt"] = request.prefix or request.prompt
        return body

    def parse(self, status: int, data: Any, text: str) -> Generation:
        if not isinstance(data, Mapping) or not isinstance(data.get("content"), str):
            raise MalformedResponseError("llama.cpp answered without `content`", body=text)
        stop_type = data.get("stop_type")
        return Generation((data["content"],), _FINISH.get(str(stop_type), stop_type), text,
                          usage=_usage(data))

    def event(self, data: Any) -> Chunk | None:
        if not isinstance(data, Mapping):
            raise MalformedResponseError(f"unexpected stream event {data!r}")
        text = str(data.get("content") or "")
        reason = None
        if data.get("stop"):
            stop_type = str(data.get("stop_type") or "eos")
            reason = _FINISH.get(stop_type, stop_type)
        if not text and reason is None:
            return None
        return Chunk(text, reason, _usage(data) if reason is not None else None)

    def error(
        self, status: int, headers: Mapping[str, str], data: Any, text: str
    ) -> HttpStatusError:
        message = error_text(data, text)
        if status == 501:
            return BadRequestError(
                f"llama.cpp: {message} — this model has no fill-in-the-middle tokens; use "
                "hfLsp.backend \"openai\" (llama.cpp's /v1) with a FIM template, or a FIM model",
                status=status,
                body=text,
            )
        if status == 503:
            return ServerError(f"llama.cpp is not ready ({message})", status=status, body=text)
        return status_error(status, headers, data, text, who=self.who)
