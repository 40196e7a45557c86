"""Fill-in-the-middle prompt templates per model family, and their stop tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FimTemplate:
    """How one model family marks prefix, suffix and middle, and where it stops."""

    name: str
    prefix: str
    suffix: str
    middle: str
    stop: tuple[str, ...]
    suffix_first: bool = False
    file_sep: str = ""  # the family's file separator: other files go before the FIM prompt
    repo_name: str = ""  # the family's repository marker (Qwen2.5-Coder's repo-level form)

    def render(self, prefix: str, suffix: str, context: str = "") -> str:
        """The prompt; ``context`` (from :meth:`files`) goes before the FIM markers."""
        if self.suffix_first:
            return f"{self.suffix}{suffix}{self.prefix}{context}{prefix}"
        return f"{context}{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"

    def files(self, others: list[tuple[str, str]], current: str, repo: str = "") -> str:
        """Other files in the family's multi-file form.

        ``""`` when the family has none: the caller then writes them as path comments.
        """
        if not self.file_sep or not others:
            return ""
        head = f"{self.repo_name}{repo or 'workspace'}\n" if self.repo_name else ""
        body = "".join(f"{self.file_sep}{path}\n{_ending(text)}" for path, text in others)
        return f"{head}{body}{self.file_sep}{current}\n"

    @property
    def special_tokens(self) -> tuple[str, ...]:
        """Every marker a completion must never contain."""
        tokens = [self.prefix.strip(), self.suffix.strip(), self.middle.strip(), *self.stop]
        return tuple(dict.fromkeys(t for t in tokens if t))


TEMPLATES: dict[str, FimTemplate] = {
    t.name: t
    for t in (
        FimTemplate(
            "starcoder",
            "<fim_prefix>",
            "<fim_suffix>",
            "<fim_middle>",
            ("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            file_sep="<file_sep>",
        ),
        # the spaces are part of CodeLlama's format
        FimTemplate("codellama", "<PRE> ", " <SUF>", " <MID>", ("<EOT>", "</s>")),
        FimTemplate(
            "deepseek",
            "<｜fim▁begin｜>",
            "<｜fim▁hole｜>",
            "<｜fim▁end｜>",
            ("<｜end▁of▁sentence｜>", "<|EOT|>"),
        ),
        FimTemplate(
            "qwen",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>", "<|repo_name|>"),
            file_sep="<|file_sep|>",
            repo_name="<|repo_name|>",
        ),
        FimTemplate(
            "codestral", "[PREFIX]", "[SUFFIX]", "", ("[PREFIX]", "[SUFFIX]", "</s>"),
            suffix_first=True,
        ),
        FimTemplate(
            "codegemma",
            "<|fim_prefix|>",
            "<|fim_suffix|>",
            "<|fim_middle|>",
            ("<|file_separator|>", "<eos>", "<|fim_prefix|>", "<|fim_suffix|>"),
        ),
    )
}

_BY_MODEL = (
    (re.compile(r"codellama|code-llama", re.I), "codellama"),
    (re.compile(r"deepseek", re.I), "deepseek"),
    (re.compile(r"qwen", re.I), "qwen"),
    (re.compile(r"codestral", re.I), "codestral"),  # Mistral's only model with FIM tokens
    (re.compile(r"codegemma", re.I), "codegemma"),  # plain Gemma has no FIM tokens
    (re.compile(r"starcoder|bigcode|santacoder|refact|stable-?code", re.I), "starcoder"),
)

# text some servers and chat-tuned models leave in, beyond the family's own tokens
COMMON_SPECIAL = ("<|endoftext|>", "<EOT>", "</s>", "<|end|>", "<|eot_id|>", "<|im_end|>")


def family_of(model: str) -> str | None:
    """The FIM family the model id names (``None``: none hf-lsp knows)."""
    for pattern, name in _BY_MODEL:
        if pattern.search(model):
            return name
    return None


def template_for(model: str, family: str | None = None) -> FimTemplate:
    """The template named by ``family``, else the one the model id suggests, else StarCoder's."""
    return TEMPLATES[family or family_of(model) or "starcoder"]


def custom_template(prefix: str, suffix: str, middle: str, base: FimTemplate) -> FimTemplate:
    """A user-defined prefix/suffix/middle template, keeping ``base``'s stop tokens."""
    return FimTemplate("custom", prefix, suffix, middle, base.stop)


_SLOTS = ("prefix", "suffix", "middle")


def misordered(prefix: str, suffix: str, middle: str) -> str | None:
    """Why a custom template puts a known family's markers in the wrong slots (``None``: fine).

    ``prefix="<fim_suffix>"`` and the like make the model fill the wrong hole; the user is
    told which marker belongs where instead of getting odd completions.
    """
    given = dict(zip(_SLOTS, (prefix, suffix, middle), strict=True))
    for template in TEMPLATES.values():
        known = {slot: getattr(template, slot).strip() for slot in _SLOTS}
        for slot, token in given.items():
            token = token.strip()
            for other, marker in known.items():
                if marker and token == marker and other != slot:
                    return (
                        f"{token!r} is the {template.name} {other} marker but is set as "
                        f"fim.{slot}; {template.name} expects prefix {known['prefix']!r}, "
                        f"suffix {known['suffix']!r}, middle {known['middle']!r}"
                    )
    return None


def _ending(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
