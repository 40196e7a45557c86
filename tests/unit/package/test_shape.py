"""The package keeps its shape: module and function sizes, no import cycle (scripts/shape.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "shape.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shape", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["shape"] = module
    spec.loader.exec_module(module)
    return module


def test_no_module_or_function_grew_past_its_limit_and_no_import_cycle() -> None:
    assert load().check() == []


def test_the_check_finds_a_cycle() -> None:
    shape = load()
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert shape.cycles(graph) == [["a", "b", "c", "a"]]
    assert shape.cycles({"a": {"b"}, "b": set()}) == []


def test_the_check_counts_a_long_function_and_a_typing_only_import() -> None:
    import ast

    shape = load()
    body = "def f():\n" + "    x = 1\n" * 70
    assert shape.functions(ast.parse(body), "m.py") == [("m.py:f", 71)]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from hf_lsp.lsp import server\nfrom hf_lsp.errors import HfLspError\n")
    assert shape.top_level_imports(tree, "hf_lsp.x", False) == {
        "hf_lsp.errors", "hf_lsp.errors.HfLspError"}


def test_each_package_names_every_module_it_offers() -> None:
    import importlib

    root = SCRIPT.parents[1] / "hf_lsp"
    for name in ("actions", "completion", "config", "generation", "language", "cli", "lsp"):
        package = importlib.import_module(f"hf_lsp.{name}")
        here = {p.stem for p in (root / name).iterdir()
                if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
        assert sorted(package.__all__) == sorted(here), name
