"""What start-up does before `initialize` is answered (the figures: ``bench/run.py startup``)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest

from hf_lsp.config import settings
from hf_lsp.lsp.server import HfLanguageServer, create_server


class Writer:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data.extend(data)

    def messages(self) -> list[dict[str, Any]]:
        out, rest = [], bytes(self.data)
        while rest:
            head, _, rest = rest.partition(b"\r\n\r\n")
            length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
            out.append(json.loads(rest[:length]))
            rest = rest[length:]
        return out


def receive(server: HfLanguageServer, message: dict[str, Any]) -> None:
    """One message, as the reader hands it to the protocol."""
    server.protocol.handle_message(server.protocol.structure_message(message))


def initialize(options: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"capabilities": {}, "initializationOptions": options}}


def answers(writer: Writer) -> list[dict[str, Any]]:
    return [m for m in writer.messages() if m.get("id") == 1]


async def test_initialize_is_answered_before_the_settings_are_read() -> None:
    settings.converter.cache_clear()
    server = create_server()
    writer = Writer()
    server.protocol.set_writer(writer)
    receive(server, initialize({"hfLsp": {"model": "org/coder", "maxNewTokens": {"midLine": 7}}}))
    # answered at once, before the settings converter (~25 ms to build) exists
    (answer,) = answers(writer)
    assert "capabilities" in answer["result"]
    assert settings.converter.cache_info().currsize == 0
    assert server.initial_settings is not None
    await asyncio.wait({server.initial_settings})
    assert server.configuration.settings.model == "org/coder"
    assert server.configuration.settings.max_new_tokens.mid_line == 7


async def test_bad_initialization_options_are_still_reported() -> None:
    server = create_server()
    writer = Writer()
    server.protocol.set_writer(writer)
    receive(server, initialize({"hfLsp": {"maxNewTokens": {"midLine": "many"}}}))
    assert answers(writer)
    assert server.initial_settings is not None
    await asyncio.wait({server.initial_settings})
    shown = [m["params"]["message"] for m in writer.messages()
             if m.get("method") == "window/showMessage"]
    assert len(shown) == 1 and shown[0].startswith("hf-lsp: invalid settings: hfLsp.")
    assert server.configuration.settings.model == settings.DEFAULT_MODEL


@pytest.mark.parametrize("argv", [[], ["--stdio"]], ids=["no-arguments", "stdio"])
def test_a_plain_serve_command_is_read_without_argparse_as_argparse_reads_it(
    argv: list[str],
) -> None:
    import hf_lsp.cli.main as cli

    fast = cli.serve_stdio_args(tuple(argv))
    assert fast is not None
    assert vars(fast) == vars(cli.build_parser().parse_args(argv))
    assert cli.serve_stdio_args(("--tcp",)) is None


def test_start_up_leaves_out_what_only_later_work_needs() -> None:
    code = (
        "import sys; from hf_lsp.cli import main as cli; "
        "from hf_lsp.lsp.server import create_server; "
        "cli.serve_stdio_args(()); create_server(); "
        "print(sorted(m for m in ('argparse', 'sqlite3', 'hashlib', 'tempfile', 'shutil', "
        "'importlib.abc', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
