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

    def render(self, prefix: str, suffix: str) -> str:
        if self.suffix_first:
            return f"{self.suffix}{suffix}{self.prefix}{prefix}"
        return f"{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"

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
    (re.compile(r"codestral|mistral", re.I), "codestral"),
    (re.compile(r"codegemma|gemma", re.I), "codegemma"),
    (re.compile(r"starcoder|bigcode|santacoder|refact|stable-?code", re.I), "starcoder"),
)

# text some servers and chat-tuned models leave in, beyond the family's own tokens
COMMON_SPECIAL = ("<|endoftext|>", "<EOT>", "</s>", "<|end|>", "<|eot_id|>", "<|im_end|>")


def template_for(model: str, family: str | None = None) -> FimTemplate:
    """The template named by ``family``, else the one the model id suggests, else StarCoder's."""
    if family:
        return TEMPLATES[family]
    for pattern, name in _BY_MODEL:
        if pattern.search(model):
            return TEMPLATES[name]
    return TEMPLATES["starcoder"]


def custom_template(prefix: str, suffix: str, middle: str, base: FimTemplate) -> FimTemplate:
    """A user-defined prefix/suffix/middle template, keeping ``base``'s stop tokens."""
    return FimTemplate("custom", prefix, suffix, middle, base.stop)
