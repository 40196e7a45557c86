"""The generation parameters every request sends, built in one place from ``hfLsp.parameters``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hf_lsp.config.settings import Parameters

MAX_STOP_SEQUENCES = 4  # TGI's default `max_stop_sequences`; the HF API answers 422 above it


def sampling_parameters(
    p: Parameters,
    *,
    max_new_tokens: int,
    stops: Iterable[str] = (),
    sequences: int = 1,
    full_text: bool = False,
    dropped: Iterable[str] = (),
) -> dict[str, Any]:
    """The ``parameters`` of a text-generation request, without the unset ones.

    ``stops`` come first (a feature's own, e.g. a single line's newline), then the template's;
    the user's ``stop`` is added after them by the caller's choice of order. More than one
    sequence samples; a zero temperature with one sequence decodes greedily (TGI rejects a
    zero temperature), and a ``top_p`` of 1.0 is left out (it means no cut; TGI rejects it).
    ``dropped`` are parameters the model said it does not accept.
    """
    params: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "temperature": p.temperature,
        "top_p": p.top_p if p.top_p is None or p.top_p < 1.0 else None,
        "top_k": p.top_k,
        "repetition_penalty": p.repetition_penalty,
        "max_time": p.max_time,
        "return_full_text": full_text,
        "num_return_sequences": sequences,
        "do_sample": p.do_sample or sequences > 1,
        "stop": list(dict.fromkeys(s for s in stops if s))[:MAX_STOP_SEQUENCES] or None,
    }
    if p.temperature == 0 and sequences == 1:
        params["temperature"] = None
        params["do_sample"] = False
    for name in dropped:
        params.pop(name, None)
    return {k: v for k, v in params.items() if v is not None}
