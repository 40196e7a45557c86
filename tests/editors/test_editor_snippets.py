"""The editor configuration files under editors/ parse, start ``hf-lsp``, carry valid settings."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from hf_lsp.config.settings import SECTION, parse_settings, unknown_keys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EDITORS = Path(__file__).resolve().parents[2] / "editors"
COMMAND = "hf-lsp"


def check_settings(section: Any) -> None:
    """The hfLsp section is one hf-lsp accepts, with no key it would ignore."""
    assert isinstance(section, dict) and section, "an empty or missing hfLsp section"
    assert unknown_keys(section) == []
    parse_settings(section)  # raises SettingsError on a bad value


# -- a small Emacs Lisp reader: enough for configuration files -------------------------

_TOKEN = re.compile(
    r"""\s+|;[^\n]*|(?P<open>\()|(?P<close>\))|(?P<quote>['`])|(?P<comma>,@?)"""
    r"""|(?P<string>"(?:[^"\\]|\\.)*")|(?P<char>\?\\?.)|(?P<atom>[^\s()'`",;]+)""",
    re.S,
)


class Symbol(str):
    """An Emacs Lisp symbol (keywords start with ':')."""


def read_elisp(text: str) -> list[Any]:
    """Every form in ``text``: lists become Python lists, strings str, numbers int/float."""
    stack: list[list[Any]] = [[]]
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"cannot read at offset {pos}: {text[pos:pos + 20]!r}")
        pos = match.end()
        if match["open"]:
            stack.append([])
        elif match["close"]:
            if len(stack) == 1:
                raise ValueError(f"unbalanced ')' at offset {match.start()}")
            done = stack.pop()
            stack[-1].append(done)
        elif match["string"]:
            stack[-1].append(json.loads(match["string"].replace("\\\n", "")))
        elif match["char"]:
            stack[-1].append(Symbol(match["char"]))
        elif match["atom"]:
            atom = match["atom"]
            try:
                stack[-1].append(int(atom))
            except ValueError:
                try:
                    stack[-1].append(float(atom))
                except ValueError:
                    stack[-1].append(Symbol(atom))
        # quotes and commas are prefixes: the quoted form itself is what matters here
    if len(stack) != 1:
        raise ValueError(f"{len(stack) - 1} unclosed '('")
    return stack[0]


def plist(form: list[Any]) -> dict[str, Any]:
    """``(:a 1 :b (:c 2))`` → ``{"a": 1, "b": {"c": 2}}``."""
    assert len(form) % 2 == 0, f"odd property list {form!r}"
    out = {}
    for key, value in zip(form[::2], form[1::2], strict=True):
        assert isinstance(key, Symbol) and key.startswith(":"), key
        is_plist = isinstance(value, list) and value and str(value[0]).startswith(":")
        out[key[1:]] = plist(value) if is_plist else value
    return out


def find(form: Any, predicate: Any) -> list[Any]:
    """Every sub-list of ``form`` (depth first) for which ``predicate`` holds."""
    found = []
    if isinstance(form, list):
        if predicate(form):
            found.append(form)
        for item in form:
            found.extend(find(item, predicate))
    return found


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        pytest.param('(a "b)" ?\\( c)', [[Symbol("a"), "b)", Symbol("?\\("), Symbol("c")]],
                     id="string-and-char"),
        pytest.param("'(:x 1) ; (", [[Symbol(":x"), 1]], id="quote-and-comment"),
    ],
)
def test_the_reader_reads(text: str, forms: list[Any]) -> None:
    assert read_elisp(text) == forms


@pytest.mark.parametrize("text", ["(a (b)", "(a))", '(a "b)'], ids=["open", "close", "string"])
def test_the_reader_rejects_unbalanced_forms(text: str) -> None:
    with pytest.raises(ValueError):
        read_elisp(text)


# -- the snippets ----------------------------------------------------------------------


def test_helix_languages_toml() -> None:
    data = tomllib.loads((EDITORS / "helix" / "languages.toml").read_text())
    server = data["language-server"]["hf-lsp"]
    assert server["command"] == COMMAND
    check_settings(server["config"][SECTION])
    languages = data["language"]
    assert languages, "no [[language]] uses hf-lsp"
    for language in languages:
        names = [s if isinstance(s, str) else s["name"] for s in language["language-servers"]]
        assert "hf-lsp" in names, language["name"]
        assert len(names) > 1, f"{language['name']}: keep the language's usual servers"


def test_emacs_eglot() -> None:
    forms = read_elisp((EDITORS / "emacs" / "hf-lsp-eglot.el").read_text())
    contacts = find(forms, lambda f: bool(f) and f[0] == COMMAND)
    assert len(contacts) == 1, "one eglot contact starting hf-lsp"
    (contact,) = contacts
    options = plist(contact[contact.index(Symbol(":initializationOptions")) + 1])
    check_settings(options[SECTION])
    (setq,) = find(forms, lambda f: f[:2] == [Symbol("setq-default"),
                                              Symbol("eglot-workspace-configuration")])
    check_settings(plist(setq[2])[SECTION])


def test_emacs_lsp_mode() -> None:
    forms = read_elisp((EDITORS / "emacs" / "hf-lsp-lsp-mode.el").read_text())
    (connection,) = find(forms, lambda f: f[:1] == [Symbol("lsp-stdio-connection")])
    assert connection[1] == [COMMAND]
    (client,) = find(forms, lambda f: f[:1] == [Symbol("make-lsp-client")])
    assert client[client.index(Symbol(":add-on?")) + 1] == Symbol("t")
    (section,) = find(forms, lambda f: f[:1] == [Symbol("lsp-configuration-section")])
    assert section[1] == SECTION
    (custom,) = find(forms, lambda f: f[:1] == [Symbol("lsp-register-custom-settings")])
    settings: dict[str, Any] = {}
    for name, value in custom[1]:
        head, *path = name.split(".")
        assert head == SECTION, name
        node = settings
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    check_settings(settings)


def test_zed_settings_json() -> None:
    data = json.loads((EDITORS / "zed" / "settings.json").read_text())  # strict JSON
    server = data["lsp"]["hf-lsp"]
    assert server["binary"]["path"] == COMMAND
    check_settings(server["settings"][SECTION])
    check_settings(server["initialization_options"][SECTION])
    for language, config in data["languages"].items():
        assert "hf-lsp" in config["language_servers"], language
        assert "..." in config["language_servers"], f"{language}: keep the usual servers"


def test_zed_extension_registers_the_server() -> None:
    extension = EDITORS / "zed" / "extension"
    manifest = tomllib.loads((extension / "extension.toml").read_text())
    assert manifest["id"] == "hf-lsp"
    server = manifest["language_servers"]["hf-lsp"]
    assert "Python" in server["languages"]
    cargo = tomllib.loads((extension / "Cargo.toml").read_text())
    assert cargo["lib"]["crate-type"] == ["cdylib"]
    assert "zed_extension_api" in cargo["dependencies"]
    source = (extension / "src" / "lib.rs").read_text()
    assert 'const SERVER: &str = "hf-lsp";' in source
    assert "register_extension!(HfLsp)" in source
    for opener, closer in ("{}", "()", "[]"):
        assert source.count(opener) == source.count(closer), opener + closer


def test_sublime_lsp_settings() -> None:
    data = json.loads((EDITORS / "sublime" / "LSP.sublime-settings").read_text())
    client = data["clients"]["hf-lsp"]
    assert client["command"] == [COMMAND]
    assert client["enabled"] is True
    assert client["selector"]
    check_settings(client["settings"][SECTION])
    check_settings(client["initializationOptions"][SECTION])


def test_a_bad_setting_in_a_snippet_would_fail() -> None:
    from hf_lsp.config.settings import SettingsError

    with pytest.raises(AssertionError):
        check_settings({"modle": "typo"})
    with pytest.raises(SettingsError):
        check_settings({"requestTimeout": -1})
