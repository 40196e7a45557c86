"""Running a planned code action: the request, the generation, the cleaned answers.

The generation is cached, continued past a per-request cap, and streamed for progress.

It knows no LSP: the handler hands it a :class:`~hf_lsp.actions.catalog.Plan`, the completion
engine for fill-in-the-middle prompts and, for chat prompts, an engine whose backend speaks
``/v1/chat/completions``. Backend errors are raised as :class:`~hf_lsp.errors.HfLspError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hf_lsp.actions.catalog import CUSTOM, DOCSTRING, EXPLAIN, Plan
from hf_lsp.actions.output import edit_text, explanation
from hf_lsp.actions.prompts import chat_messages, choose_mode, fim_parts
from hf_lsp.completion.chat_fim import completion_route
from hf_lsp.completion.service import CompletionEngine
from hf_lsp.config.settings import SECTION, Settings
from hf_lsp.generation.contract import Generation, GenerationRequest, chat_prompt
from hf_lsp.generation.fim_templates import COMMON_SPECIAL
from hf_lsp.generation.parameters import sampling_parameters
from hf_lsp.generation.units import Unit, nearby
from hf_lsp.language.languages import path_header
from hf_lsp.language.postprocess import without

log = logging.getLogger(__name__)

RATE_LIMIT_WAIT = 60.0  # seconds an action may wait for a rate-limit slot (the user asked)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ActionAnswer:
    """The cleaned answers (edit texts, or explanations for ``show``), best first."""

    texts: tuple[str, ...]
    mode: str
    from_cache: bool
    request: GenerationRequest
    stopped: tuple[str, str] | None = None  # the settings of a budget that cut it short, and
    # the message that says so


def _parameters(settings: Settings, plan: Plan, stops: tuple[str, ...], n: int) -> dict[str, Any]:
    return sampling_parameters(settings.parameters, max_new_tokens=plan.max_new_tokens,
                               stops=(*plan.stops, *settings.parameters.stop, *stops), sequences=n)


def build_request(
    plan: Plan, settings: Settings, engine: CompletionEngine, chat_model: str | None,
    file: str = "",
) -> tuple[GenerationRequest, str]:
    """The request for ``plan`` and its mode (``fim`` or ``chat``)."""
    model = chat_model or settings.model
    # the route Inference Providers take for the model (unless the actions have a chat model)
    served = None
    if settings.backend == "huggingface" and not chat_model:
        served = completion_route(settings, engine.backend)
    mode = choose_mode(plan.mode, model, served)
    n = settings.actions.alternatives or settings.parameters.num_return_sequences
    if mode == "chat":
        messages = chat_messages(plan, file)
        return GenerationRequest(
            prompt=chat_prompt(messages),
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


def unit_for(plan: Plan, request: GenerationRequest, mode: str) -> Unit:
    """What tells a long generation for ``plan`` that its code is whole.

    Documentation and explanations are prose: judged like a chat answer (by its fence and
    its lines), not by the grammar of the code around them.
    """
    prose = plan.action in (DOCSTRING, EXPLAIN)
    return Unit(plan.language, nearby(request.prefix), plan.indent,
                insert=plan.output == "insert" and not prose, chat=mode == "chat" or prose)


async def generate(
    engine: CompletionEngine,
    request: GenerationRequest,
    on_progress: Progress | None = None,
    unit: Unit | None = None,
) -> tuple[Generation, bool]:
    """One action's generation, from the engine's cache when the same request was answered.

    Longer than one request may ask for (the serverless API's 250 tokens): continued with
    :meth:`GenerationClient.generate_long` until ``unit`` finds the code whole. Otherwise one
    request, streamed when the settings stream, with ``on_progress`` told the text so far. An
    answer a budget stopped is cut back to its last complete line and not cached.
    """
    wanted = int(request.parameters.get("max_new_tokens", 0))
    cap = engine.backend.max_new_tokens_cap
    n = int(request.parameters.get("num_return_sequences", 1))
    key = "action\x00" + request.cache_key(getattr(engine.backend, "endpoint", ""))

    async def compute() -> Generation:
        if cap is not None and wanted > cap and n == 1:
            return await engine.client.generate_long(request, wanted, on_progress, unit)
        if cap is not None and wanted > cap:
            current = request.with_parameters(max_new_tokens=cap)
        else:
            current = request

        whole = unit.stream_check() if unit is not None and n == 1 else None

        def seen(text: str) -> bool:
            if on_progress is not None:
                on_progress(text)
            return whole is not None and whole(text)  # a stream stops once the code is whole

        generation = await engine.client.generate(  # a long answer: longGeneration's time in all
            current, seen, max_wait=RATE_LIMIT_WAIT, invoked=True,
            whole=engine.settings.long_generation.max_total_time,
            budget="the action's maxNewTokens",
        )
        if on_progress is not None and generation.texts:
            on_progress(generation.texts[0])  # an answer that came in one piece
        if generation.partial and unit is not None:  # a stream that broke or ran out of time
            return replace(generation, texts=tuple(unit.whole(t) for t in generation.texts))
        if generation.finish_reason == "enough" and unit is not None and generation.texts:
            text = generation.texts[0]
            return replace(generation, texts=(text[: unit.end(text) or len(text)],))
        if generation.finish_reason in ("length", "max_tokens") and unit is not None:
            ended = [unit.end(t) for t in generation.texts]
            if all(end is not None for end in ended):
                return replace(generation, texts=tuple(
                    t[:end] for t, end in zip(generation.texts, ended, strict=True)))
            kept = tuple(unit.whole(t) for t in generation.texts)
            return replace(generation, texts=kept, partial=True, limit="tokens")
        return generation

    generation, from_cache = await engine.cache.get_or_compute(
        key, compute, keep=lambda g: bool(g.texts) and not g.partial
    )
    return generation, from_cache


def stopped_message(plan: Plan, settings: Settings, generation: Generation, long: bool
                    ) -> tuple[str, str] | None:
    """When a budget stopped the answer: the settings that raise it, and the message.

    The message tells the user which budget it was and which setting raises it.
    """
    if generation.limit is None:
        return None
    name = "custom[…]" if plan.action == CUSTOM else plan.action
    own = f"{SECTION}.actions.{name}.maxNewTokens"
    whole = f"{SECTION}.longGeneration.maxTotalNewTokens"
    total = settings.long_generation.max_total_new_tokens
    if generation.limit == "time":
        names = [f"{SECTION}.longGeneration.maxTotalTime"]
        amount = f"{settings.long_generation.max_total_time:g} s"
    else:
        names = [own] if not long or plan.max_new_tokens <= total else []
        names += [whole] if long and plan.max_new_tokens >= total else []
        amount = f"{min(plan.max_new_tokens, total) if long else plan.max_new_tokens} tokens"
    joined = " and ".join(names)
    return joined, (f"hf-lsp: {plan.title}: stopped at {amount} ({joined}) before the code "
                    f"was complete; the answer was kept up to its last complete line. Raise "
                    f"{joined} to let it write more.")


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
    generation, from_cache = await generate(used, request, on_progress,
                                            unit_for(plan, request, mode))
    cap = used.backend.max_new_tokens_cap
    long = cap is not None and int(request.parameters.get("max_new_tokens", 0)) > cap
    stopped = stopped_message(plan, settings, generation, long)
    return ActionAnswer(answers(plan, generation, mode, used), mode, from_cache, request, stopped)
