"""The contract between the engine and the backends: what is asked, what comes back."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


@dataclass(frozen=True)
class GenerationRequest:
    """One generation, in the user's vocabulary (the Hugging Face parameter names)."""

    prompt: str
    parameters: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    model: str = ""

    def with_options(self, **options: Any) -> GenerationRequest:
        return replace(self, options={**self.options, **options})

    def without_parameters(self, names: set[str]) -> GenerationRequest:
        kept = {k: v for k, v in self.parameters.items() if k not in names}
        return replace(self, parameters=kept)

    def cache_key(self, namespace: str) -> str:
        """Identical (endpoint, model, prompt, parameters) → identical key."""
        return json.dumps(
            [namespace, self.model, self.prompt, dict(self.parameters)],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )


@dataclass(frozen=True)
class Generation:
    """What a backend produced: one text per returned sequence."""

    texts: tuple[str, ...]
    finish_reason: str | None = None
    raw: str = ""


Exchange = Callable[[str, Mapping[str, Any], int, str], None]
"""Called with (url, request body, status, raw response) after each HTTP exchange."""


class Backend(Protocol):
    """One wire format. Raises :class:`hf_lsp.errors.BackendError` and nothing else."""

    async def generate(
        self, request: GenerationRequest, timeout: float | None = None
    ) -> Generation: ...

    async def aclose(self) -> None: ...
