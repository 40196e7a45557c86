"""The contract between the engine and the backends: what is asked, what comes back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


@dataclass(frozen=True)
class GenerationRequest:
    """One generation, in the user's vocabulary (the Hugging Face parameter names).

    ``prompt`` is the rendered prompt (FIM tokens included); ``prefix`` and ``suffix`` are
    its pieces, for backends that do fill-in-the-middle themselves (Ollama, llama.cpp) or
    ask a chat model for it, which also reads the document's ``language`` and ``path``.
    ``chat`` marks a completion that asks through a chat prompt (``completionMode``).
    """

    prompt: str
    parameters: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    model: str = ""
    prefix: str = ""
    suffix: str = ""
    fim: bool = True
    language: str = ""
    path: str = ""
    chat: bool = False

    def with_options(self, **options: Any) -> GenerationRequest:
        return replace(self, options={**self.options, **options})

    def with_parameters(self, **parameters: Any) -> GenerationRequest:
        return replace(self, parameters={**self.parameters, **parameters})

    def without_parameters(self, names: set[str]) -> GenerationRequest:
        kept = {k: v for k, v in self.parameters.items() if k not in names}
        return replace(self, parameters=kept)

    def continued(self, text: str) -> GenerationRequest:
        """The request that continues after ``text`` was generated."""
        return replace(self, prompt=self.prompt + text, prefix=self.prefix + text)

    def cache_key(self, namespace: str) -> str:
        """Identical (endpoint, model, prompt, parameters) → identical key."""
        return json.dumps(
            [namespace, self.model, self.prompt, self.suffix, dict(self.parameters)],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )


@dataclass(frozen=True)
class Generation:
    """What a backend produced: one text per returned sequence.

    ``partial`` marks text kept from a stream that broke before its end.
    """

    texts: tuple[str, ...]
    finish_reason: str | None = None
    raw: str = ""
    partial: bool = False


@dataclass(frozen=True)
class Chunk:
    """One piece of a streamed generation; the last one carries the finish reason."""

    text: str
    finish_reason: str | None = None


@dataclass(frozen=True)
class Limits:
    """What a server says about its own limits (TGI's ``/info``), in tokens."""

    max_input_tokens: int | None = None
    max_total_tokens: int | None = None
    max_stop_sequences: int | None = None


Exchange = Callable[[str, Mapping[str, Any], int, str], None]
"""Called with (url, request body, status, raw response) after each HTTP exchange."""


class Backend(Protocol):
    """One wire format. Raises :class:`hf_lsp.errors.BackendError` and nothing else."""

    endpoint: str
    max_new_tokens_cap: int | None
    """The most one request may ask for (the serverless API's 250), or ``None``."""

    async def generate(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> Generation: ...

    def stream(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> AsyncIterator[Chunk]: ...

    async def limits(self) -> Limits | None: ...

    async def aclose(self) -> None: ...
