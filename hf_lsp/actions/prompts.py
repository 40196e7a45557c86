"""The prompts code actions send: fill-in-the-middle for base models, chat for instruct ones."""

from __future__ import annotations

import re
from collections.abc import Mapping

from hf_lsp.actions.catalog import (
    CUSTOM,
    DOCSTRING,
    EXPLAIN,
    FIX,
    GENERATE,
    IMPLEMENT,
    REWRITE,
    Plan,
)
from hf_lsp.language.functions import PYTHON_LIKE
from hf_lsp.language.languages import comment_marker

_INSTRUCT = re.compile(r"instruct|chat|-it\b|-it[-_.]|[-_]it$|assistant", re.I)
CONTEXT_LINES_BEFORE = 60
CONTEXT_LINES_AFTER = 30

SYSTEM = (
    "You are an expert {language} programmer working inside a code editor. Follow the "
    "file's existing style. When asked for code, answer with the code only, in one fenced "
    "code block, without explanations."
)

DEFAULT_FIM = {
    GENERATE: "{before}{indent}{lead}",
    IMPLEMENT: "{before}{indent}{lead}",
    DOCSTRING: "{before}{indent}{lead}",
    FIX: "{before}{indent}{comment} Fixed: {diagnostic}\n{indent}",
    REWRITE: "{before}{indent}{comment} {instruction}:\n{indent}",
    EXPLAIN: "{before}{code}\n\n{comment} In plain words, the code above does this:\n{comment} ",
    CUSTOM: "{before}{indent}{comment} {instruction}:\n{indent}",
}

DEFAULT_CHAT = {
    GENERATE: (
        "Write the {language} code that this comment asks for; it will be inserted right "
        "below the comment.\n\nComment:\n```{language}\n{code}\n```\n\nThe file "
        "({file}) around it:\n```{language}\n{context}\n```\n\nAnswer with only the new code, "
        "in one fenced code block."
    ),
    IMPLEMENT: (
        "Implement this {language} function. Answer with only its body, in one fenced code "
        "block: do not repeat the signature or the docstring.\n\n```{language}\n{code}\n```"
        "\n\nThe file ({file}) around it:\n```{language}\n{context}\n```"
    ),
    DOCSTRING: (
        "Write the {doc} for this {language} function, in the language's usual convention. "
        "Answer with only the text of the {doc}, without the function and without comment "
        "markers or quotes.\n\n```{language}\n{code}\n```"
    ),
    FIX: (
        "A tool reports this problem in {file}: {diagnostic}\n\nThe lines it is about:\n"
        "```{language}\n{code}\n```\n\nThe file around them:\n```{language}\n{context}\n```"
        "\n\nAnswer with only the corrected version of those lines, in one fenced code block."
    ),
    REWRITE: (
        "Rewrite this {language} code: {instruction}\n\n```{language}\n{code}\n```\n\nAnswer "
        "with only the rewritten code, in one fenced code block."
    ),
    EXPLAIN: (
        "Explain what this {language} code from {file} does, for a programmer reading it. "
        "Be brief; use Markdown.\n\n```{language}\n{code}\n```"
    ),
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def looks_instruct(model: str) -> bool:
    """Whether a model id names an instruction-tuned model (``…-Instruct``, ``-chat``, ``-it``)."""
    return bool(_INSTRUCT.search(model.rsplit("/", 1)[-1]))


def choose_mode(mode: str, model: str, served_as: str | None = None) -> str:
    """``fim`` or ``chat`` for an action's ``mode`` setting.

    ``auto`` takes chat when the model is served only through chat (``served_as``, the
    route the Inference Providers router takes for it) or its id looks instruction-tuned.
    """
    if mode in ("fim", "chat"):
        return mode
    return "chat" if served_as == "chat" or looks_instruct(model) else "fim"


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace the ``{name}`` placeholders ``values`` knows; any other brace stays as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _tail(text: str, n: int) -> str:
    return "".join(text.splitlines(keepends=True)[-n:])


def _head(text: str, n: int) -> str:
    return "".join(text.splitlines(keepends=True)[:n])


def values(plan: Plan, file: str = "") -> dict[str, str]:
    doc = "docstring" if plan.language in PYTHON_LIKE else "doc comment"
    return {
        "before": plan.before + plan.edit_head,
        "after": plan.after,
        "indent": plan.indent,
        "lead": plan.lead,
        "comment": comment_marker(plan.language),
        "code": plan.code,
        "instruction": plan.instruction,
        "diagnostic": plan.diagnostic,
        "language": plan.language or "code",
        "file": file or "the file",
        "doc": doc,
        "context": _tail(plan.before, CONTEXT_LINES_BEFORE) + plan.code + "\n"
        + _head(plan.after.lstrip("\r\n"), CONTEXT_LINES_AFTER)
        if plan.action in (FIX, REWRITE)
        else _tail(plan.before, CONTEXT_LINES_BEFORE) + _head(plan.after, CONTEXT_LINES_AFTER),
    }


def fim_parts(plan: Plan, file: str = "") -> tuple[str, str]:
    """The text before and after the hole of a fill-in-the-middle prompt."""
    template = plan.fim_prompt or DEFAULT_FIM.get(plan.action, DEFAULT_FIM[CUSTOM])
    prefix = fill(template, values(plan, file))
    if plan.action == EXPLAIN:
        return prefix, ""
    return prefix, plan.trail + plan.edit_tail + plan.after


def chat_messages(plan: Plan, file: str = "") -> list[dict[str, str]]:
    """The messages of a chat prompt: a system message and the action's request."""
    v = values(plan, file)
    template = plan.chat_prompt or DEFAULT_CHAT.get(plan.action, DEFAULT_CHAT[REWRITE])
    user = fill(template, v)
    if plan.action == CUSTOM and "{code}" not in template:
        user += f"\n\n```{v['language']}\n{plan.code}\n```"
    system = fill(SYSTEM, v)
    if plan.action == EXPLAIN:
        system = fill("You are an expert {language} programmer. Explain code clearly and "
                      "briefly.", v)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


__all__ = ["DOCSTRING", "chat_messages", "choose_mode", "fill", "fim_parts", "looks_instruct"]
