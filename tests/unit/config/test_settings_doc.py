"""docs/configuration.md is generated from the settings model and kept in step with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

import hf_lsp.config.settings as model
from hf_lsp.config.docs import main, render, table

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "configuration.md"
REGENERATE = "python -m hf_lsp.config.docs > docs/configuration.md"


def setting_paths(cls: type[Any] = model.Settings, prefix: str = model.SECTION) -> list[str]:
    """Every field of every settings class, by the dotted path a user writes (our own walk)."""
    attrs.resolve_types(cls)
    paths = []
    for field in attrs.fields(cls):
        path = f"{prefix}.{model.wire_name(cls, field.name)}"
        paths.append(path)
        if isinstance(field.type, type) and attrs.has(field.type):
            paths.extend(setting_paths(field.type, path))
    return paths


def rows(doc: str) -> dict[str, list[str]]:
    """Table rows by their first cell (the setting's path): the remaining cells."""
    found = {}
    for line in doc.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            found[cells[0].strip("`")] = cells[1:]
    return found


def test_checked_in_doc_is_current() -> None:
    current = DOC.read_bytes().decode("utf-8") if DOC.exists() else ""
    assert current == render(), f"docs/configuration.md is out of date; regenerate it: {REGENERATE}"


def test_every_setting_is_documented() -> None:
    expected = setting_paths()
    documented = rows(render())
    assert len(expected) == len(set(expected))
    assert "hfLsp.parameters.max_new_tokens" in expected  # wire names kept inside parameters
    assert "hfLsp.context.maxPrefixLines" in expected  # camelCase elsewhere
    missing = [path for path in expected if path not in documented]
    assert not missing, f"settings missing from the doc: {missing}"
    unknown = sorted(set(documented) - set(expected))
    assert not unknown, f"the doc lists settings that do not exist: {unknown}"


@pytest.mark.parametrize(
    ("path", "type_", "default", "range_"),
    [
        ("hfLsp.parameters.max_new_tokens", "integer or null", "`null`", "1–8192"),
        ("hfLsp.parameters.temperature", "number or null", "`0.2`", "0–100"),
        ("hfLsp.parameters.top_k", "integer or null", "`null`", "≥ 1"),
        ("hfLsp.parameters.stop", "list of strings", "`[]`", "—"),
        ("hfLsp.requestTimeout", "number", "`30.0`", "0.1–600"),
        ("hfLsp.apiToken", "string or null", "`null`", "—"),
        ("hfLsp.parameters", "object", "see below", "—"),
    ],
)
def test_rows(path: str, type_: str, default: str, range_: str) -> None:
    cells = rows(render())[path]
    assert cells[:3] == [type_, default, range_]
    assert cells[3], "every setting has a meaning"


def test_choices_and_sections() -> None:
    doc = render()
    assert doc.startswith("# Configuration\n")
    for word in ("initializationOptions", "workspace/didChangeConfiguration",
                 "workspace/configuration", REGENERATE):
        assert word in doc
    assert rows(doc)["hfLsp.fim.template"][2].startswith("one of `starcoder`, `codellama`")
    headings = [line for line in doc.splitlines() if line.startswith("## ")]
    assert headings[0] == "## `hfLsp`"
    assert "## `hfLsp.parameters`" in headings and "## `hfLsp.maxNewTokens`" in headings
    assert render() == doc  # deterministic


def test_pipes_are_escaped() -> None:
    @attrs.frozen
    class Sample:
        """A settings object with a pipe in its doc."""

        some_value: str | None = attrs.field(default="x|y", metadata={"doc": "a | b"})

    line = table(Sample, "hfLsp.sample").splitlines()[2]
    assert line == r'| `hfLsp.sample.someValue` | string or null | `"x\|y"` | — | a \| b |'


def test_module_prints_the_doc() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hf_lsp.config.docs"], capture_output=True, check=True
    ).stdout
    assert out.decode("utf-8") == render()


def test_check_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.md"
    good.write_bytes(render().encode("utf-8"))
    assert main(["--check", str(good)]) == 0
    stale = tmp_path / "stale.md"
    stale.write_text("# Configuration\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert "python -m hf_lsp.config.docs >" in capsys.readouterr().err
    assert main(["--check", str(tmp_path / "missing.md")]) == 1
