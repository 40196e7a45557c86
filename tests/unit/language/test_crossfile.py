"""Cross-file context: Jaccard over sliding windows, recent edits, and the prompt forms."""

from __future__ import annotations

import pytest

from hf_lsp.generation.fim_templates import TEMPLATES, misordered
from hf_lsp.language.crossfile import CrossFile, identifiers, jaccard
from hf_lsp.language.document import Document

MODELS = "".join(f"# filler {i}\n" for i in range(40)) + (
    "class Invoice:\n    def total_amount(self, items):\n        return sum(items)\n"
) + "".join(f"# more {i}\n" for i in range(40))


def test_jaccard() -> None:
    assert jaccard(identifiers("a b c"), identifiers("b c d")) == 0.5
    assert jaccard(frozenset(), identifiers("a")) == 0.0


def test_the_most_similar_window_of_another_document_wins() -> None:
    current = Document("file:///w/app.py", "invoice = Invoice()\ninvoice.total_amount(", "python")
    models = Document("file:///w/models.py", MODELS, "python")
    unrelated = Document("file:///w/other.py", "import os\nprint(os.name)\n", "python")
    found = CrossFile().snippets(
        current.source, current, 1, [current, models, unrelated],
        window_lines=6, max_snippets=2, min_similarity=0.05, near=50,
    )
    assert [s.uri for s in found] == ["file:///w/models.py"]
    assert "def total_amount" in found[0].text


def test_recent_edits_far_from_the_cursor_count() -> None:
    lines = [f"filler_{i} = {i}\n" for i in range(300)]
    lines[10] = "def parse_header(raw_bytes, offset):\n"
    doc = Document("file:///w/a.py", "".join(lines) + "parse_header(raw_bytes, ", "python")
    cf = CrossFile()
    cf.edited("file:///w/a.py", 10)
    found = cf.snippets(
        "x = parse_header(raw_bytes, ", doc, 300, [doc],
        window_lines=4, max_snippets=3, min_similarity=0.1, near=100,
    )
    assert found and "def parse_header" in found[0].text
    near = cf.snippets(
        "x = parse_header(raw_bytes, ", doc, 20, [doc],
        window_lines=4, max_snippets=3, min_similarity=0.1, near=100,
    )
    assert near == []  # already in the prompt's own window


def test_windows_are_kept_per_version() -> None:
    cf = CrossFile()
    doc = Document("file:///w/m.py", MODELS, "python", version=1)
    first = cf._windows_of(doc, 6)
    assert cf._windows_of(doc, 6) is first
    doc.version = 2
    assert cf._windows_of(doc, 6) is not first


def test_qwen_repo_level_form() -> None:
    qwen = TEMPLATES["qwen"]
    context = qwen.files([("lib.py", "def f(): pass")], "main.py", "proj")
    assert context == "<|repo_name|>proj\n<|file_sep|>lib.py\ndef f(): pass\n<|file_sep|>main.py\n"
    prompt = qwen.render("x = ", "\n", context)
    assert prompt.startswith(context + "<|fim_prefix|>x = <|fim_suffix|>")


def test_starcoder_file_separators_and_families_without_them() -> None:
    assert TEMPLATES["starcoder"].files([("a.py", "x\n")], "b.py") == (
        "<file_sep>a.py\nx\n<file_sep>b.py\n"
    )
    assert TEMPLATES["codellama"].files([("a.py", "x\n")], "b.py") == ""
    assert TEMPLATES["codestral"].render("p", "s", "ctx") == "[SUFFIX]s[PREFIX]ctxp"


@pytest.mark.parametrize(
    ("prefix", "suffix", "middle", "wrong"),
    [
        pytest.param("<fim_suffix>", "<fim_prefix>", "<fim_middle>", True, id="swapped"),
        pytest.param("<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", True, id="qwen-swap"),
        pytest.param("<PRE> ", " <SUF>", " <MID>", False, id="codellama-right"),
        pytest.param("<A>", "<B>", "<C>", False, id="unknown-markers"),
    ],
)
def test_misordered_custom_templates(prefix: str, suffix: str, middle: str, wrong: bool) -> None:
    assert (misordered(prefix, suffix, middle) is not None) == wrong
