"""Document sync fuzzing through the LSP: random incremental edits, checked through the prompt.

After every ``didChange`` the server is asked for an inline completion at (0, 0); with no file
header, unbounded windows and no cache the prompt it sends is
``<fim_prefix><fim_suffix>{the whole document}<fim_middle>``, so the document the server
holds is read back from the loopback Inference API and compared with the truth kept here.
Positions are computed in the negotiated ``positionEncoding``'s units (LSP 3.17), by an
oracle written independently of ``hf_lsp.language.document``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CONTINUATION, MODEL
from hf_server import FakeInferenceServer, FakeModel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_thread import ThreadedServer
from lsprotocol import types

ENCODINGS = ["utf-8", "utf-16", "utf-32"]
EXAMPLES = 80  # x up to 20 steps x up to 6 changes: ~2000 edits per encoding, ~10 s each

# pieces that stress the line and unit arithmetic: every LSP line break, characters of 1-4
# UTF-8 bytes and 1-2 UTF-16 units, combining marks and ZWJ sequences, and characters
# Python's str.splitlines() takes for line breaks although LSP does not
PIECES = [
    "a", "b", "z", "_", " ", "\t", "(", ")", ":", "0",
    "\n", "\r\n", "\r", "\n\n", "\r\r\n",
    "é", "e\u0301", "ß", "€", "中文", "한", "\u0915\u094d\u0937",
    "😀", "𝒳", "👩\u200d💻", "🇫🇷", "\U0010fffd",
    "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029",
]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)

_BREAK = re.compile(r"\r\n|\r|\n")


def units(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8"))
    if encoding == "utf-16":
        return 2 if ord(ch) > 0xFFFF else 1
    return 1


class Truth:
    """The document as LSP defines it: lines end at \\n, \\r\\n or \\r; nothing else."""

    def __init__(self, text: str) -> None:
        self.text = text

    def lines(self) -> list[tuple[int, str]]:
        """(offset of the line in the text, the line's content without its break)."""
        out, start = [], 0
        for m in _BREAK.finditer(self.text):
            out.append((start, self.text[start:m.start()]))
            start = m.end()
        out.append((start, self.text[start:]))
        return out

    def offset(self, line: int, character: int, encoding: str) -> int:
        lines = self.lines()
        if line >= len(lines):
            return len(self.text)  # past the last line: the end of the document
        start, content = lines[line]
        count = 0
        for index, ch in enumerate(content):
            if count >= character:
                return start + index
            count += units(ch, encoding)
        return start + len(content)  # past the end of the line: the end of that line

    def column(self, content: str, index: int, encoding: str) -> int:
        return sum(units(ch, encoding) for ch in content[:index])

    def apply(self, start: int, end: int, new: str) -> None:
        self.text = self.text[:start] + new + self.text[end:]


@st.composite
def position(draw: st.DrawFn, truth: Truth, encoding: str) -> types.Position:
    lines = truth.lines()
    line = draw(st.integers(0, len(lines) + 1))  # a line or two past the document, too
    if line >= len(lines):
        return types.Position(line, draw(st.integers(0, 5)))
    content = lines[line][1]
    if draw(st.integers(0, 5)) == 0:  # past the end of the line
        return types.Position(line, truth.column(content, len(content), encoding)
                              + draw(st.integers(1, 4)))
    index = draw(st.integers(0, len(content)))
    return types.Position(line, truth.column(content, index, encoding))


@st.composite
def change(draw: st.DrawFn, truth: Truth, encoding: str) -> types.TextDocumentContentChangeEvent:
    """One change, applied to ``truth`` as it is drawn."""
    if draw(st.integers(0, 40)) == 0:
        text = draw(texts)
        truth.text = text
        return types.TextDocumentContentChangeWholeDocument(text=text)
    a, b = draw(position(truth, encoding)), draw(position(truth, encoding))
    oa, ob = truth.offset(a.line, a.character, encoding), truth.offset(b.line, b.character,
                                                                        encoding)
    if (oa, a.line, a.character) > (ob, b.line, b.character):
        a, b, oa, ob = b, a, ob, oa
    kind = draw(st.sampled_from(["insert", "delete", "replace"]))
    if kind == "insert":
        b, ob = a, oa
    new = "" if kind == "delete" else draw(texts)
    truth.apply(oa, ob, new)
    return types.TextDocumentContentChangePartial(range=types.Range(start=a, end=b), text=new)


def capabilities(encoding: str) -> types.ClientCapabilities:
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[encoding]),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()),
    )


@pytest.fixture(scope="module")
def hf() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel(CONTINUATION)}) as server:
        yield server


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_servers_document_equals_the_truth_after_every_edit(
    tmp_path: Path, hf: FakeInferenceServer, encoding: str
) -> None:
    server = ThreadedServer(tmp_path)
    uris = (f"file:///fuzz/{encoding}/doc{i}.py" for i in itertools.count())
    try:
        result = server.start(
            {"context": {"includeFilePath": False, "maxPrefixChars": 1_000_000,
                         "maxSuffixChars": 1_000_000, "maxPrefixLines": 100_000,
                         "maxSuffixLines": 100_000},
             "cache": {"size": 0}, "url": hf.api_url, "model": MODEL,
             "debounce": {"enabled": False},  # each request would wait for the next edit
             "rateLimit": {"requestsPerMinute": 0}},  # thousands of requests a minute
            capabilities(encoding),
        )
        assert result.capabilities.position_encoding == encoding
        client = server.client
        assert client is not None
        edits = [0]

        def prompt_after(step: str, truth: Truth, uri: str) -> None:
            server.inline(uri, 0, 0)
            seen = hf.generation_requests()[-1].body["inputs"]
            expected = f"<fim_prefix><fim_suffix>{truth.text}<fim_middle>"
            assert seen == expected, f"{step}: server {seen!r} != truth {expected!r}"

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(initial=texts, data=st.data())
        def run(initial: str, data: st.DataObject) -> None:
            uri = next(uris)
            truth = Truth(initial)
            server.notify(client.text_document_did_open, types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                     text=initial)))
            prompt_after("open", truth, uri)
            for version in range(2, 2 + data.draw(st.integers(1, 20), label="steps")):
                changes = [data.draw(change(truth, encoding), label=f"v{version}")
                           for _ in range(data.draw(st.integers(1, 6)))]
                edits[0] += len(changes)
                server.notify(client.text_document_did_change,
                              types.DidChangeTextDocumentParams(
                                  text_document=types.VersionedTextDocumentIdentifier(
                                      uri=uri, version=version),
                                  content_changes=changes))
                prompt_after(f"version {version}: {changes!r}", truth, uri)
            server.notify(client.text_document_did_close, types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))

        run()
        print(f"{encoding}: {edits[0]} edits")
        assert edits[0] >= EXAMPLES
    finally:
        server.close()
