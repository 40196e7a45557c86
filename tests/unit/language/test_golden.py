"""Golden files for the post-processing steps: tests/golden/<step>.json, one case per entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hf_lsp.generation.fim_templates import COMMON_SPECIAL, TEMPLATES
from hf_lsp.language.postprocess import (
    Cleanup,
    clean_with_range,
    closers_replaced,
    drop_degenerate,
    drop_repetition,
    drop_suffix_repeat,
    normalise_indentation,
    stop_at_scope_end,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
STEPS = {
    "drop_repetition": drop_repetition,
    "drop_degenerate": drop_degenerate,
    "drop_suffix_repeat": drop_suffix_repeat,
    "normalise_indentation": normalise_indentation,
    "stop_at_scope_end": stop_at_scope_end,
}


def cases(name: str) -> list[Any]:
    data = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in data]


def cleanup(case: dict[str, Any]) -> Cleanup:
    template = TEMPLATES["starcoder"]
    prefix, suffix = case.get("prefix", ""), case.get("suffix", "\n")
    return Cleanup(
        prompt=template.render(prefix, suffix),
        prefix=prefix,
        suffix=suffix,
        line_after=suffix.split("\n", 1)[0],
        stops=(),
        special_tokens=tuple(dict.fromkeys((*template.special_tokens, *COMMON_SPECIAL))),
        single_line=case.get("single_line", False),
        language_id=case.get("language", ""),
    )


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_step_has_cases(step: str) -> None:
    assert len(json.loads((GOLDEN / f"{step}.json").read_text())) >= 3


@pytest.mark.parametrize(
    ("step", "case"),
    [pytest.param(step, c.values[0], id=f"{step}:{c.id}") for step in STEPS for c in cases(step)],
)
def test_step(step: str, case: dict[str, Any]) -> None:
    assert STEPS[step](case["text"], cleanup(case)) == case["expected"]


@pytest.mark.parametrize("case", cases("closers_replaced"))
def test_closers_replaced(case: dict[str, Any]) -> None:
    assert closers_replaced(case["text"], case["line_after"]) == case["expected"]


@pytest.mark.parametrize("case", cases("closers"))
def test_closers(case: dict[str, Any]) -> None:
    """Brace languages at closing brackets (and Python at its blocks' ends), whole pipeline.

    The answer runs on past the hole: the document's own closing lines, or the code after
    the block; a block may also go on past its ``}`` (``} else {``, ``} catch``, ``}).then(``).
    """
    text, replaced = clean_with_range(case["text"], cleanup(case))
    assert (text, replaced) == (case["expected"], 0)


@pytest.mark.parametrize("case", cases("pipeline"))
def test_pipeline(case: dict[str, Any]) -> None:
    text, replaced = clean_with_range(case["text"], cleanup(case))
    assert (text, replaced) == (case["expected"], case["replace"])
