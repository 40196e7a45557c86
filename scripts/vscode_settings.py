"""Write the VS Code extension's settings (``contributes.configuration``) from the settings model.

Every server setting gets an entry whose default is ``null``: the server owns the defaults,
and the extension strips nulls before answering ``workspace/configuration``. The description
is the model's own, followed by the server's default. The token is left out: the extension
keeps it in SecretStorage. ``--check`` exits 1 when ``editors/vscode/package.json`` is stale
(``tests/editors/test_vscode_settings.py`` runs it).

    python scripts/vscode_settings.py            # rewrite editors/vscode/package.json
    python scripts/vscode_settings.py --check    # compare only
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import attrs

from hf_lsp.config.docs import _resolved, default_text, groups
from hf_lsp.config.settings import SECTION, wire_name

PACKAGE = Path(__file__).resolve().parent.parent / "editors" / "vscode" / "package.json"
COMMAND = "python scripts/vscode_settings.py"

# settings.json is no place for a secret: "hf-lsp: Set Hugging Face Token" stores it instead
LEFT_OUT = frozenset({f"{SECTION}.apiToken"})

TITLES = {
    SECTION: "Model and endpoint",
    f"{SECTION}.parameters": "Generation parameters",
    f"{SECTION}.options": "Inference API options",
    f"{SECTION}.fim": "Fill-in-the-middle",
    f"{SECTION}.context": "Prompt context",
    f"{SECTION}.maxNewTokens": "Answer length",
    f"{SECTION}.cache": "Cache",
    f"{SECTION}.debounce": "Debounce",
    f"{SECTION}.suggestions": "Suggestions",
    f"{SECTION}.tokens": "Token budget",
    f"{SECTION}.crossFile": "Context from other files",
    f"{SECTION}.network": "Network and TLS",
    f"{SECTION}.rateLimit": "Rate limits",
    f"{SECTION}.longGeneration": "Long generations",
    f"{SECTION}.actions": "Code actions",
    f"{SECTION}.actions.generate": "Code action: generate from a comment",
    f"{SECTION}.actions.implement": "Code action: implement a function",
    f"{SECTION}.actions.docstring": "Code action: add a docstring",
    f"{SECTION}.actions.fix": "Code action: fix a diagnostic",
    f"{SECTION}.actions.rewrite": "Code action: rewrite the selection",
    f"{SECTION}.actions.explain": "Code action: explain",
}
# Settings that can point at another machine's files or send the token elsewhere: machine
# scoped where it makes sense, and ignored in untrusted workspaces (see package.json).
SCOPES = {
    f"{SECTION}.url": "machine-overridable",
    f"{SECTION}.network.proxy": "machine-overridable",
    f"{SECTION}.network.caBundle": "machine-overridable",
    f"{SECTION}.actions.chatUrl": "machine-overridable",
    f"{SECTION}.cache.path": "machine-overridable",
    f"{SECTION}.tokens.tokenizerPath": "machine-overridable",
    f"{SECTION}.tokens.tokenizerUrl": "machine-overridable",
}
DEFAULT_SCOPE = "window"

_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}

CLIENT = {
    "title": "Editor",
    "properties": {
        f"{SECTION}.autoSuggest": {
            "type": "boolean",
            "default": True,
            "order": 0,
            "scope": "window",
            "markdownDescription": (
                "Show suggestions as ghost text while typing. Off: only when asked, with "
                "`Alt+\\` (*Trigger Inline Suggestion*) or **hf-lsp: Trigger Suggestion**."
            ),
        },
        f"{SECTION}.serverPath": {
            "type": ["string", "null"],
            "default": None,
            "order": 1,
            "scope": "machine-overridable",
            "markdownDescription": (
                "Path to the `hf-lsp` executable. Unset: `python -m hf_lsp` with "
                "`#hfLsp.pythonPath#`, the Python extension's interpreter or the workspace's "
                "`.venv`, then `hf-lsp` on `PATH`. Install it with `pip install hf-lsp`."
            ),
        },
        f"{SECTION}.pythonPath": {
            "type": ["string", "null"],
            "default": None,
            "order": 2,
            "scope": "machine-overridable",
            "markdownDescription": (
                "A Python interpreter that has hf-lsp installed; the server runs as "
                "`python -m hf_lsp`. Used when `#hfLsp.serverPath#` is unset."
            ),
        },
        f"{SECTION}.logLevel": {
            "type": "string",
            "enum": ["warning", "info", "debug"],
            "enumDescriptions": [
                "Only problems (`-q`).",
                "Also what the server does: settings applied, models loading, retries.",
                "Also debugging detail and every LSP message (`-vv`).",
            ],
            "default": "info",
            "order": 3,
            "scope": "window",
            "markdownDescription": (
                "How much the server logs: to the **hf-lsp** output channel (**hf-lsp: Show "
                "Log**) and, in full, to `server.log` in the extension's log folder."
            ),
        },
        f"{SECTION}.trace.server": {
            "type": "string",
            "enum": ["off", "messages", "verbose"],
            "default": "off",
            "order": 4,
            "scope": "window",
            "markdownDescription": (
                "Trace the LSP traffic in the **hf-lsp** output channel (the token is hidden)."
            ),
        },
    },
}


def schema_type(tp: Any) -> tuple[list[str], dict[str, Any]]:
    """The JSON schema ``type`` list (``null`` always allowed) and extra keys for a field type."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        names: list[str] = []
        extra: dict[str, Any] = {}
        for arg in get_args(tp):
            if arg is not type(None):
                more, more_extra = schema_type(arg)
                names += [n for n in more if n not in names]
                extra |= more_extra
        return names, extra
    if origin is list:
        (item,) = get_args(tp)
        if isinstance(item, type) and attrs.has(item):  # a list of settings objects
            return ["array", "null"], {"items": {"type": "object"}}
        return ["array", "null"], {"items": {"type": _JSON_TYPES[item]}}
    if origin is dict:
        return ["object", "null"], {}
    if tp in _JSON_TYPES:
        return [_JSON_TYPES[tp], "null"], {}
    raise TypeError(f"vscode_settings: no JSON schema type for {tp!r}; add it to _JSON_TYPES")


def _with_null(names: list[str]) -> list[str]:
    return [n for n in names if n != "null"] + ["null"]


def section(path: str, cls: type[Any]) -> dict[str, Any] | None:
    """One titled settings section, or ``None`` when the class has only nested objects."""
    if path not in TITLES:
        raise KeyError(f"vscode_settings: no title for the settings group {path}; add it to TITLES")
    title = TITLES[path]
    properties: dict[str, Any] = {}
    for order, field in enumerate(attrs.fields(_resolved(cls))):
        key = f"{path}.{wire_name(cls, field.name)}"
        if key in LEFT_OUT or (isinstance(field.type, type) and attrs.has(field.type)):
            continue
        names, extra = schema_type(field.type)
        entry: dict[str, Any] = {"type": _with_null(names), "default": None}
        entry |= extra
        choices = field.metadata.get("choices")
        if choices:
            entry["enum"] = [*choices, None]
        if field.metadata.get("lo") is not None:
            entry["minimum"] = field.metadata["lo"]
        if field.metadata.get("hi") is not None:
            entry["maximum"] = field.metadata["hi"]
        doc = " ".join(str(field.metadata.get("doc", "")).split())
        entry["markdownDescription"] = (
            f"{doc}\n\nUnset (`null`): the server's default, {default_text(cls, field)}."
        )
        entry["order"] = order
        entry["scope"] = SCOPES.get(key, DEFAULT_SCOPE)
        properties[key] = entry
    if not properties:
        return None
    return {"title": title, "properties": properties}


def configuration() -> list[dict[str, Any]]:
    """The ``contributes.configuration`` array: the editor's own settings, then the server's."""
    sections: list[dict[str, Any]] = [CLIENT]
    for path, cls in groups():
        built = section(path, cls)
        if built is not None:
            sections.append(built)
    return [
        {"title": s["title"], "order": i, "properties": s["properties"]}
        for i, s in enumerate(sections)
    ]


def render(package: dict[str, Any]) -> str:
    package.setdefault("contributes", {})["configuration"] = configuration()
    return json.dumps(package, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when package.json is stale")
    args = parser.parse_args(argv)
    current = PACKAGE.read_text(encoding="utf-8")
    text = render(json.loads(current))
    if args.check:
        if text != current:
            print(f"{PACKAGE} differs from the settings model; run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    PACKAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
