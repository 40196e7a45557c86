"""Token budgets: exact counts from a tokenizer.json made here, or the estimate."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hf_lsp.generation.fim_templates import TEMPLATES
from hf_lsp.language.token_count import Counters, Estimate, TokenizerCounter, fit, plan

CODE = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(40))


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small BPE tokenizer trained on code, with StarCoder's FIM markers as special tokens."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<unk>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<|endoftext|>"]
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials, show_progress=False)
    tokenizer.train_from_iterator([CODE] * 4, trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def test_the_tokenizer_counts_fim_markers_as_one_token(tokenizer_json: Path) -> None:
    counter = TokenizerCounter.from_file(str(tokenizer_json))
    assert counter.count("<fim_prefix>") == 1
    assert counter.count("") == 0
    assert 0 < counter.count(CODE) < len(CODE)


def test_counters_load_each_file_once_and_fall_back(tokenizer_json: Path) -> None:
    counters = Counters(download=lambda model, token: pytest.fail("no download in tests"))
    first = counters.get(str(tokenizer_json), "m", False, 3.2)
    assert first is counters.get(str(tokenizer_json), "m", False, 3.2)
    assert isinstance(first, TokenizerCounter)
    missing = counters.get("/nonexistent/tokenizer.json", "m", False, 3.2)
    assert isinstance(missing, Estimate)
    assert isinstance(counters.get(None, "m", False, 2.0), Estimate)


def test_downloads_only_when_allowed_and_in_the_background() -> None:
    import threading

    asked: list[str] = []
    ready = threading.Event()

    def download(model: str, token: str | None) -> TokenizerCounter:
        asked.append(f"{model} {token}")
        ready.set()
        raise OSError("offline")

    counters = Counters(download=download)
    counters.token = "hf_x"
    assert isinstance(counters.get(None, "org/model", False, 3.2), Estimate)
    assert asked == []
    assert isinstance(counters.get(None, "org/model", True, 3.2), Estimate)  # until it is there
    assert ready.wait(5)
    assert asked == ["org/model hf_x"]


def test_estimate_rounds_up() -> None:
    assert Estimate(4.0).count("abcde") == 2
    assert Estimate(4.0).count("") == 0


def test_plan_reserves_the_answer_and_the_template() -> None:
    assert plan(1000, 100, 10, 0.75) == (890, 667, 223)
    assert plan(100, 200, 10, 0.5) == (0, 0, 0)


@pytest.mark.parametrize("total", [20, 60, 150, 400])
def test_fit_cuts_on_line_boundaries_within_budget(tokenizer_json: Path, total: int) -> None:
    counter = TokenizerCounter.from_file(str(tokenizer_json))
    prefix, suffix = CODE[: len(CODE) // 2] + "    ", CODE[len(CODE) // 2 :]
    p, s = fit(prefix, suffix, counter, total, int(total * 0.75))
    assert counter.count(p) + counter.count(s) <= total
    assert prefix.endswith(p) and suffix.startswith(s)
    assert p.endswith("    ")  # the cursor line stays
    assert p == "" or p.startswith(("def", "    return")) or len(p) <= 4  # whole lines only
    assert s == "" or s.endswith("\n")
    rendered = TEMPLATES["starcoder"].render(p, s)
    assert counter.count(rendered) == counter.count(p) + counter.count(s) + 3  # markers intact


def test_fit_gives_what_one_side_leaves_to_the_other() -> None:
    counter = Estimate(1.0)
    prefix = "".join(f"line {i}\n" for i in range(100))
    p, s = fit(prefix, "x\n", counter, 100, 50)
    assert s == "x\n" and 50 < len(p) <= 98


def test_fit_keeps_everything_that_fits() -> None:
    assert fit("a\n", "b\n", Estimate(1.0), 10, 5) == ("a\n", "b\n")


def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_missing_tokenizer_is_downloaded_once_then_used(
    tokenizer_json: Path, tmp_path: Path
) -> None:
    fetched: list[tuple[str, str]] = []

    def fetch(url: str, path: str) -> None:
        fetched.append((url, path))
        shutil.copy(tokenizer_json, path)

    to = tmp_path / "new" / "dir" / "tokenizer.json"
    counters = Counters(download=lambda model, token: pytest.fail("not the Hub"), fetch=fetch)
    first = counters.get(str(to), "m", False, 3.2, url="https://example.com/tokenizer.json")
    assert isinstance(first, Estimate)  # until it is there
    wait_until(lambda: isinstance(counters.get(str(to), "m", False, 3.2, url="u"),
                                  TokenizerCounter))
    counter = counters.get(str(to), "m", False, 3.2, url="https://example.com/tokenizer.json")
    assert counter.name == f"tokenizer {to}"
    assert to.read_bytes() == tokenizer_json.read_bytes()
    assert [u for u, _ in fetched] == ["https://example.com/tokenizer.json"]
    assert list(to.parent.iterdir()) == [to]  # the partial file is gone


def test_an_existing_tokenizer_file_is_not_downloaded(tokenizer_json: Path) -> None:
    counters = Counters(fetch=lambda url, path: pytest.fail("downloaded an existing file"))
    counter = counters.get(str(tokenizer_json), "m", False, 3.2, url="https://example.com/t")
    assert isinstance(counter, TokenizerCounter)


@pytest.mark.parametrize("served", [b"<html>not json</html>", None], ids=["not-a-tokenizer",
                                                                          "unreachable"])
def test_a_failed_download_keeps_the_estimate_and_is_tried_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, served: bytes | None
) -> None:
    calls: list[str] = []

    def fetch(url: str, path: str) -> None:
        calls.append(url)
        if served is None:
            raise OSError("connection refused")
        Path(path).write_bytes(served)

    to = tmp_path / "tokenizer.json"
    counters = Counters(fetch=fetch)
    with caplog.at_level(logging.WARNING, logger="hf_lsp.language.token_count"):
        counters.get(str(to), "m", False, 3.2, url="https://example.com/t")
        wait_until(lambda: bool(caplog.records))
        for _ in range(3):
            assert isinstance(counters.get(str(to), "m", False, 3.2, url="https://example.com/t"),
                              Estimate)
    assert calls == ["https://example.com/t"]
    assert len([r for r in caplog.records if "cannot download" in r.message]) == 1
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


def test_a_named_repository_is_downloaded_without_allow_download(tokenizer_json: Path) -> None:
    asked: list[str] = []

    def download(repository: str, token: str | None) -> TokenizerCounter:
        asked.append(f"{repository} {token}")
        return TokenizerCounter.from_file(str(tokenizer_json), f"tokenizer of {repository}")

    counters = Counters(download=download)
    counters.token = "hf_x"
    assert isinstance(counters.get(None, "org/model", False, 3.2, repository="org/tok"),
                      Estimate)
    wait_until(lambda: isinstance(
        counters.get(None, "org/model", False, 3.2, repository="org/tok"), TokenizerCounter))
    assert counters.get(None, "org/model", True, 3.2, repository="org/tok").name == (
        "tokenizer of org/tok"
    )
    assert asked == ["org/tok hf_x"]  # the repository, not the model; once
