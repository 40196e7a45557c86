"""End to end: hf-lsp over stdio against the loopback Inference API."""

from __future__ import annotations

from conftest import CONTINUATION, MODEL, TOKEN, Starter, inline, open_doc
from hf_server import FakeInferenceServer
from lsprotocol import types

SOURCE = "def add(a, b):\n    \n"


async def test_inline_completion_sends_the_right_request(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url, "apiToken": TOKEN})
    uri = open_doc(client, SOURCE)
    items = await inline(client, uri, 1, 4)

    assert [i.insert_text for i in items] == ["return a + b"]
    assert items[0].range == types.Range(
        start=types.Position(line=1, character=4), end=types.Position(line=1, character=4)
    )
    (sent,) = hf.generation_requests()
    assert sent.path == f"/models/{MODEL}"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    params = sent.body["parameters"]
    assert params["max_new_tokens"] == 160  # under a block opener
    assert params["return_full_text"] is False
    assert sent.body["options"] == {"use_cache": True, "wait_for_model": False}
    prompt = sent.body["inputs"]
    assert prompt.startswith("<fim_prefix># Path: /work/demo.py\ndef add(a, b):\n    ")
    assert prompt.endswith("<fim_suffix>\n<fim_middle>")
    assert CONTINUATION not in prompt


async def test_the_prompt_names_the_file_relative_to_the_workspace(
    start: Starter, hf: FakeInferenceServer
) -> None:
    client = await start({"url": hf.api_url}, root_uri="file:///work")
    uri = open_doc(client, "fn add(a: i32, b: i32) -> i32 {\n    \n}\n",
                   uri="file:///work/src/my%20lib.rs", language="rust")
    await inline(client, uri, 1, 4)
    prompt = hf.generation_requests()[0].body["inputs"]
    assert prompt.startswith("<fim_prefix>// Path: src/my lib.rs\nfn add(")
