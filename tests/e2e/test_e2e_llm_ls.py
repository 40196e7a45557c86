"""End to end: the llm-ls drop-in fields over stdio, against loopback servers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import MODEL, Starter, inline, logged, open_doc, wait_for
from fake_backends import FakeBackend
from hf_server import FakeInferenceServer, FakeModel, Serving
from pytest_lsp import LanguageClient

SOURCE = "def add(a, b):\n    \n"
QUIET = {"debounce": {"enabled": False}}


def llm_ls(uri: str, **fields: Any) -> dict[str, Any]:
    """An llm-ls/getCompletions request as llm.nvim sends it, with ``fields`` changed."""
    return {
        "textDocument": {"uri": uri},
        "position": {"line": 1, "character": 4},
        "model": MODEL,
        "backend": "huggingface",
        "url": None,
        "apiToken": None,
        "fim": {"enabled": True},
        "tokensToClear": ["<|endoftext|>"],
        "contextWindow": 2048,
        "requestBody": {"parameters": {"max_new_tokens": 60}},
        "tlsSkipVerifyInsecure": False,
        "ide": "neovim",
        "tokenizerConfig": None,
        "disableUrlPathCompletion": False,
        **fields,
    }


async def completions(client: LanguageClient, request: dict[str, Any]) -> list[str]:
    result = await client.protocol.send_request_async("llm-ls/getCompletions", request)
    return [c.generated_text for c in result.completions]


async def status(client: LanguageClient) -> Any:
    return await client.protocol.send_request_async("hfLsp/status", {})


# --- tokensToClear ------------------------------------------------------------------------


@pytest.mark.parametrize("clear", [["<pad>"], ["<pad>", "<|endoftext|>"], []],
                         ids=["named", "with-llm-nvim-default", "not-named"])
async def test_tokens_to_clear_never_appear_in_the_answer(start: Starter, clear: list[str]
                                                          ) -> None:
    with FakeInferenceServer({MODEL: FakeModel("return a<pad> + b<pad>\n")}) as hf:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        texts = await completions(client, llm_ls(uri, url=hf.api_url, tokensToClear=clear))
    if clear:
        assert texts == ["return a + b"]
    else:  # the control: the fake really sends the marker
        assert texts == ["return a<pad> + b<pad>"]


async def test_tokens_to_clear_as_an_hf_lsp_setting_cleans_inline_completions(
    start: Starter,
) -> None:
    with FakeInferenceServer({MODEL: FakeModel("return a<pad> + b\n")}) as hf:
        client = await start({"url": hf.api_url, "tokensToClear": ["<pad>"], **QUIET})
        uri = open_doc(client, SOURCE)
        assert [i.insert_text for i in await inline(client, uri, 1, 4)] == ["return a + b"]


# --- disableUrlPathCompletion -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "route", "model"),
    [
        pytest.param("tgi", "/generate", "bigcode/starcoder2-3b", id="tgi"),
        pytest.param("tgi", "/generate_stream", "bigcode/starcoder2-3b", id="tgi-stream"),
        pytest.param("ollama", "/api/generate", "starcoder2:3b", id="ollama"),
        pytest.param("openai", "/v1/completions", "bigcode/starcoder2-3b", id="openai"),
    ],
)
async def test_disable_url_path_completion_posts_to_the_url_as_given(
    start: Starter, kind: Any, route: str, model: str
) -> None:
    with FakeBackend(kind, "return a + b\n") as server:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        request = llm_ls(uri, backend=kind, model=model, url=server.base_url + route,
                         disableUrlPathCompletion=True)
        assert await completions(client, request) == ["return a + b"]
        assert await completions(client, {**request, "position": {"line": 1, "character": 3}})
        assert [r.path for r in server.requests if r.method == "POST"] == [route, route]


async def test_with_path_completion_the_route_is_appended(start: Starter) -> None:
    with FakeBackend("tgi", "return a + b\n") as server:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        request = llm_ls(uri, backend="tgi", model="bigcode/starcoder2-3b",
                         url=server.base_url + "/generate")
        assert await completions(client, request) == []
        assert [r.path for r in server.requests if r.method == "POST"] == [
            "/generate/generate_stream"
        ]


# --- tlsSkipVerifyInsecure ----------------------------------------------------------------


async def test_tls_skip_verify_turns_verification_off_with_one_warning(start: Starter) -> None:
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as hf:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        request = llm_ls(uri, url=hf.api_url, tlsSkipVerifyInsecure=True)
        assert await completions(client, request) == ["return a + b"]
        await completions(client, {**request, "position": {"line": 1, "character": 3}})
    warnings = logged(client, "TLS verification is OFF")
    assert len(warnings) == 1 and "network.tlsVerify=false" in warnings[0]
    assert not logged(client, "ignored")


async def test_tls_is_verified_when_llm_ls_does_not_ask_otherwise(start: Starter) -> None:
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as hf:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        assert await completions(client, llm_ls(uri, url=hf.api_url)) == ["return a + b"]
    assert not logged(client, "TLS verification is OFF")


# --- tokenizerConfig ----------------------------------------------------------------------


def build_tokenizer(path: Path) -> bytes:
    """A tiny BPE tokenizer.json, trained here: nothing comes from the internet."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=280, show_progress=False,
                                  special_tokens=["<unk>", "<fim_prefix>", "<fim_suffix>",
                                                  "<fim_middle>"])
    tokenizer.train_from_iterator(["def add(a, b):\n    return a + b\n"] * 8, trainer)
    tokenizer.save(str(path))
    return path.read_bytes()


class FileServer(Serving):
    """A loopback server of one file, behind a Hub-like redirect; it records every GET."""

    def __init__(self, body: bytes | None) -> None:
        self.body = body
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.paths.append(self.path)
                if self.path == "/org/tok/resolve/main/tokenizer.json":
                    self.send_response(302)
                    self.send_header("Location", "/cdn/tokenizer.json")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/cdn/tokenizer.json" and server.body is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(server.body)))
                    self.end_headers()
                    self.wfile.write(server.body)
                else:
                    self.send_error(404)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hf() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as server:
        yield server


async def counter_after_requests(client: LanguageClient, request: dict[str, Any],
                                 wanted: str) -> str:
    """Ask again until the status names ``wanted`` (the download runs in the background)."""
    seen = ""
    for line in range(40):
        await completions(client, {**request, "position": {"line": 1, "character": line % 5}})
        seen = (await status(client)).tokenCounter
        if seen == wanted:
            break
        await asyncio.sleep(0.05)
    return seen


async def test_tokenizer_url_is_downloaded_into_to_and_then_counts_tokens(
    start: Starter, hf: FakeInferenceServer, tmp_path: Path
) -> None:
    served = build_tokenizer(tmp_path / "made.json")
    to = tmp_path / "cache" / "tokenizers" / "tokenizer.json"
    with FileServer(served) as files:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        request = llm_ls(uri, url=hf.api_url, tokenizerConfig={
            "url": files.url + "/org/tok/resolve/main/tokenizer.json", "to": str(to)})
        assert await completions(client, request) == ["return a + b"]
        assert (await status(client)).tokenCounter == "estimate"  # until it is there
        await wait_for(to.exists)
        assert await counter_after_requests(client, request, f"tokenizer {to}") == (
            f"tokenizer {to}"
        )
        assert to.read_bytes() == served
        assert files.paths == ["/org/tok/resolve/main/tokenizer.json", "/cdn/tokenizer.json"]
    assert [p.name for p in to.parent.iterdir()] == ["tokenizer.json"]


async def test_an_existing_to_file_is_used_without_a_download(
    start: Starter, hf: FakeInferenceServer, tmp_path: Path
) -> None:
    to = tmp_path / "tokenizer.json"
    build_tokenizer(to)
    with FileServer(None) as files:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        request = llm_ls(uri, url=hf.api_url,
                         tokenizerConfig={"url": files.url + "/cdn/tokenizer.json",
                                          "to": str(to)})
        assert await completions(client, request) == ["return a + b"]
        assert (await status(client)).tokenCounter == f"tokenizer {to}"
        assert files.paths == []


async def test_a_failed_tokenizer_download_is_logged_once_and_tokens_are_estimated(
    start: Starter, hf: FakeInferenceServer, tmp_path: Path
) -> None:
    to = tmp_path / "tokenizer.json"
    with FileServer(None) as files:
        client = await start(QUIET)
        uri = open_doc(client, SOURCE)
        request = llm_ls(uri, url=hf.api_url,
                         tokenizerConfig={"url": files.url + "/cdn/tokenizer.json",
                                          "to": str(to)})
        assert await completions(client, request) == ["return a + b"]
        await wait_for(lambda: logged(client, "cannot download the tokenizer"))
        for line in range(3):
            await completions(client, {**request, "position": {"line": 1, "character": line}})
        assert (await status(client)).tokenCounter == "estimate"
        assert files.paths == ["/cdn/tokenizer.json"]
    assert len(logged(client, "cannot download the tokenizer")) == 1
    assert not to.exists()
