"""The Neovim plugin's Lua, run by the real ``nvim -l``: every file compiles, the helpers answer."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env
from neovim_editor import PLUGIN, lua_value, nvim_binary


def run_lua(tmp_path: Path, body: str, env: dict[str, str] | None = None) -> Any:
    """Run ``body`` (which sets ``result``) with the plugin on the runtimepath; return it."""
    script = tmp_path / "script.lua"
    script.write_text(
        f"vim.opt.runtimepath:prepend({lua_value(str(PLUGIN))})\n"
        "local result\n"
        f"{body}\n"
        "io.stdout:write(vim.json.encode({ result = result }))\n"
    )
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    proc = subprocess.run(
        [str(nvim_binary()), "--clean", "--headless", "-l", str(script)],
        capture_output=True, text=True, timeout=60, env=clean_env(home, **(env or {})),
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["result"]


def test_every_lua_file_compiles(tmp_path: Path) -> None:
    files = sorted(str(p) for p in PLUGIN.rglob("*.lua"))
    assert len(files) >= 10
    errors = run_lua(tmp_path, (
        f"result = {{}}\nfor _, f in ipairs({lua_value(files)}) do\n"
        "  local _, err = loadfile(f)\n  if err then table.insert(result, err) end\nend\n"
        "if #result == 0 then result = vim.NIL end"
    ))
    assert errors is None


def test_the_shipped_config(tmp_path: Path) -> None:
    config = run_lua(tmp_path, f"result = dofile({lua_value(str(PLUGIN / 'lsp' / 'hf_lsp.lua'))})")
    assert config["cmd"] == ["hf-lsp"]
    assert ".git" in config["root_markers"]
    assert "filetypes" not in config  # every filetype


@pytest.mark.parametrize(
    ("rest", "word", "line"),
    [
        pytest.param("return a + b", "return", "return a + b", id="word"),
        pytest.param(" + b\nnext", " +", " + b", id="punctuation"),
        pytest.param("(a, b):\n    pass", "(", "(a, b):", id="bracket"),
        pytest.param("\n    return x\n", "\n    ", "\n    return x", id="newline"),
        pytest.param("   ", "   ", "   ", id="blanks"),
    ],
)
def test_word_and_line_lengths(tmp_path: Path, rest: str, word: str, line: str) -> None:
    result = run_lua(tmp_path, (
        "local t = require('hf_lsp.text')\n"
        f"local s = {lua_value(rest)}\n"
        "result = { s:sub(1, t.word_length(s)), s:sub(1, t.line_length(s)) }"
    ))
    assert result == [word, line]


def test_status_lines_put_the_known_figures_first(tmp_path: Path) -> None:
    lines = run_lua(tmp_path, (
        "result = require('hf_lsp.commands').format_status("
        "{ zeta = 1, model = 'm', requests = 3, lastError = vim.NIL })"
    ))
    assert [line.split(":")[0] for line in lines] == ["model", "requests", "lastError", "zeta"]
    assert lines[2].split() == ["lastError:", "-"]


def test_status_lines_show_the_sessions_tokens_and_cost(tmp_path: Path) -> None:
    lines = run_lua(tmp_path, (
        "result = require('hf_lsp.commands').format_status("
        "{ tokensIn = 1234, spend = '1,234 in / 56 out tokens, $0.0012', costUsd = 0.0012, "
        "model = 'm', lastLatencyMs = 80 })"
    ))
    assert [line.split(":")[0] for line in lines] == [
        "model", "lastLatencyMs", "spend", "costUsd", "tokensIn"]
    assert lines[2] == "spend:            1,234 in / 56 out tokens, $0.0012"


def test_status_lines_name_the_provider_in_use(tmp_path: Path) -> None:
    lines = run_lua(tmp_path, (
        "local c = require('hf_lsp.commands')\n"
        "result = { c.format_status({ requests = 1, model = 'Qwen/Qwen2.5-Coder-7B', provider = "
        "{ name = 'featherless-ai', kind = 'raw', model = 'featherless/qwen-coder-7b', "
        "url = 'https://router.huggingface.co/featherless-ai/v1/completions' } }), "
        "c.format_status({ model = 'm', provider = vim.NIL }) }"
    ))
    served, direct = lines
    assert [line.split(":")[0] for line in served] == ["model", "provider", "requests"]
    assert served[1] == (
        "provider:         featherless-ai (fill-in-the-middle, model featherless/qwen-coder-7b), "
        "POST https://router.huggingface.co/featherless-ai/v1/completions")
    assert direct[1].split() == ["provider:", "-"]


@pytest.mark.parametrize(
    ("env", "where"),
    [
        pytest.param({}, "home/.cache/huggingface/token", id="default"),
        pytest.param({"XDG_CACHE_HOME": "{tmp}/xdg"}, "xdg/huggingface/token", id="xdg"),
        pytest.param({"HF_HOME": "{tmp}/hf"}, "hf/token", id="hf-home"),
        pytest.param({"HF_HOME": "{tmp}/hf", "HF_TOKEN_PATH": "{tmp}/t/tok"}, "t/tok",
                     id="token-path"),
    ],
)
def test_token_is_stored_where_hf_lsp_reads_it(
    tmp_path: Path, env: dict[str, str], where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hf_lsp.config.api_token import resolve_token, token_file_path

    environment = {k: v.format(tmp=tmp_path) for k, v in env.items()}
    target = tmp_path / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("old")
    target.chmod(0o644)  # an existing, readable file: storing tightens it
    path = run_lua(tmp_path, "result = assert(require('hf_lsp.token').store('  hf_abc123XYZ \\n'))",
                   env=environment)
    assert Path(path) == target
    assert target.read_text() == "hf_abc123XYZ"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # hf-lsp expands ~ with the real HOME
    reader_env = dict(environment)
    assert token_file_path(reader_env) == target
    assert resolve_token(None, reader_env) == ("hf_abc123XYZ", str(target))


def test_an_empty_token_is_not_stored(tmp_path: Path) -> None:
    result = run_lua(tmp_path, "local p, err = require('hf_lsp.token').store('  ')\n"
                               "result = { p == nil, err }")
    assert result == [True, "no token given"]
    assert not (tmp_path / "home" / ".cache").exists()


def test_tabs_in_ghost_text_become_spaces(tmp_path: Path) -> None:
    result = run_lua(tmp_path, (
        "local t = require('hf_lsp.text')\n"
        "result = { t.expand_tabs('\\tx', 4), t.expand_tabs('ab\\tc', 4), t.lines('a\\r\\nb\\nc') }"
    ))
    assert result == ["    x", "ab  c", ["a", "b", "c"]]


def test_a_rewrite_asks_for_its_instruction_before_the_command_runs(tmp_path: Path) -> None:
    result = run_lua(tmp_path, (
        "local actions = require('hf_lsp.actions')\n"
        "local sent, prompts = {}, {}\n"
        "local client = { request = function(self, method, params) "
        "table.insert(sent, { method, params }) end }\n"
        "local deps = { get_client = function() return client end,\n"
        "  input = function(opts, on_confirm) table.insert(prompts, opts.prompt)\n"
        "    on_confirm(#prompts == 1 and '  use map ' or nil) end }\n"
        "local rewrite = { command = 'hfLsp.runAction', arguments = {\n"
        "  { action = 'rewrite', uri = 'file:///a.py', version = 2 } } }\n"
        "actions.run(rewrite, { client_id = 1, bufnr = 0 }, deps)\n"
        "actions.run(rewrite, { client_id = 1, bufnr = 0 }, deps)  -- cancelled\n"
        "actions.run({ command = 'hfLsp.runAction', arguments = { { action = 'docstring' } } },\n"
        "  { client_id = 1, bufnr = 0 }, deps)\n"
        "result = { sent = sent, prompts = #prompts }"
    ))
    assert result["prompts"] == 2  # the docstring action asked nothing
    assert [s[0] for s in result["sent"]] == ["workspace/executeCommand"] * 2
    first, second = (s[1] for s in result["sent"])
    assert first["arguments"][0] == {"action": "rewrite", "uri": "file:///a.py", "version": 2,
                                     "instruction": "use map"}
    assert second["arguments"][0] == {"action": "docstring"}
