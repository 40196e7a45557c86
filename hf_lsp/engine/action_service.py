"""Running a planned code action: the request, the generation, the cleaned answers.

The generation is cached, continued past a per-request cap, and streamed for progress.

It knows no LSP: the handler hands it a :class:`~hf_lsp.engine.actions.Plan`, the completion
engine for fill-in-the-middle prompts and, for chat prompts, an engine whose backend speaks
``/v1/chat/completions``. Backend errors are raised as :class:`~hf_lsp.errors.HfLspError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hf_lsp.engine.action_output import edit_text, explanation
from hf_lsp.engine.action_prompts import chat_messages, choose_mode, fim_parts
from hf_lsp.engine.actions import Plan
from hf_lsp.engine.completion import CompletionEngine
from hf_lsp.engine.context import path_header
from hf_lsp.engine.generation import Generation, GenerationRequest
from hf_lsp.engine.postprocess import without
from hf_lsp.engine.prompts import COMMON_SPECIAL
from hf_lsp.settings import Settings

log = logging.getLogger(__name__)

MAX_STOP_SEQUENCES = 4
RATE_LIMIT_WAIT = 60.0  # seconds an action may wait for a rate-limit slot (the user asked)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ActionAnswer:
    """The cleaned answers (edit texts, or explanations for ``show``), best first."""

    texts: tuple[str, ...]
    mode: str
    from_cache: bool
    request: GenerationRequest


def _parameters(settings: Settings, plan: Plan, stops: tuple[str, ...], n: int) -> dict[str, Any]:
    p = settings.parameters
    params: dict[str, Any] = {
        "max_new_tokens": plan.max_new_tokens,
        "temperature": p.temperature,
        "top_p": p.top_p if p.top_p is None or p.top_p < 1.0 else None,
        "top_k": p.top_k,
        "repetition_penalty": p.repetition_penalty,
        "max_time": p.max_time,
        "return_full_text": False,
        "num_return_sequences": n,
        "do_sample": p.do_sample if n == 1 else True,
        "stop": list(dict.fromkeys(s for s in (*plan.stops, *p.stop, *stops) if s))[
            :MAX_STOP_SEQUENCES
        ],
    }
    if p.temperature == 0 and n == 1:
        params["temperature"] = None
        params["do_sample"] = False
    if not params["stop"]:
        del params["stop"]
    return {k: v for k, v in params.items() if v is not None}


def build_request(
    plan: Plan, settings: Settings, engine: CompletionEngine, chat_model: str | None,
    file: str = "",
) -> tuple[GenerationRequest, str]:
    """The request for ``plan`` and its mode (``fim`` or ``chat``)."""
    model = chat_model or settings.model
    mode = choose_mode(plan.mode, model if chat_model else settings.model)
    n = settings.actions.alternatives or settings.parameters.num_return_sequences
    if mode == "chat":
        messages = chat_messages(plan, file)
        return GenerationRequest(
            prompt=json.dumps(messages, ensure_ascii=False),
            parameters=_parameters(settings, plan, (), n),
            options={},
            model=model,
            fim=False,
        ), mode
    template = engine.template()
    prefix, suffix = fim_parts(plan, file)
    if settings.context.include_file_path and file:
        prefix = path_header(file, plan.language) + prefix
    prompt = template.render(prefix, suffix) if settings.fim.enabled else prefix
    return GenerationRequest(
        prompt=prompt,
        parameters=_parameters(settings, plan, template.stop, n),
        options={"use_cache": settings.options.use_cache,
                 "wait_for_model": settings.options.wait_for_model},
        model=settings.model,
        prefix=prefix,
        suffix=suffix if settings.fim.enabled else "",
        fim=settings.fim.enabled,
    ), mode


async def generate(
    engine: CompletionEngine, request: GenerationRequest, on_progress: Progress | None = None
) -> tuple[Generation, bool]:
    """One action's generation, from the engine's cache when the same request was answered.

    Longer than one request may ask for (the serverless API's 250 tokens): continued with
    :meth:`CompletionEngine.generate_long`. Otherwise one request, streamed when the
    settings stream, with ``on_progress`` told the text so far.
    """
    wanted = int(request.parameters.get("max_new_tokens", 0))
    cap = engine.backend.max_new_tokens_cap
    n = int(request.parameters.get("num_return_sequences", 1))
    key = "action\x00" + request.cache_key(getattr(engine.backend, "endpoint", ""))

    async def compute() -> Generation:
        if cap is not None and wanted > cap and n == 1:
            return await engine.generate_long(request, wanted, on_progress)
        if cap is not None and wanted > cap:
            current = request.with_parameters(max_new_tokens=cap)
        else:
            current = request

        def seen(text: str) -> bool:
            if on_progress is not None:
                on_progress(text)
            return False

        generation = await engine._generate(  # a long answer: longGeneration's time in all
            current, seen, max_wait=RATE_LIMIT_WAIT, invoked=True,
            whole=engine.settings.long_generation.max_total_time,
            budget="the action's maxNewTokens",
        )
        if on_progress is not None and generation.texts:
            on_progress(generation.texts[0])  # an answer that came in one piece
        return generation

    generation, from_cache = await engine.cache.get_or_compute(
        key, compute, keep=lambda g: bool(g.texts) and not g.partial
    )
    return generation, from_cache


def answers(plan: Plan, generation: Generation, mode: str, engine: CompletionEngine
            ) -> tuple[str, ...]:
    """Clean every returned sequence; drop empty and duplicate answers."""
    chat = mode == "chat"
    tokens = tuple(dict.fromkeys((*engine.template().special_tokens, *COMMON_SPECIAL)))
    out: list[str] = []
    for answer in generation.texts:
        raw = without(answer, engine.settings.tokens_to_clear)
        if plan.output == "show":
            text: str | None = explanation(plan, raw, chat=chat, tokens=tokens)
        else:
            text = edit_text(plan, raw, chat=chat, tokens=tokens)
        if text and text.strip() and text not in out:
            out.append(text)
    return tuple(out)


async def run(
    plan: Plan,
    settings: Settings,
    engine: CompletionEngine,
    chat_engine: Callable[[], CompletionEngine],
    *,
    file: str = "",
    on_progress: Progress | None = None,
) -> ActionAnswer:
    """Ask for ``plan`` and clean what comes back."""
    chat_model = settings.actions.chat_model
    request, mode = build_request(plan, settings, engine, chat_model, file)
    used = chat_engine() if mode == "chat" else engine
    log.info("%s: asking %s (%s, max_new_tokens %s)", plan.title, request.model, mode,
             request.parameters.get("max_new_tokens"))
    generation, from_cache = await generate(used, request, on_progress)
    return ActionAnswer(answers(plan, generation, mode, used), mode, from_cache, request)
