"""Fill-in-the-middle through a chat route, for models served only as ``conversational``.

``POST {endpoint}/v1/chat/completions`` with ``model`` = ``request.model`` and a prompt built
from ``request.prefix`` / ``request.suffix``; the answer is the chat message's content.
A minimal version: the prompt and the cleaning of the answer are kept simple here.
"""

from __future__ import annotations

from typing import Any

from hf_lsp.backends.openai import OpenAIBackend, base_url, openai_parameters
from hf_lsp.engine.generation import Generation, GenerationRequest

HOLE = "<CURSOR>"
SYSTEM = (
    "You complete code. Reply with only the code that replaces " + HOLE + ", without fences "
    "or explanations."
)


class ChatFimBackend(OpenAIBackend):
    """Inline completion from an instruction model, through ``/v1/chat/completions``."""

    who = "the chat completions route"

    def url(self, request: GenerationRequest, stream: bool) -> str:
        return base_url(self.endpoint) + "/v1/chat/completions"

    def body(self, request: GenerationRequest, stream: bool) -> dict[str, Any]:
        body = openai_parameters(request.model, request.parameters)
        body["messages"] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": request.prefix + HOLE + request.suffix},
        ]
        body["stream"] = stream
        return body

    def parse(self, status: int, data: Any, text: str) -> Generation:
        from hf_lsp.backends.openai import parse_completion

        return parse_completion(data, text, chat=True)
