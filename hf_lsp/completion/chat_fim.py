"""Fill-in-the-middle through a chat model: the prompt, and the answer made into the hole's code.

Instruction models (``…-Instruct``, ``-chat``) are often served only through
``/v1/chat/completions``. They are asked to fill a marked hole in the file and to answer with
that code only; they still wrap it in fences and prose, repeat the line they were given, echo
the code after the hole or the whole file with the hole filled, or leak FIM tokens.
:func:`clean_fim_answer` undoes each of these, so that the engine's usual post-processing
(scope end, indentation, closers) starts from the missing code alone.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hf_lsp.actions.output import extract_code
from hf_lsp.actions.prompts import looks_instruct
from hf_lsp.generation.fim_templates import COMMON_SPECIAL, TEMPLATES

if TYPE_CHECKING:
    from hf_lsp.config.settings import Settings

HOLE = "<FILL_HERE>"

SYSTEM = (
    "You are a code completion engine inside a code editor. You are shown a file with one "
    f"hole marked {HOLE}. Answer with only the code that goes in the hole, in one fenced "
    "code block: do not repeat the code before or after the hole, keep the file's "
    "indentation, and write no explanation. If nothing should go there, answer with an "
    "empty code block."
)

# hole markers a model may give back: ours, and the usual template placeholders
_HOLES = (HOLE, "<FILL_HERE/>", "{{FILL_HERE}}", "<|fill_here|>", "<HOLE>", "<|hole|>")
_MIDDLES = tuple(dict.fromkeys(t.middle.strip() for t in TEMPLATES.values() if t.middle.strip()))
_MARKERS = tuple(dict.fromkeys(
    tok
    for t in TEMPLATES.values()
    for tok in (t.prefix.strip(), t.suffix.strip(), t.middle.strip(), "<|fim_pad|>")
    if tok
))
_ENDS = tuple(dict.fromkeys(
    tok
    for tok in (*COMMON_SPECIAL, *(s for t in TEMPLATES.values() for s in t.stop))
    if tok not in _MARKERS
))
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S)
_INLINE = re.compile(r"`([^`\n]+)`")
# the first words of a chat model's sentences about the code, not code
_PROSE_OPENERS = re.compile(
    r"^(?:here(?:'s| is| are)|sure\b|certainly\b|of course\b|okay\b|ok,|i(?:'m| am| can| "
    r"cannot|'ll| will| would| don't| do not|'d)\b|unfortunately\b|sorry\b|note\b|the (?:code|"
    r"missing|hole|completion|line|function|answer|filled|rest)\b|this (?:code|completes|fills|"
    r"line|function|will|should)\b|to (?:fill|complete)\b|based on\b|without more\b|"
    r"explanation\b|it (?:seems|looks)\b|there is nothing\b|nothing (?:needs|should|is)\b)",
    re.I,
)
_CLOSE = {")": "(", "]": "[", "}": "{"}
TAB_WIDTH = 4
# tokens a chat answer spends around the code (measured on tests/golden/chat_fim.json): a
# fence is 3 to 5, a sentence before it 10 to 20; only what is generated is billed
HEADROOM = 24
ROLE_TOKENS = 16  # a chat template's markers around two messages and the answer's start


def completion_route(settings: Settings, backend: Any = None) -> str:
    """``chat`` when completions go through a chat prompt, ``fim`` otherwise.

    ``auto`` chooses chat for an ``openai`` server and an instruction model, or a URL that
    is the chat route itself. ``huggingface`` routes by the model's providers: chat once
    ``backend`` (the Inference Providers router) knows it sends the model to a chat route.
    """
    if settings.backend == "huggingface":
        kind = getattr(backend, "route_kind", None)
        return "chat" if kind is not None and kind(settings.model) == "chat" else "fim"
    if settings.completion_mode != "auto":
        return settings.completion_mode
    if settings.backend != "openai":
        return "fim"
    if settings.verbatim:
        path = urlsplit(settings.endpoint()).path.rstrip("/")
        return "chat" if path.endswith("/chat/completions") else "fim"
    return "chat" if looks_instruct(settings.model) else "fim"


def fim_messages(
    prefix: str, suffix: str, *, language: str | None, path: str | None
) -> list[dict[str, str]]:
    """The chat messages that ask for the code between ``prefix`` and ``suffix``."""
    lang = (language or "").strip()
    fence = _fence_for(prefix + suffix)
    where = f" ({path})" if path else ""
    what = f"this {lang} file{where}" if lang else f"this file{where}"
    line_before = prefix.rsplit("\n", 1)[-1]
    line_after = suffix.split("\n", 1)[0]
    hints = []
    if line_after.strip():
        hints.append("The hole is inside a line: write only what goes between the text "
                     "before it and the text after it on that line.")
    elif line_before.strip():
        hints.append("The hole is at the end of a line: continue that line, without "
                     "repeating what is already written on it.")
    hints.append("Answer with only the code that goes in the hole, in one fenced code block.")
    code = prefix + HOLE + suffix
    if not code.endswith("\n"):
        code += "\n"
    user = f"Fill in the hole {HOLE} in {what}:\n\n{fence}{lang}\n{code}{fence}\n\n" + " ".join(
        hints
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def messages_prompt(
    prefix: str, suffix: str, *, language: str | None, path: str | None
) -> str:
    """The chat messages as a request's prompt string: what its cache key and figures see."""
    messages = fim_messages(prefix, suffix, language=language, path=path)
    return json.dumps(messages, ensure_ascii=False)


def prompt_overhead(language: str | None, path: str | None) -> str:
    """The text :func:`fim_messages` adds around the code, at its longest (for the budget)."""
    return "".join(m["content"] for m in fim_messages("x", "x", language=language, path=path))


def _fence_for(text: str) -> str:
    """A fence longer than any run of backticks in ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def clean_fim_answer(answer: str, prefix: str, suffix: str) -> str:
    """Only the code that goes between ``prefix`` and ``suffix`` ("" when there is none)."""
    text = _THINK.sub("", answer)
    text = text[text.rfind("</think>") + len("</think>"):] if "</think>" in text else text
    text = _without_tokens(text)
    code = _code(text)
    if not code.strip():
        return ""
    lines = code.replace("\r\n", "\n").split("\n")
    lines, echoed = _drop_prefix_echo(lines, prefix)
    lines = _drop_suffix_echo(lines, suffix, whole=echoed)
    if not any(line.strip() for line in lines):
        return ""
    text = _place(lines, prefix, suffix)
    return _drop_rest_of_line(text, suffix)


# --- tokens, fences and prose --------------------------------------------------------------


def _without_tokens(text: str) -> str:
    """Leaked FIM markers removed; the text ends at an end-of-text token."""
    for middle in _MIDDLES:  # `<fim_prefix>…<fim_suffix>…<fim_middle>code`: the code follows
        at = text.rfind(middle)
        if at >= 0 and text[at + len(middle):].strip():
            text = text[at + len(middle):]
    cut = len(text)
    for end in _ENDS:
        at = text.find(end)
        if 0 <= at < cut and text[:at].strip():
            cut = at
    text = text[:cut]
    for token in (*_MARKERS, *_ENDS, *_HOLES):
        text = text.replace(token, "")
    return text


def _code(text: str) -> str:
    """The code of the answer: its first fenced block, or the answer without its prose."""
    if "```" in text or "~~~" in text:
        return extract_code(text.replace("~~~", "```"))
    lines = text.strip("\n").split("\n")
    while lines and _is_prose(lines[0]):
        lines.pop(0)
    while lines and _is_prose(lines[-1]):
        lines.pop()
    if not lines:  # only sentences: one inline code span among them is the answer
        spans = _INLINE.findall(text)
        return spans[0] if len(spans) == 1 else ""
    if len(lines) == 1 and (m := re.fullmatch(r"\s*`([^`\n]+)`\s*", lines[0])):
        return m.group(1)
    return "\n".join(lines)


def _is_prose(line: str) -> bool:
    text = line.strip()
    if not text:
        return True
    if re.match(r"^[\w.]+\s*(?:[-+*/%|&]?=|\(|\[)", text):  # `note = …`, `sure(…)`: code
        return False
    if _PROSE_OPENERS.match(text):
        return True
    # a sentence: capitalised words and a full stop, with none of code's punctuation
    words = text.split()
    return (
        len(words) >= 5
        and text[0].isupper()
        and text[-1] in ".!?:"
        and not re.search(r"[(){}\[\]=;<>#\"]|//|\b(?:def|return|import|class)\b", text)
    )


# --- echoes of the code around the hole ----------------------------------------------------


def _norm(line: str) -> str:
    return " ".join(line.split())


def _substantial(lines: list[str]) -> bool:
    """Whether matching lines are evidence of an echo, rather than code that repeats."""
    if len(lines) >= 2:
        return True
    text = _norm(lines[0]) if lines else ""
    return len(text) >= 4 and any(ch.isalnum() for ch in text)


def _drop_prefix_echo(lines: list[str], prefix: str) -> tuple[list[str], bool]:
    """Drop the answer's first lines when they repeat the lines before the cursor's line."""
    before = [_norm(ln) for ln in prefix.split("\n")[:-1] if ln.strip()]
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    if not before or not filled:
        return lines, False
    known = set(before)
    best = 0
    # the longest run of the answer's first lines that is the end of the prefix
    for m in range(min(len(before), len(filled) - 1), 0, -1):
        if [_norm(lines[i]) for i in filled[:m]] == before[-m:]:
            best = m
            break
    if not best:
        # an echo from further up that skips or rewraps a line: the last prefix line, with
        # nothing but prefix lines before it
        last = before[-1]
        for k in range(len(filled) - 2, -1, -1):
            head = [_norm(lines[i]) for i in filled[: k + 1]]
            if head[-1] == last and len(head) >= 3 and all(h in known for h in head):
                best = k + 1
                break
    if not best or not _substantial([lines[i] for i in filled[:best]]):
        return lines, False
    return lines[filled[best - 1] + 1:], True


def _drop_suffix_echo(lines: list[str], suffix: str, *, whole: bool) -> list[str]:
    """Cut the answer where it starts repeating the lines after the cursor's line."""
    after = [_norm(ln) for ln in suffix.split("\n")[1:] if ln.strip()]
    if not after:
        return lines
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    start = 0 if whole else 1  # the whole file echoed may have left the hole empty
    for pos in range(start, len(filled)):
        rest = [_norm(lines[i]) for i in filled[pos:]]
        k = 0
        while k < len(rest) and k < len(after) and rest[k] == after[k]:
            k += 1
        if not k:
            continue
        tail = [lines[i] for i in filled[pos:pos + k]]
        if k == len(rest) and (_substantial(tail) or whole or _balance(lines) < 0):
            return lines[: filled[pos]]
        if k >= 2 and k < len(rest):  # echoed several lines, then went on: still the echo
            return lines[: filled[pos]]
    return lines


def _balance(lines: list[str]) -> int:
    """Brackets opened minus brackets closed (negative: it closes what the suffix closes)."""
    text = "\n".join(lines)
    return sum(text.count(o) for o in "([{") - sum(text.count(c) for c in _CLOSE)


def _drop_rest_of_line(text: str, suffix: str) -> str:
    """Drop an ending that repeats the rest of the cursor's line (after the hole)."""
    rest = suffix.split("\n", 1)[0].strip()
    if not rest or not text.rstrip().endswith(rest):
        return text
    body = text.rstrip()[: -len(rest)]
    wordy = len(rest) >= 2 and any(ch.isalnum() for ch in rest)
    if wordy and body.strip():
        return body
    if not wordy and _balance(text.split("\n")) < 0:
        return body  # closers the line already has: the engine's own overlap rules do the rest
    return text


# --- placing the answer at the cursor ------------------------------------------------------


def _width(indent: str) -> int:
    return len(indent.expandtabs(TAB_WIDTH))


def _lead(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _uses_tabs(prefix: str) -> bool:
    lines = prefix.split("\n")
    tabs = sum(ln.startswith("\t") for ln in lines)
    spaces = sum(ln.startswith("  ") for ln in lines)
    return tabs > spaces


def _place(lines: list[str], prefix: str, suffix: str) -> str:
    """The answer as text to insert at the cursor.

    Its first line goes right after what the cursor's line already holds (a repeated start of
    that line, or its indentation, is dropped); the other lines keep their indentation
    relative to the first.
    """
    cursor = prefix.rsplit("\n", 1)[-1]
    while lines and not lines[0].strip() and not cursor.strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return ""
    first, shift, newline = lines[0], 0, False
    body = cursor.lstrip()
    if body:
        stripped = first.lstrip(" \t")
        after = stripped[len(body.rstrip()):]
        if stripped.startswith(body) or (
            stripped.startswith(body.rstrip()) and not after[:1].isalnum() and after[:1] != "_"
        ):
            # the whole line repeated, hole filled: what follows the cursor's text
            first = (stripped[len(body):] if stripped.startswith(body)
                     else after.lstrip(" "))
            shift = _width(_lead(cursor)) - _width(_lead(lines[0]))
        elif (k := _overlap(cursor, stripped)) > 0:
            first = stripped[k:]
        elif not suffix.split("\n", 1)[0].strip() and (
            _width(_lead(first)) >= max(2, _width(_lead(cursor)))
            or (len(lines) > 1 and re.search(r"[:{]\s*$", cursor))
        ):
            newline = True  # the answer starts on the next line: the hole ends this one
            shift = 0
    elif cursor:  # an indented blank line: the cursor already stands at the indentation
        if _lead(first) or _relative(lines, _width(cursor)):
            shift = _width(cursor) - _width(_lead(first))
        first = first.lstrip(" \t")
    out = [first]
    tabs = _uses_tabs(prefix)
    for line in lines[1:]:
        if shift and line.strip():
            width = max(0, _width(_lead(line)) + shift)
            indent = " " * width
            if tabs:
                indent = "\t" * (width // TAB_WIDTH) + " " * (width % TAB_WIDTH)
            line = indent + line.lstrip(" \t")
        out.append(line)
    text = "\n".join(out)
    return "\n" + text if newline else text


def _relative(lines: list[str], column: int) -> bool:
    """Whether an answer whose first line has no indentation indents the rest from it.

    ``if x:`` / ``    return 1`` at column 4 is relative; ``if x:`` / ``        return 1``,
    its first line written from the cursor and the others as in the file, is not.
    """
    rest = [ln for ln in lines[1:] if ln.strip()]
    if not rest:
        return False
    if min(_width(_lead(ln)) for ln in rest) < column:
        return True
    return bool(re.search(r"[:{(\[]\s*$", lines[0])) and _width(_lead(rest[0])) <= column


def _overlap(cursor: str, answer: str) -> int:
    """Length of the cursor line's end that the answer starts by repeating (0: none).

    The repeat starts and ends at word boundaries, and is a whole word or at least three
    characters: ``x = compute(`` + ``compute(a)`` → 8, ``if x`` + ``x > 0:`` → 1.
    """
    for k in range(min(len(cursor), len(answer)), 0, -1):
        piece = answer[:k]
        if not cursor.endswith(piece) or piece[0].isspace():
            continue
        before = cursor[-k - 1] if len(cursor) > k else " "
        if _word(before) and _word(piece[0]):
            continue
        if _word(piece[-1]) and _word(answer[k : k + 1]):
            continue
        if k >= 3 or re.fullmatch(r"\w+", piece):
            return k
    return 0


def _word(ch: str) -> bool:
    return bool(ch) and (ch.isalnum() or ch == "_")


__all__ = [
    "HEADROOM", "HOLE", "ROLE_TOKENS", "SYSTEM", "clean_fim_answer", "completion_route",
    "fim_messages", "messages_prompt", "prompt_overhead",
]
