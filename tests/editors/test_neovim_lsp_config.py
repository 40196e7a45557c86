"""lsp/hf_lsp.lua alone: ``vim.lsp.enable('hf_lsp')`` in a real Neovim 0.11, no setup() call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MODEL
from hf_server import FakeInferenceServer
from neovim_editor import EditorFactory, editors, lua_value, until


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[EditorFactory]:
    with editors(tmp_path) as start:
        yield start


def enable_only(url: str) -> str:
    # the settings are the user's; cmd, filetypes and root markers come from lsp/hf_lsp.lua
    return (
        f"vim.lsp.config('hf_lsp', {{ settings = {{ hfLsp = {{ url = {lua_value(url)}, "
        f"model = {lua_value(MODEL)} }} }} }})\n"
        "vim.lsp.enable('hf_lsp')\n"
    )


def test_enable_alone_attaches_with_the_shipped_config(
    editor: EditorFactory, hf: FakeInferenceServer
) -> None:
    nvim = editor(enable_only(hf.api_url),
                  files={"demo.py": "def add(a, b):\n", "notes.md": "# Notes\n"})
    nvim.edit("demo.py")
    nvim.wait_attached()
    client = nvim.lua(
        "local c = vim.lsp.get_clients({bufnr = 0, name = 'hf_lsp'})[1]\n"
        "return {cmd = c.config.cmd, root = c.root_dir, name = c.server_info.name,"
        " inline = c.capabilities.textDocument.inlineCompletion ~= nil,"
        " provider = c.server_capabilities.inlineCompletionProvider ~= nil}"
    )
    assert client["cmd"] == ["hf-lsp"]  # found on PATH
    assert client["root"] == str(nvim.project)  # the .git root marker
    assert client["name"] == "hf-lsp"
    assert client["inline"] is False  # Neovim 0.11 does not ask for inline completion...
    assert client["provider"] is True

    # ...so hf-lsp fills the completion menu instead: <C-x><C-o> (vim.lsp.omnifunc) shows it
    nvim.keys("Go<C-x><C-o>")
    menu = until(
        # (a headless Neovim has no UI to draw the menu: pum_visible stays 0)
        lambda: nvim.lua("local i = vim.fn.complete_info({'items'})\n"
                         "return #i.items > 0 and i.items or nil"),
        what="the completion menu", state=nvim.snapshot,
    )
    assert [item["abbr"] for item in menu] == ["return a + b"]
    # the whole suggestion is the word to insert, not its first word (a literal snippet)
    assert menu[0]["word"] == "return a + b"
    assert menu[0]["menu"] == f"hf-lsp · {MODEL}"
    assert nvim.mode() == "ic"
    request = hf.generation_requests()[-1]
    assert request.path == f"/models/{MODEL}"

    # no filetypes list: any file buffer gets the same client
    nvim.keys("<Esc>")
    nvim.edit("notes.md")
    nvim.wait_attached()
    assert nvim.lua("return vim.bo.filetype") == "markdown"
    assert nvim.lua("return #vim.lsp.get_clients({name = 'hf_lsp'})") == 1


def test_commands_exist_without_setup(editor: EditorFactory, hf: FakeInferenceServer) -> None:
    nvim = editor(enable_only(hf.api_url), files={"demo.py": "x = 1\n"})
    nvim.edit("demo.py")
    nvim.wait_attached()
    text = nvim.output("HfLsp status")
    assert "model:" in text and MODEL in text
    until(lambda: nvim.lua("return vim.fn.exists(':HfLsp') == 2"), what=":HfLsp")
