"""The contract between the engine and the backends: what is asked, what comes back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


def chat_prompt(messages: Sequence[Mapping[str, str]]) -> str:
    """Chat messages as the prompt string of a :class:`GenerationRequest` (``chat`` routes)."""
    return json.dumps([dict(m) for m in messages], ensure_ascii=False)


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
    hub_model: str = ""  # the Hub id, when ``model`` is a provider's own id for it

    @property
    def billed_model(self) -> str:
        """The model a call's tokens are counted and priced under: its Hub id."""
        return self.hub_model or self.model

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
class Usage:
    """Tokens in and out as the server counted them (``None``: it did not say)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @classmethod
    def read(cls, prompt: Any, completion: Any) -> Usage | None:
        """From two JSON values; ``None`` when neither is a count."""
        p, c = _count(prompt), _count(completion)
        return None if p is None and c is None else cls(p, c)

    def over(self, other: Usage | None) -> Usage:
        """These figures, and ``other``'s where these are missing."""
        if other is None:
            return self
        return Usage(
            self.prompt_tokens if self.prompt_tokens is not None else other.prompt_tokens,
            self.completion_tokens if self.completion_tokens is not None
            else other.completion_tokens,
        )


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 0 else None


@dataclass(frozen=True)
class Generation:
    """What a backend produced: one text per returned sequence.

    ``partial`` marks text kept from a stream that broke before its end, or cut back to its
    last complete line when a budget stopped it: ``limit`` names that budget's setting.
    ``usage`` is the server's own count of the tokens, when it gave one.
    """

    texts: tuple[str, ...]
    finish_reason: str | None = None
    raw: str = ""
    partial: bool = False
    limit: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class Chunk:
    """One piece of a streamed generation; the last one carries the finish reason.

    ``usage``: the server's token count, on the event that carries it (usually the last).
    """

    text: str
    finish_reason: str | None = None
    usage: Usage | None = None


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
