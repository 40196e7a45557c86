"""The Neovim plugin in a real Neovim 0.11 against the real hf-lsp and the loopback Inference API.

Each test starts ``nvim --headless --clean`` with editors/neovim on the runtimepath and types
into it over its socket like a user: ghost text appears, <Tab> accepts it, keys fall through.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONTINUATION, MODEL, TOKEN
from hf_server import FakeInferenceServer, FakeModel, Fault
from neovim_editor import Editor, EditorFactory, editors, lua_value, until

SOURCE = "def add(a, b):\n"
MULTILINE = "if a is None:\n        a = 0\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"


def setup_lua(url: str, **options: Any) -> str:
    opts = {"settings": {"url": url, "model": MODEL}, "debounce_ms": 40, **options}
    return f"require('hf_lsp').setup({lua_value(opts)})\n"


def open_demo(start: EditorFactory, url: str, extra: str = "", **options: Any) -> Editor:
    nvim = start(setup_lua(url, **options) + extra, files={"demo.py": SOURCE})
    nvim.edit("demo.py")
    nvim.wait_attached()
    until(lambda: nvim.lua("return vim.b.hf_lsp_keymaps == true"), what="the plugin's keys")
    return nvim


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[EditorFactory]:
    with editors(tmp_path) as start:
        yield start


@pytest.fixture
def multiline() -> Any:
    with FakeInferenceServer({MODEL: FakeModel(MULTILINE)}) as server:
        yield server


@pytest.fixture
def silent() -> Any:
    """A model that never has anything to suggest."""
    with FakeInferenceServer({MODEL: FakeModel("")}) as server:
        yield server


def test_ghost_text_appears_and_tab_accepts_it(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, hf.api_url)
    nvim.keys("Go")  # python's indent puts the cursor at column 4
    assert nvim.wait_ghost() == "return a + b"
    (mark,) = nvim.ghost()
    assert (mark["row"], mark["col"]) == (1, 4)
    assert mark["virt_text_pos"] == "inline"
    assert nvim.lines() == ["def add(a, b):", "    "]  # ghost text is not in the buffer

    nvim.keys("<Tab>")
    until(lambda: nvim.lines() == ["def add(a, b):", "    return a + b"], what="accepted text")
    assert nvim.cursor() == (2, 16)  # after the inserted text
    assert nvim.mode() == "i"
    nvim.keys("<Esc>")
    until(lambda: not nvim.ghost(), what="ghost text gone after <Esc>")

    request = hf.generation_requests()[-1]
    assert request.body["inputs"].startswith("<fim_prefix># Path: demo.py\ndef add(a, b):\n    ")


def test_the_client_asks_for_inline_completion_not_the_menu(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, hf.api_url)
    caps = nvim.lua("return vim.lsp.get_clients({name = 'hf_lsp'})[1].capabilities.textDocument"
                    ".inlineCompletion")
    assert caps == {"dynamicRegistration": False}
    nvim.keys("Go")
    nvim.wait_ghost()
    # hf-lsp leaves the completion menu empty for a client that shows ghost text
    result = nvim.lua(
        "local p = vim.lsp.util.make_position_params(0, 'utf-16')\n"
        "local r = vim.lsp.buf_request_sync(0, 'textDocument/completion', p, 5000)\n"
        "local _, answer = next(r)\n"
        "return answer.result == nil or answer.result == vim.NIL"
    )
    assert result is True


def test_multiline_suggestion_shows_virtual_lines_and_is_inserted_whole(
    editor: EditorFactory, multiline: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, multiline.api_url)
    nvim.keys("Go")
    assert nvim.wait_ghost() == "if a is None:\n        a = 0\n    return a + b"
    (mark,) = nvim.ghost()
    assert [line[0][0] for line in mark["virt_lines"]] == ["        a = 0", "    return a + b"]
    nvim.keys("<Tab>")
    expected = ["def add(a, b):", "    if a is None:", "        a = 0", "    return a + b"]
    until(lambda: nvim.lines() == expected, what="three inserted lines")
    assert nvim.cursor() == (4, 16)


def test_accept_word_and_line_keep_the_rest_on_screen(
    editor: EditorFactory, multiline: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, multiline.api_url, auto_trigger=True)
    nvim.keys("Go")
    nvim.wait_ghost()
    nvim.keys("<M-Right>")
    until(lambda: nvim.lines()[1] == "    if", what="one word accepted")
    assert nvim.ghost_text().startswith(" a is None:\n        a = 0")
    nvim.keys("<M-C-Right>")
    until(lambda: nvim.lines()[1] == "    if a is None:", what="the rest of the line")
    assert nvim.cursor() == (2, 17)
    assert nvim.ghost_text().startswith("\n        a = 0")


def test_typing_what_is_suggested_keeps_the_ghost_text(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, hf.api_url)
    nvim.keys("Go")
    nvim.wait_ghost()
    nvim.keys("ret")
    until(lambda: nvim.ghost_text() == "urn a + b", what="the untyped rest")
    nvim.keys("<Tab>")
    until(lambda: nvim.lines()[1] == "    return a + b", what="accepted after typing")


@pytest.mark.parametrize("user_map", [False, True], ids=["default-tab", "user-mapping"])
def test_tab_without_a_suggestion_falls_through(
    editor: EditorFactory, silent: FakeInferenceServer, user_map: bool
) -> None:
    # the user's own global <Tab> mapping, defined after setup() as a plugin manager would
    extra = "vim.keymap.set('i', '<Tab>', 'USERTAB')\n" if user_map else ""
    nvim = open_demo(editor, silent.api_url, extra=extra)
    nvim.nvim.command("setlocal noexpandtab softtabstop=0")  # a real tab character
    nvim.keys("Gox = 1")
    until(lambda: len(silent.generation_requests()) >= 1, what="a request")
    nvim.keys("<Tab>y")
    expected = "x = 1USERTABy" if user_map else "x = 1\ty"
    until(lambda: nvim.lines()[1].lstrip() == expected, what=f"{expected!r} typed",
          state=nvim.snapshot)
    assert not nvim.ghost()


def test_user_tab_mapping_still_accepts_when_a_suggestion_is_shown(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, hf.api_url, extra="vim.keymap.set('i', '<Tab>', 'USERTAB')\n")
    nvim.keys("Go")
    nvim.wait_ghost()
    nvim.keys("<Tab>")
    until(lambda: nvim.lines()[1] == "    return a + b", what="accepted text")


def test_dismiss_moving_and_leaving_clear_the_ghost_text(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, hf.api_url)
    nvim.keys("Go")
    nvim.wait_ghost()
    nvim.keys("<C-]>")
    until(lambda: not nvim.ghost(), what="dismissed")
    assert nvim.lines()[1] == "    "
    nvim.keys("<Tab>")  # nothing shown now: a plain tab (python's softtabstop makes it spaces)
    until(lambda: nvim.lines()[1] == "        ", what="a tab after dismissing")

    nvim.keys("x")
    nvim.wait_ghost()
    nvim.keys("<Left>")  # the cursor moves away from the suggestion
    until(lambda: not nvim.ghost(), what="cleared on cursor move", state=nvim.snapshot)

    nvim.keys("<End>y")
    nvim.wait_ghost()
    nvim.keys("<Esc>")
    until(lambda: not nvim.ghost(), what="cleared on leaving insert mode", state=nvim.snapshot)
    assert nvim.lines()[1] == "        xy"


def test_fast_typing_sends_one_request(editor: EditorFactory, hf: FakeInferenceServer) -> None:
    nvim = open_demo(editor, hf.api_url, debounce_ms=300, trigger_on_insert_enter=False)
    nvim.keys("Goreturn a")
    nvim.wait_ghost()  # (the fake model always says the same: "return a + b")
    (mark,) = nvim.ghost()
    assert (mark["row"], mark["col"]) == (1, 12)
    assert len(hf.generation_requests()) == 1
    assert hf.generation_requests()[0].body["inputs"].count("return a") == 1


def test_typing_on_cancels_the_request_in_flight(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.delay(8.0))  # the first answer is slow
    nvim = open_demo(editor, hf.api_url, trigger_on_insert_enter=False)
    nvim.keys("Gox")
    until(lambda: len(hf.generation_requests()) == 1 and hf.active == 1, what="a slow request")
    nvim.keys("y")  # $/cancelRequest: hf-lsp closes the HTTP call
    until(lambda: hf.closed_early == 1, timeout=5, what="the first call closed")
    assert nvim.wait_ghost() == "return a + b"
    (mark,) = nvim.ghost()
    assert (mark["row"], mark["col"]) == (1, 6)  # drawn for "    xy", not for "    x"
    assert len(hf.generation_requests()) == 2


def test_toggle_turns_auto_suggest_off_and_on(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = open_demo(editor, hf.api_url)
    assert "auto-suggest off" in nvim.output("HfLsp toggle")
    nvim.keys("Goz")
    until(lambda: nvim.lines()[1] == "    z", what="typing")
    time.sleep(0.4)  # ten debounce periods: nothing may be asked
    assert hf.generation_requests() == []
    assert not nvim.ghost()
    nvim.keys("<M-\\>")  # asking by hand still works
    until(lambda: hf.generation_requests(), what="a request on demand")
    nvim.keys("<Esc>")
    assert "auto-suggest on" in nvim.output("HfLsp toggle")
    nvim.keys("o")
    nvim.wait_ghost()


def test_status_shows_the_server_figures(editor: EditorFactory, hf: FakeInferenceServer) -> None:
    nvim = open_demo(editor, hf.api_url)
    nvim.keys("Go")
    nvim.wait_ghost()
    nvim.keys("<Esc>")
    text = nvim.output("HfLsp status")
    figures = dict(
        (line.split(":", 1)[0], line.split(":", 1)[1].strip())
        for line in text.splitlines() if ":" in line
    )
    assert figures["model"] == MODEL
    assert figures["endpoint"] == f"{hf.base_url}/models/{MODEL}"
    assert int(figures["requests"]) >= 1
    assert int(figures["backendCalls"]) >= 1
    assert figures["autoSuggest"] == "true"
    assert figures["ghostText"] == "hf_lsp plugin"


def test_token_command_stores_the_token_and_the_server_uses_it(editor: EditorFactory) -> None:
    with FakeInferenceServer({MODEL: FakeModel(CONTINUATION)}, token=TOKEN) as hf:
        nvim = editor(setup_lua(hf.api_url), files={"demo.py": SOURCE},
                      env={"HF_HOME": "hf-home"})
        nvim.edit("demo.py")
        nvim.wait_attached()
        hf_home = nvim.project / "hf-home"
        nvim.keys("Go")
        until(lambda: hf.generation_requests(), what="a first request")
        time.sleep(0.2)
        assert not nvim.ghost()  # 401 without a token
        nvim.keys("<Esc>")

        nvim.keys(":HfLsp token<CR>")
        nvim.keys(f"{TOKEN}<CR>")
        token_file = hf_home / "token"
        until(token_file.exists, what="the token file")
        until(lambda: token_file.read_text() == TOKEN, what="the token written")
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

        nvim.keys("o")
        assert nvim.wait_ghost() == "return a + b"
        assert hf.generation_requests()[-1].headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in nvim.output("messages")
        assert TOKEN not in nvim.lua("return vim.fn.getreg(':')")


# Neovim 0.12's vim.lsp.inline_completion, stood in for by a recorder: the plugin's glue for
# the built-in engine (this machine has no 0.12) calls it as documented and falls through.
NATIVE_STUB = """
local calls = {}
_G.native_calls = calls
local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')
vim.lsp.inline_completion = {
  enable = function(on, filter) table.insert(calls, { 'enable', on, filter and filter.bufnr }) end,
  is_enabled = function() return true end,
  select = function(opts) table.insert(calls, { 'select', opts.count }) end,
  get = function(opts)
    table.insert(calls, { 'get', opts ~= nil and opts.on_accept ~= nil })
    vim.api.nvim_buf_clear_namespace(0, ns, 0, -1)
    return true
  end,
}
function _G.show_native()
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  vim.api.nvim_buf_set_extmark(0, ns, row - 1, col, { virt_text = { { 'x', 'Comment' } } })
end
"""


def test_neovim_012_uses_the_builtin_inline_completion(
    editor: EditorFactory, silent: FakeInferenceServer
) -> None:
    nvim = editor(NATIVE_STUB + setup_lua(silent.api_url), files={"demo.py": SOURCE})
    nvim.edit("demo.py")
    nvim.wait_attached()
    until(lambda: nvim.lua("return vim.b.hf_lsp_keymaps == true"), what="the plugin's keys")
    bufnr = nvim.lua("return vim.api.nvim_get_current_buf()")
    calls = lambda: nvim.lua("return _G.native_calls")  # noqa: E731
    assert calls() == [["enable", True, bufnr]]

    nvim.nvim.command("setlocal noexpandtab softtabstop=0")
    nvim.keys("Go<Tab>")  # nothing shown: a tab, and the built-in engine is not asked
    until(lambda: nvim.lines()[1].endswith("\t"), what="a tab", state=nvim.snapshot)
    assert [c[0] for c in calls()] == ["enable"]

    nvim.lua("_G.show_native()")
    nvim.keys("<M-]>")
    until(lambda: ["select", 1] in calls(), what="select(+1)")
    nvim.keys("<M-Right>")
    until(lambda: ["get", True] in calls(), what="get() with a partial on_accept")
    nvim.lua("_G.show_native()")
    nvim.keys("<Tab>")
    until(lambda: ["get", False] in calls(), what="get() accepting all",
          state=lambda: (calls(), nvim.snapshot()))
    nvim.keys("<Esc>")

    assert "auto-suggest off" in nvim.output("HfLsp toggle")
    assert calls()[-1] == ["enable", False, bufnr]
    assert "built-in (vim.lsp.inline_completion)" in nvim.output("HfLsp status")
