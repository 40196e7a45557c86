"""Tokens in and out for the session, and what they cost where the price is known.

Every backend call that produced text is recorded once, with the server's own counts when it
gave them (OpenAI ``usage``, the ``x-prompt-tokens`` / ``x-generated-tokens`` headers, TGI's
``details.generated_tokens``, Ollama's ``prompt_eval_count`` / ``eval_count``, llama.cpp's
``tokens_evaluated`` / ``tokens_predicted``); a figure the server left out is counted with
hf-lsp's token counter and marked as estimated. Cache hits make no call, so cost nothing.

Prices (USD per million tokens, input and output) come from the router's ``/v1/models`` for
the model and provider a call went to. They are asked for once, by ``want_prices``, when the
first call to a priced route is recorded, never on the way of a completion. A cost is shown
only when every token counted has a known price: no price, no figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hf_lsp.generation.contract import Usage

Price = tuple[float, float]  # USD per million tokens: input, output


@dataclass
class Tally:
    """The tokens of one (model, provider), and how many of them were estimated."""

    tokens_in: int = 0
    tokens_out: int = 0
    estimated_in: int = 0
    estimated_out: int = 0
    calls: int = 0


class Meter:
    """The session's token figures; shared by every backend a configuration builds."""

    def __init__(self, count: Callable[[str], int] | None = None) -> None:
        self.count: Callable[[str], int] = count or _estimate
        self.tallies: dict[tuple[str, str | None], Tally] = {}
        self.prices: dict[tuple[str, str], Price] | None = None  # None: not known (yet)
        self.want_prices: Callable[[str], None] | None = None  # called with the router base
        self._asked = False

    def record(
        self,
        model: str,
        provider: str | None,
        prompt: str,
        texts: tuple[str, ...] | list[str],
        usage: Usage | None,
        *,
        priced_by: str | None = None,
    ) -> None:
        """One call's tokens. ``priced_by``: the router whose ``/v1/models`` prices the call."""
        tally = self.tallies.setdefault((model_id(model), provider), Tally())
        tally.calls += 1
        usage = usage or Usage()
        if usage.prompt_tokens is not None:
            tally.tokens_in += usage.prompt_tokens
        else:
            guess = self.count(prompt)
            tally.tokens_in += guess
            tally.estimated_in += guess
        if usage.completion_tokens is not None:
            tally.tokens_out += usage.completion_tokens
        else:
            guess = sum(self.count(t) for t in texts)
            tally.tokens_out += guess
            tally.estimated_out += guess
        if priced_by and provider and not self._asked and self.want_prices is not None:
            self._asked = True
            self.want_prices(priced_by)

    def cost(self) -> float | None:
        """USD for the session; ``None`` when any counted token has no known price."""
        total = 0.0
        for (model, provider), tally in self.tallies.items():
            if not tally.tokens_in and not tally.tokens_out:
                continue
            price = (self.prices or {}).get((model, provider or ""))
            if price is None:
                return None
            total += (tally.tokens_in * price[0] + tally.tokens_out * price[1]) / 1_000_000
        return total

    def status(self) -> Mapping[str, Any]:
        tokens_in = sum(t.tokens_in for t in self.tallies.values())
        tokens_out = sum(t.tokens_out for t in self.tallies.values())
        estimated = any(t.estimated_in or t.estimated_out for t in self.tallies.values())
        cost = self.cost() if self.tallies else None
        return {
            "tokensIn": tokens_in,
            "tokensOut": tokens_out,
            "tokensEstimated": estimated,
            "costUsd": None if cost is None else round(cost, 6),
            "spend": spend(tokens_in, tokens_out, estimated, cost),
            "usage": [
                {
                    "model": model, "provider": provider, "calls": t.calls,
                    "tokensIn": t.tokens_in, "tokensOut": t.tokens_out,
                    "estimatedIn": t.estimated_in, "estimatedOut": t.estimated_out,
                }
                for (model, provider), t in self.tallies.items()
            ],
        }


def spend(tokens_in: int, tokens_out: int, estimated: bool, cost: float | None) -> str:
    """The one line editors show: ``1,234 in / 56 out tokens (some estimated), $0.0012``."""
    text = f"{tokens_in:,} in / {tokens_out:,} out tokens"
    if estimated:
        text += " (some estimated)"
    if cost is not None:
        text += f", ${cost:.4f}" if cost < 1 else f", ${cost:.2f}"
    return text


def model_id(model: str) -> str:
    """The Hub id without a router suffix (``:provider``, ``:fastest``…)."""
    return model.split(":", 1)[0]


def _estimate(text: str) -> int:
    return math.ceil(len(text) / 3.2) if text else 0
