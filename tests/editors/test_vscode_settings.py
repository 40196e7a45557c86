"""The VS Code extension's settings match the server's: docs/configuration.md ↔ package.json."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "editors" / "vscode" / "package.json"
DOC = ROOT / "docs" / "configuration.md"
ROW = re.compile(
    r"^\| `(?P<key>hfLsp\.[\w.]+)` \| (?P<type>[^|]+) \| (?P<default>[^|]+) \| (?P<range>[^|]+) \|"
)
CLIENT_ONLY = {
    "hfLsp.autoSuggest",
    "hfLsp.serverPath",
    "hfLsp.pythonPath",
    "hfLsp.logLevel",
    "hfLsp.trace.server",
}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vscode_settings", ROOT / "scripts" / "vscode_settings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _properties() -> dict[str, dict[str, Any]]:
    package = json.loads(PACKAGE.read_text(encoding="utf-8"))
    merged: dict[str, dict[str, Any]] = {}
    for section in package["contributes"]["configuration"]:
        assert section.get("title"), "every settings section has a title"
        for key, value in section["properties"].items():
            assert key not in merged, f"{key} appears twice"
            merged[key] = value
    return merged


def _documented() -> dict[str, dict[str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match and match["type"].strip() != "object":
            rows[match["key"]] = {k: v.strip() for k, v in match.groupdict().items()}
    return rows


def test_package_json_is_generated_from_the_settings_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _generator().main(["--check"]) == 0, capsys.readouterr().err


def test_every_documented_server_setting_has_a_vscode_setting() -> None:
    documented = _documented()
    properties = _properties()
    assert len(documented) > 30  # the doc's tables were read at all
    missing = sorted(set(documented) - set(properties) - {"hfLsp.apiToken"})
    assert missing == [], (
        f"settings in docs/configuration.md without a package.json entry: {missing}"
    )
    extra = sorted(set(properties) - set(documented) - CLIENT_ONLY)
    assert extra == [], f"package.json settings the server does not know: {extra}"


@pytest.mark.parametrize("key", sorted(set(_documented()) - {"hfLsp.apiToken"}))
def test_vscode_setting_matches_the_doc(key: str) -> None:
    row = _documented()[key]
    prop = _properties()[key]
    assert prop["default"] is None, "server settings default to null: the server owns the defaults"
    assert "null" in prop["type"]
    assert prop["scope"] in {"window", "machine-overridable", "resource", "application", "machine"}
    assert prop["markdownDescription"].strip()
    assert f"default, {row['default']}" in prop["markdownDescription"]
    wanted = {
        "string": "string",
        "integer": "integer",
        "number": "number",
        "boolean": "boolean",
        "list": "array",
        "JSON object": "object",
    }
    kinds = {
        wanted[word]
        for word in re.findall(
            r"JSON object|string|integer|number|boolean|list", row["type"].split(" of ")[0]
        )
    }
    assert kinds == set(prop["type"]) - {"null"}
    bounds = re.fullmatch(
        r"(?P<lo>[\d.]+)–(?P<hi>[\d.]+)|≥ (?P<min>[\d.]+)|≤ (?P<max>[\d.]+)", row["range"]
    )
    if bounds:
        lo = bounds["lo"] or bounds["min"]
        hi = bounds["hi"] or bounds["max"]
        assert (prop.get("minimum"), prop.get("maximum")) == (
            float(lo) if lo else None,
            float(hi) if hi else None,
        )
    choices = re.findall(r"`([^`]+)`", row["range"]) if row["range"].startswith("one of") else []
    if choices:
        assert prop["enum"] == [*choices, None]


def test_the_token_is_not_a_setting_and_risky_settings_are_restricted() -> None:
    package = json.loads(PACKAGE.read_text(encoding="utf-8"))
    assert "hfLsp.apiToken" not in _properties()
    restricted = package["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    assert {"hfLsp.serverPath", "hfLsp.pythonPath", "hfLsp.url"} <= set(restricted)
    commands = {c["command"] for c in package["contributes"]["commands"]}
    assert {"hfLsp.setToken", "hfLsp.clearToken", "hfLsp.showStatus", "hfLsp.showLog"} <= commands
    assert "keybindings" not in package["contributes"], "core key bindings stay the user's"
