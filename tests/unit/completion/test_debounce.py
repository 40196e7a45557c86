"""The adaptive debounce follows the typing rhythm."""

from __future__ import annotations

from hf_lsp.completion.debounce import Rhythm


def test_first_keystrokes_wait_the_minimum() -> None:
    r = Rhythm(0.01, 0.25)
    r.keystroke("u", 0.0)
    assert r.delay("u") == 0.01


def test_steady_typing_waits_for_the_next_key() -> None:
    r = Rhythm(0.01, 0.25)
    for i in range(10):
        r.keystroke("u", i * 0.1)
    assert abs(r.delay("u") - 0.12) < 1e-9


def test_slow_typing_is_capped_and_pauses_are_ignored() -> None:
    r = Rhythm(0.01, 0.25, pause=1.0)
    t = 0.0
    for gap in (0.6, 0.7, 0.8, 5.0, 9.0):
        t += gap
        r.keystroke("u", t)
    assert r.delay("u") == 0.25  # 0.8 * 1.2 capped; the 5 s and 9 s pauses are not typing


def test_documents_have_their_own_rhythm() -> None:
    r = Rhythm(0.01, 0.25)
    for i in range(5):
        r.keystroke("a", i * 0.05)
    r.keystroke("b", 0.0)
    assert r.delay("a") > r.delay("b") == 0.01
    r.forget("a")
    assert r.delay("a") == 0.01
