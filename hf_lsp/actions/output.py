"""A model's answer to a code action, made into the text to put in the document.

Chat answers lose the prose and markdown fences around their code; every answer loses a
repeated signature, special tokens and whatever runs past the block it belongs to, and is
indented to match the place it goes. Explanations keep their markdown.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from hf_lsp.actions.catalog import DOCSTRING, EXPLAIN, Plan, doc_style
from hf_lsp.language.languages import comment_marker

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n?```|\Z)", re.S)


def strip_tokens(text: str, tokens: Sequence[str], stops: Sequence[str] = ()) -> str:
    """Cut at the first stop sequence or end token; remove any other special token."""
    cut = len(text)
    for stop in (*stops, *tokens):
        if stop and 0 <= (at := text.find(stop)) < cut:
            cut = at
    text = text[:cut]
    for token in tokens:
        if token:
            text = text.replace(token, "")
    return text


def extract_code(text: str) -> str:
    """The code of a chat answer: its first fenced block, or the answer without prose lines."""
    match = _FENCE.search(text)
    if match:
        return match.group(1)
    lines = text.strip("\n").split("\n")
    # prose before the code ("Here is the implementation:") and after it ("This works by…")
    while lines and _is_prose(lines[0]):
        lines.pop(0)
    while lines and _is_prose(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def _is_prose(line: str) -> bool:
    text = line.strip()
    if not text:
        return True
    return bool(re.match(r"^(?:Here|This|The|Sure|Certainly|Note|I )\b.*[.:!]$", text))


def _norm(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip())


def drop_signature(code: str, signature: str) -> str:
    """Remove a repeated function header (and, for braces, the closing brace that matches it)."""
    if not signature.strip():
        return code
    lines = code.split("\n")
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    if not filled:
        return code
    head = [_norm(s) for s in signature.split("\n") if s.strip()]
    first = filled[0]
    body = lines[first:]
    # the answer may repeat the signature exactly or with its own line breaks: compare it
    # joined, line by line, up to the line that ends it
    joined = ""
    target = " ".join(head).rstrip("{ ").rstrip()
    for k, line in enumerate(body):
        joined = (joined + " " + _norm(line)).strip()
        if _norm(joined.rstrip("{ ").rstrip()) == _norm(target):
            rest = body[k + 1 :]
            opened = joined.rstrip().endswith("{")
            if opened:
                while rest and not rest[-1].strip():
                    rest.pop()
                if rest and rest[-1].strip() in ("}", "};"):
                    rest.pop()
            return "\n".join(rest)
        if len(joined) > len(target) + 4:
            break
    return code


def drop_docstring(code: str, existing: str) -> str:
    """Remove a docstring the answer repeats at its start (Python)."""
    stripped = code.lstrip("\n")
    m = re.match(r"\s*([rRbBuU]?(\"\"\"|'''))(.*?)\2[^\n]*\n?", stripped, re.S)
    if m and m.group(3).strip() and m.group(3).strip() in existing:
        return stripped[m.end() :]
    return code


def cut_block(code: str, indent: str, after: str) -> str:
    """Stop where the code leaves the block it goes in, or starts repeating what follows."""
    lines = code.split("\n")
    floor = len(indent.expandtabs(4))
    following = next((ln.strip() for ln in after.split("\n") if ln.strip()), "")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if i > 0 and len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip()) < floor:
            return "\n".join(lines[:i])
        if i > 0 and following and len(following) > 3 and line.strip() == following:
            return "\n".join(lines[:i])
    return code


def reindent(code: str, indent: str) -> str:
    """Dedent, then indent every non-blank line with ``indent``; no trailing blank lines."""
    code = textwrap.dedent(code.expandtabs(4) if "\t" in code and " " in indent else code)
    lines = [(indent + ln) if ln.strip() else "" for ln in code.strip("\n").split("\n")]
    return "\n".join(ln.rstrip() for ln in lines)


def _doc_lines(text: str, plan: Plan) -> list[str]:
    """The documentation's own words, without quotes, comment markers or fences."""
    opener, prefix, closer, _ = doc_style(plan.language)
    text = text.strip()
    for mark in ('"""', "'''", "/**", "*/"):
        text = text.removeprefix(mark).removesuffix(mark)
    out = []
    for raw in textwrap.dedent(text).strip("\n").split("\n"):
        line = raw.rstrip()
        stripped = line.lstrip()
        for marker in (prefix.strip(), "*"):
            if marker and stripped.startswith(marker) and not stripped.startswith("**"):
                stripped = stripped[len(marker):]
                if stripped.startswith(" "):
                    stripped = stripped[1:]
                line = stripped
                break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    if not out:
        return []
    # the first line follows the opening quotes; the others carry the code's indentation
    rest = textwrap.dedent("\n".join(out[1:])).split("\n") if len(out) > 1 else []
    return [out[0].strip(), *(ln.rstrip() for ln in rest)]


def _first_comment_lines(answer: str, prefix: str) -> str:
    """A base model continues a line comment; the doc comment ends at its first other line."""
    if not prefix:
        return answer
    lines = answer.split("\n")
    keep = [lines[0]]
    for line in lines[1:]:
        if not line.strip().startswith(prefix):
            break
        keep.append(line)
    return "\n".join(keep)


def format_doc(lines: list[str], plan: Plan) -> str:
    """Documentation lines written in the language's convention, indented for ``plan``."""
    opener, prefix, closer, above = doc_style(plan.language)
    ind = plan.indent
    if not above:  # a Python docstring
        if len(lines) == 1:
            return f'{ind}"""{lines[0]}"""'
        body = "\n".join((ind + ln) if ln.strip() else "" for ln in lines[1:])
        return f'{ind}"""{lines[0]}\n{body}\n{ind}"""'
    if opener:
        body = "\n".join(f"{ind}{prefix}{ln}".rstrip() for ln in lines)
        return f"{ind}{opener}\n{body}\n{ind}{closer}"
    return "\n".join(f"{ind}{prefix}{ln}".rstrip() for ln in lines)


def edit_text(plan: Plan, answer: str, *, chat: bool, tokens: Sequence[str] = ()) -> str | None:
    """The text that replaces ``plan.target``, or ``None`` when the answer holds nothing."""
    answer = strip_tokens(answer, tokens, () if chat else plan.stops)
    if plan.action == DOCSTRING:
        if chat:
            fenced = _FENCE.search(answer)
            answer = fenced.group(1) if fenced else answer
        else:
            answer = _first_comment_lines(answer, plan.line_prefix)
            answer = plan.lead.strip() + answer
        lines = _doc_lines(answer, plan)
        if not lines:
            return None
        return plan.edit_head + format_doc(lines, plan) + plan.edit_tail
    if chat:
        code = extract_code(answer)
        code = drop_signature(code, plan.signature)
        code = drop_docstring(code, plan.code)
    else:
        code = cut_block(plan.indent + answer, plan.indent, plan.after)
    code = reindent(code, plan.indent)
    if not code.strip():
        return None
    return plan.edit_head + code + plan.trail + plan.edit_tail


def explanation(plan: Plan, answer: str, *, chat: bool, tokens: Sequence[str] = ()) -> str:
    """An explanation to show: the chat answer, or the comment lines a base model wrote."""
    answer = strip_tokens(answer, tokens)
    if chat or plan.action != EXPLAIN:
        return answer.strip()
    marker = comment_marker(plan.language)
    out = []
    for i, line in enumerate(answer.split("\n")):
        text = line.strip()
        if i > 0:
            if not text.startswith(marker):
                break
            text = text[len(marker):].strip()
        out.append(text)
    return "\n".join(out).strip()
