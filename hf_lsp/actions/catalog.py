"""Code actions that write code: which apply where, and what each one asks the model for.

Pure functions over a document's lines: :func:`offers` lists the actions that apply at a
range (cheap: no model is asked), :func:`plan` turns one of them into a :class:`Plan` — the
region to replace, the lines that must not change meanwhile, the prompt pieces and the token
budget. Positions are ``(line, index)`` in Python string units.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from hf_lsp.config.settings import ActionPrompt, Settings
from hf_lsp.language.functions import PYTHON_LIKE, Function, find_function, indent_of, line_text
from hf_lsp.language.languages import comment_marker

GENERATE = "generate"
IMPLEMENT = "implement"
DOCSTRING = "docstring"
FIX = "fix"
REWRITE = "rewrite"
EXPLAIN = "explain"
CUSTOM = "custom"
BUILT_IN = (GENERATE, IMPLEMENT, DOCSTRING, FIX, REWRITE, EXPLAIN)

# sized for whole units of code: a long answer stops where its code is whole (engine/units.py)
DEFAULT_MAX_NEW_TOKENS = {
    GENERATE: 2048,
    IMPLEMENT: 2048,
    DOCSTRING: 160,
    FIX: 512,
    REWRITE: 2048,
    EXPLAIN: 400,
    CUSTOM: 2048,
}

# code action kinds, as LSP names them
QUICKFIX = "quickfix"
REFACTOR = "refactor"
REFACTOR_REWRITE = "refactor.rewrite"

@dataclass(frozen=True)
class Region:
    """``[start, end)`` of a document, as ``(line, index)`` pairs; empty for an insertion."""

    start_line: int
    start_index: int
    end_line: int
    end_index: int


@dataclass(frozen=True)
class Offer:
    """A listed action: its title, LSP kind and the command's argument object."""

    action: str
    title: str
    kind: str
    arguments: dict[str, object]


@dataclass(frozen=True)
class Plan:
    """What one action will ask for and where its answer goes.

    ``before``/``after`` are the document around ``target``; ``code`` the code the action is
    about; ``guard`` the first and last line that must be unchanged when the answer arrives.
    ``output`` is ``replace`` (``target`` gets the answer), ``insert`` (an empty ``target``)
    or ``show``. ``signature`` is the header the answer must not repeat.
    """

    action: str
    title: str
    output: str
    target: Region
    guard: tuple[int, int]
    indent: str
    before: str
    after: str
    code: str
    language: str
    edit_head: str = ""  # the edit starts with this (a newline after the line it follows)
    edit_tail: str = ""  # and ends with this
    instruction: str = ""
    diagnostic: str = ""
    signature: str = ""
    lead: str = ""  # opens what the answer continues, e.g. a docstring's quotes
    trail: str = ""  # closes what ``lead`` opened
    max_new_tokens: int = 512
    fim_prompt: str | None = None
    chat_prompt: str | None = None
    mode: str = "auto"
    stops: tuple[str, ...] = field(default=())
    line_prefix: str = ""  # every answer line starts with this (line doc comments)


class NotApplicable(ValueError):
    """The action does not apply where it was asked for; the message says why."""


# --- what is under the cursor ---------------------------------------------------------------


def comment_block(lines: Sequence[str], line: int, language: str) -> tuple[int, int] | None:
    """The run of line comments that contains ``line`` (``None`` when it is not a comment)."""
    marker = comment_marker(language)

    def is_comment(i: int) -> bool:
        text = line_text(lines, i).strip()
        return bool(text) and (text.startswith(marker) or text.startswith(("/*", "*")) and
                               marker == "//") and not _is_doc_comment(text, language)

    if not 0 <= line < len(lines) or not is_comment(line):
        return None
    first = last = line
    while first > 0 and is_comment(first - 1):
        first -= 1
    while last + 1 < len(lines) and is_comment(last + 1):
        last += 1
    words = " ".join(line_text(lines, i) for i in range(first, last + 1))
    if not re.search(r"\w{2,}", words):
        return None
    return first, last


def _is_doc_comment(text: str, language: str) -> bool:
    return language == "rust" and text.startswith(("///", "//!"))


# --- listing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostic:
    """A diagnostic from the editor's context, in document coordinates."""

    message: str
    start_line: int
    end_line: int
    source: str = ""
    raw: dict[str, object] = field(default_factory=dict)


def offers(
    lines: Sequence[str],
    language: str,
    selection: Region,
    settings: Settings,
    diagnostics: Sequence[Diagnostic] = (),
) -> list[Offer]:
    """The actions that apply at ``selection``: cheap, no model is asked."""
    a = settings.actions
    if not a.enabled:
        return []
    found: list[Offer] = []
    line = selection.start_line
    has_selection = (selection.start_line, selection.start_index) != (
        selection.end_line, selection.end_index
    )
    if a.generate.enabled and comment_block(lines, line, language) is not None:
        found.append(Offer(GENERATE, "Generate code from this comment (hf-lsp)",
                           REFACTOR_REWRITE, {}))
    function = find_function(lines, line, language)
    if function is not None:
        if a.implement.enabled and function.stub:
            found.append(Offer(IMPLEMENT, "Implement this function (hf-lsp)",
                               REFACTOR_REWRITE, {}))
        if a.docstring.enabled and not function.has_doc:
            what = "docstring" if language in PYTHON_LIKE else "doc comment"
            found.append(Offer(DOCSTRING, f"Add a {what} (hf-lsp)", REFACTOR_REWRITE, {}))
    if a.fix.enabled:
        for d in diagnostics:
            short = d.message.splitlines()[0] if d.message else "this problem"
            short = short if len(short) <= 60 else short[:57] + "…"
            found.append(Offer(FIX, f"Fix: {short} (hf-lsp)", QUICKFIX,
                               {"diagnostic": d.raw}))
    if has_selection and a.rewrite.enabled:
        found.append(Offer(REWRITE, "Rewrite the selection… (hf-lsp)", REFACTOR_REWRITE, {}))
    if a.explain.enabled and (has_selection or function is not None):
        what = "the selection" if has_selection else "this function"
        found.append(Offer(EXPLAIN, f"Explain {what} (hf-lsp)", REFACTOR, {}))
    if has_selection:
        for i, custom in enumerate(a.custom):
            found.append(Offer(CUSTOM, f"{custom.title} (hf-lsp)", REFACTOR_REWRITE,
                               {"index": i}))
    return found


# --- planning -------------------------------------------------------------------------------


def _join(lines: Sequence[str], first: int, last: int) -> str:
    return "".join(lines[first : last + 1]) if first <= last else ""


def _full_lines(lines: Sequence[str], first: int, last: int) -> Region:
    return Region(first, 0, last, len(line_text(lines, last)))


def _end_of(lines: Sequence[str], line: int) -> Region:
    end = len(line_text(lines, line))
    return Region(line, end, line, end)


def around(lines: Sequence[str], target: Region) -> tuple[str, str]:
    """The document text before and after ``target``."""
    before = _join(lines, 0, target.start_line - 1) + lines[target.start_line][: target.start_index]
    after = lines[target.end_line][target.end_index :] + _join(
        lines, target.end_line + 1, len(lines) - 1
    )
    return before, after


def _prompt_settings(settings: Settings, action: str) -> ActionPrompt:
    return getattr(settings.actions, action)  # type: ignore[no-any-return]


def _budget(chosen: int | None, action: str) -> int:
    return chosen if chosen is not None else DEFAULT_MAX_NEW_TOKENS[action]


def _make(lines: Sequence[str], target: Region, **fields: object) -> Plan:
    before, after = around(lines, target)
    return Plan(target=target, before=before, after=after, **fields)  # type: ignore[arg-type]


def plan(
    action: str,
    lines: Sequence[str],
    language: str,
    selection: Region,
    settings: Settings,
    *,
    instruction: str = "",
    diagnostic: Diagnostic | None = None,
    index: int = 0,
) -> Plan:
    """The plan for ``action`` at ``selection``; raises :class:`NotApplicable` with a reason."""
    if action not in (*BUILT_IN, CUSTOM):
        raise NotApplicable(f"unknown action {action!r}")
    lines = list(lines)
    if action == CUSTOM:
        return _plan_custom(lines, language, selection, settings, index)
    ps = _prompt_settings(settings, action)
    common: dict[str, object] = {
        "action": action,
        "language": language,
        "max_new_tokens": _budget(ps.max_new_tokens, action),
        "fim_prompt": ps.fim_prompt,
        "chat_prompt": ps.chat_prompt,
        "mode": ps.mode or settings.actions.mode,
    }
    line = min(max(selection.start_line, 0), len(lines) - 1)
    if action == GENERATE:
        block = comment_block(lines, line, language)
        if block is None:
            raise NotApplicable("the cursor is not on a comment")
        first, last = block
        comment = _join(lines, first, last).rstrip("\r\n")
        return _make(
            lines, _end_of(lines, last), title="Generate code from this comment",
            output="insert", guard=(first, last), indent=indent_of(line_text(lines, first)),
            code=comment, instruction=_comment_text(comment, language), edit_head="\n",
            **common,
        )
    if action in (IMPLEMENT, DOCSTRING):
        function = find_function(lines, line, language)
        if function is None:
            raise NotApplicable("there is no function under the cursor")
        signature = _join(lines, function.header_first, function.header_last).rstrip("\r\n")
        if action == IMPLEMENT:
            return _plan_implement(lines, function, signature, common)
        return _plan_docstring(lines, function, signature, language, common)
    if action == FIX:
        if diagnostic is None:
            raise NotApplicable("no diagnostic was given to fix")
        first = max(0, min(diagnostic.start_line, len(lines) - 1))
        last = max(first, min(diagnostic.end_line, len(lines) - 1))
        return _make(
            lines, _full_lines(lines, first, last), title="Fix the diagnostic",
            output="replace", guard=(first, last), indent=indent_of(line_text(lines, first)),
            code=_join(lines, first, last).rstrip("\r\n"), diagnostic=diagnostic.message,
            **common,
        )
    first, last = _selected_lines(lines, selection)
    if (selection.start_line, selection.start_index) == (selection.end_line, selection.end_index):
        if action == REWRITE:
            raise NotApplicable("select the code to rewrite first")
        function = find_function(lines, line, language)
        if function is None:
            raise NotApplicable("select the code to explain first")
        last = function.close_line if function.close_line is not None else function.body_last
        first = function.header_first
    if action == REWRITE and not instruction.strip():
        raise NotApplicable(
            "Rewrite needs an instruction: run the command hfLsp.runAction with "
            '{"action": "rewrite", "instruction": "…"} (the editor asks for it)'
        )
    return _make(
        lines, _full_lines(lines, first, last),
        title="Rewrite the selection" if action == REWRITE else "Explain the code",
        output="replace" if action == REWRITE else "show", guard=(first, last),
        indent=indent_of(line_text(lines, first)),
        code=_join(lines, first, last).rstrip("\r\n"), instruction=instruction.strip(),
        **common,
    )


def _selected_lines(lines: Sequence[str], selection: Region) -> tuple[int, int]:
    first = max(0, min(selection.start_line, len(lines) - 1))
    last = max(first, min(selection.end_line, len(lines) - 1))
    if last > first and selection.end_index == 0:
        last -= 1  # a selection ending at the start of a line does not include that line
    return first, last


def _plan_custom(
    lines: Sequence[str], language: str, selection: Region, settings: Settings, index: int
) -> Plan:
    customs = settings.actions.custom
    if not 0 <= index < len(customs):
        raise NotApplicable(f"there is no custom action {index}")
    custom = customs[index]
    first, last = _selected_lines(lines, selection)
    insert = custom.output == "insert"
    return _make(
        lines, _end_of(lines, last) if insert else _full_lines(lines, first, last),
        action=CUSTOM, title=custom.title, output=custom.output, guard=(first, last),
        indent=indent_of(line_text(lines, first)),
        code=_join(lines, first, last).rstrip("\r\n"), instruction=custom.title,
        language=language, max_new_tokens=_budget(custom.max_new_tokens, CUSTOM),
        fim_prompt=custom.fim_prompt, chat_prompt=custom.prompt,
        mode=custom.mode or settings.actions.mode, edit_head="\n" if insert else "",
    )


def _plan_implement(
    lines: Sequence[str], f: Function, signature: str, common: dict[str, object]
) -> Plan:
    if not f.stub:
        raise NotApplicable("the function already has a body")
    end_line = f.close_line if f.close_line is not None else f.body_last
    code = _join(lines, f.header_first, end_line).rstrip("\r\n")
    shared: dict[str, object] = {
        **common, "title": "Implement this function", "output": "replace",
        "indent": f.body_indent, "code": code, "signature": signature,
        "guard": (f.header_first, max(end_line, f.header_last)),
    }
    if f.inline_braces:  # `fn f() {}`: the body goes between the braces
        head = line_text(lines, f.header_last)
        at, close = head.index("{") + 1, head.rindex("}")
        return _make(lines, Region(f.header_last, at, f.header_last, close), edit_head="\n",
                     trail="\n" + f.indent, **shared)
    if f.inline_body is not None:  # `def f(): ...`: the body replaces what follows the colon
        head = line_text(lines, f.header_last)
        return _make(lines, Region(f.header_last, f.inline_body, f.header_last, len(head)),
                     edit_head="\n", **shared)
    if f.body_first > f.body_last:  # nothing after the header (and docstring): insert
        return _make(lines, _end_of(lines, f.body_first - 1), edit_head="\n", **shared)
    return _make(lines, _full_lines(lines, f.body_first, f.body_last), **shared)


DOC_STYLES = {
    # language: (opener, line prefix, closer, above the function?)
    "python": ('"""', "", '"""', False),
    "rust": ("", "/// ", "", True),
    "go": ("", "// ", "", True),
    "lua": ("", "--- ", "", True),
    "ruby": ("", "# ", "", True),
}
BLOCK_DOC = ("/**", " * ", " */", True)


def doc_style(language: str) -> tuple[str, str, str, bool]:
    """How the language writes documentation: opener, line prefix, closer, above or inside."""
    return DOC_STYLES.get(language, BLOCK_DOC)


def _plan_docstring(
    lines: Sequence[str], f: Function, signature: str, language: str,
    common: dict[str, object],
) -> Plan:
    if f.has_doc:
        raise NotApplicable("the function is already documented")
    opener, prefix, closer, above = doc_style(language)
    end_line = f.close_line if f.close_line is not None else f.body_last
    shared: dict[str, object] = {
        **common, "code": _join(lines, f.header_first, end_line).rstrip("\r\n"),
        "signature": signature,
    }
    if not above:  # Python: the docstring is the body's first statement
        indent = f.body_indent if f.body_first <= f.body_last else f.indent + "    "
        return _make(
            lines, _end_of(lines, f.header_last), title="Add a docstring", output="insert",
            guard=(f.header_first, f.header_last), indent=indent, edit_head="\n",
            lead=opener, trail=closer, stops=(closer,), **shared,
        )
    indent = f.indent
    return _make(
        lines, Region(f.header_first, 0, f.header_first, 0), title="Add a doc comment",
        output="insert", guard=(f.header_first, f.header_first), indent=indent,
        lead=(opener + "\n" + indent + prefix) if opener else prefix,
        trail=("\n" + indent + closer) if closer else "", edit_tail="\n",
        line_prefix=prefix.rstrip(), stops=(closer.strip(),) if closer else (),
        **shared,
    )


def _comment_text(comment: str, language: str) -> str:
    marker = comment_marker(language)
    out = []
    for raw in comment.splitlines():
        text = raw.strip()
        for lead in (marker, "/*", "*/", "*"):
            if text.startswith(lead):
                text = text[len(lead):]
        text = text.removesuffix("*/").strip()
        out.append(text)
    return " ".join(t for t in out if t)
