"""Drive the real hf-lsp over stdio against the loopback Inference API and print the figures.

    .venv/bin/python bench/run.py            # everything (about two minutes)
    .venv/bin/python bench/run.py hits miss  # some sections only

Sections: hits (cache-hit round trip), miss (server overhead on a miss, 5k and 50k lines;
invoked misses with the debounce on),
typing (a replayed typing session at a human rhythm, with and without typing-through, with
one answer and streamed),
edits (1,000 incremental edits on a 1 MB file), startup (initialize answered, idle RSS,
against a bare pygls server started the same way), syntax (in process: the cursor's spot
decision and the code-action listing, with and without tree-sitter), holes (exact blocks
on holes cut from real source files, see bench/holes.py). Targets from issue 4
are printed beside each figure with the ratio figure/target.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
sys.path.insert(0, str(HERE))

import hf_server  # noqa: E402
from fake_backends import _TGI, FakeBackend, continuation  # noqa: E402
from hf_server import FakeInferenceServer, FakeModel, Fault, _json_reply, generate  # noqa: E402
from lsp_client import PYTHON, StdioClient, cpu_ms, rss_mb  # noqa: E402

# the loopback API writes headers and body separately: without this, Nagle's algorithm and
# the client's delayed ACK add ~40 ms to every answer, which is the fake's cost, not hf-lsp's
hf_server._Handler.disable_nagle_algorithm = True

MODEL = "bigcode/starcoder2-15b"
SERVER = [PYTHON, "-m", "hf_lsp"]
URI = "file:///bench/demo.py"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, value: float, unit: str, target: float | None = None, lower: bool = True
         ) -> None:
    text = f"  {name:<58} {value:10.2f} {unit:<5}"
    if target is not None:
        ok = value <= target if lower else value >= target
        text += f"  target {'≤' if lower else '≥'} {target:g} {unit}  ratio {value / target:5.2f}"
        text += "  ok" if ok else "  MISSED"
    print(text, flush=True)


class TimedServer(FakeInferenceServer):
    """The loopback API, noting each request's time on the backend's side.

    From its headers read to its answer written.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.backend_ms: list[float] = []


_plain_handle = hf_server._Handler._handle


def _timed_handle(self: Any) -> None:
    t0 = time.perf_counter()
    try:
        _plain_handle(self)
    finally:
        fake = self.server.fake
        if isinstance(fake, TimedServer):
            fake.backend_ms.append((time.perf_counter() - t0) * 1000)


hf_server._Handler._handle = _timed_handle  # type: ignore[method-assign]


async def open_client(options: dict[str, Any]) -> StdioClient:
    client = StdioClient(SERVER)
    await client.start()
    await client.initialize(options)
    return client


def did_open(client: StdioClient, text: str, uri: str = URI) -> None:
    client.notify("textDocument/didOpen", {
        "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})


def inline_params(line_no: int, col: int, uri: str = URI, kind: int = 2) -> dict[str, Any]:
    """An inline completion request; ``kind`` 1 is Invoked, 2 Automatic."""
    return {"textDocument": {"uri": uri}, "position": {"line": line_no, "character": col},
            "context": {"triggerKind": kind}}


def items(result: Any) -> list[str]:
    if not isinstance(result, dict) or "items" not in result:
        return []
    return [i["insertText"] for i in result["items"]]


# --- sections ---------------------------------------------------------------------------


async def hits() -> None:
    print("cache-hit round trip (same cursor, 1,000 requests after one miss)")
    with FakeInferenceServer({MODEL: FakeModel("return a + b\n")}) as hf:
        client = await open_client({"url": hf.api_url, "model": MODEL,
                                    "debounce": {"enabled": False}})
        did_open(client, "def add(a, b):\n    \n")
        assert items(await client.request("textDocument/inlineCompletion", inline_params(1, 4)))
        times = []
        for _ in range(1000):
            t0 = time.perf_counter()
            await client.request("textDocument/inlineCompletion", inline_params(1, 4))
            times.append((time.perf_counter() - t0) * 1000)
        baseline = []
        for _ in range(1000):  # the same server answering a request that does nothing much
            t0 = time.perf_counter()
            await client.request("hfLsp/status", {})
            baseline.append((time.perf_counter() - t0) * 1000)
        status = await client.request("hfLsp/status", {})
        await client.stop()
    line("hit p50", pct(times, 0.5), "ms", 1.0)
    line("hit p99", pct(times, 0.99), "ms", 5.0)
    line("baseline (hfLsp/status) p50", pct(baseline, 0.5), "ms")
    line("baseline (hfLsp/status) p99", pct(baseline, 0.99), "ms")
    print(f"  (backend calls {status['backendCalls']}, cache hits {status['cacheHits']})")


def big_file(lines: int) -> str:
    body = []
    for i in range(lines // 4):
        body.append(f"def function_{i}(value, other):\n    total = value * {i} + other\n"
                    f"    return total\n\n")
    return "".join(body)


async def miss() -> None:
    print("server overhead on a miss: round trip − backend time (cache off, no debounce)")
    for size, target in ((5_000, 3.0), (50_000, 10.0)):
        overheads = await miss_overheads(size, {"debounce": {"enabled": False},
                                                "suggestions": {"typingThrough": False}}, 2)
        line(f"miss overhead p50, {size:,} lines", pct(overheads, 0.5), "ms", target)
        line(f"miss overhead p95, {size:,} lines", pct(overheads, 0.95), "ms")
    # invoked (triggerKind 1) with the default settings, debounce on: it must not hold them
    overheads = await miss_overheads(5_000, {}, 1)
    line("invoked miss overhead p50, 5,000 lines (debounce on)", pct(overheads, 0.5), "ms", 3.0)
    line("invoked miss overhead p95, 5,000 lines (debounce on)", pct(overheads, 0.95), "ms")


async def miss_overheads(size: int, options: dict[str, Any], kind: int) -> list[float]:
    """Round trip − backend time of 200 misses in a ``size``-line file (cache off)."""
    text = big_file(size)
    with TimedServer({MODEL: FakeModel("result = value + other\n")}) as hf:
        client = await open_client({"url": hf.api_url, "model": MODEL, "cache": {"size": 0},
                                    **options})
        did_open(client, text)
        cursor = size // 2
        await client.request("textDocument/inlineCompletion", inline_params(cursor, 4, kind=kind))
        hf.backend_ms.clear()
        overheads = []
        for i in range(200):
            t0 = time.perf_counter()
            await client.request("textDocument/inlineCompletion",
                                 inline_params(cursor + (i % 3) * 4, 4, kind=kind))
            total = (time.perf_counter() - t0) * 1000
            overheads.append(total - hf.backend_ms[-1])
        await client.stop()
    return overheads


TARGET_CODE = '''\
def mean(values):
    total = 0
    for value in values:
        total += value
    return total / len(values)


def variance(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)
'''


class OracleServer(FakeInferenceServer):
    """A model that knows the file being typed: it answers the next two lines.

    It is wrong a quarter of the time (the last word changed) and answers after ``latency``.
    """

    def __init__(self, target: str, latency: float) -> None:
        super().__init__({MODEL: FakeModel("")})
        self.target = target
        self.latency = latency

    def _generation_reply(self, model: Any, body: Any, started: float) -> Any:
        time.sleep(self.latency)
        params = body.get("parameters") or {}
        stops = [s for s in params.get("stop", []) if isinstance(s, str)]
        text, _ = generate(oracle(self.target, body["inputs"]), params.get("max_new_tokens", 8),
                           stops)
        return _json_reply(200, [{"generated_text": text}])


def oracle(target: str, prompt: str) -> str:
    """The next two lines of ``target`` after the prompt's prefix, wrong a quarter of the time."""
    prefix = prompt.split("<fim_prefix>", 1)[1].split("<fim_suffix>", 1)[0]
    if prefix.startswith("# Path:"):
        prefix = prefix.split("\n", 1)[1]
    if not target.startswith(prefix):
        return "pass\n"
    rest = target[len(prefix):]
    cut = rest.find("\n", rest.find("\n") + 1)
    text = rest[: cut if cut >= 0 else len(rest)]
    if random.Random(len(prefix)).random() < 0.25:
        text = text.rstrip() + "_x"  # a plausible but wrong ending
    return text


class _OracleTGI(_TGI):
    """TGI's wire format (``/generate_stream``, SSE) for the oracle's answers."""

    picked = threading.local()

    def generation(self, request: Any, raw: bytes, stream: bool) -> Any:
        target: str = self.backend.completion
        self.picked.text = oracle(target, json.loads(raw).get("inputs", ""))
        return super().generation(request, raw, stream)

    def generate(self, limit: int | None, stops: Any) -> Any:
        return continuation(self.picked.text, limit, stops, include_stop=True)


class StreamingOracle(FakeBackend):
    """The oracle as a TGI server streaming token by token: first token after ``first``."""

    def __init__(self, target: str, first: float, per_token: float) -> None:
        super().__init__("tgi", target, chunk_delay=per_token)
        self._protocol = _OracleTGI(self)
        self.set_default(Fault.delay(first))


def rhythm(text: str, seed: int = 7) -> list[float]:
    """The gap before each keystroke: quick keys, a pause after words, a longer one after lines."""
    rng = random.Random(seed)
    gaps = []
    for i, ch in enumerate(text):
        previous = text[i - 1] if i else "\n"
        if previous == "\n" and ch != " ":
            gaps.append(rng.uniform(0.8, 1.2))
        elif previous == "\n" or (previous in " (:" and ch != " "):
            gaps.append(rng.uniform(0.3, 0.5) if previous != "\n" else rng.uniform(0.8, 1.2))
        else:
            gaps.append(rng.uniform(0.05, 0.12))
    return gaps


async def typing_session(typing_through: bool, latency: float, streaming: bool = False
                         ) -> tuple[float, float, int, int, int]:
    if streaming:  # about the same total time: the first token, then the rest as it comes
        model: Any = StreamingOracle(TARGET_CODE, latency * 0.5, latency * 0.04)
        options: dict[str, Any] = {"backend": "tgi", "model": MODEL}
    else:
        model, options = OracleServer(TARGET_CODE, latency), {}
    with model as hf:
        client = await open_client({
            **options, "url": hf.base_url if streaming else hf.api_url, "model": MODEL,
            "suggestions": {"typingThrough": typing_through},
        })
        did_open(client, "")
        gaps = rhythm(TARGET_CODE)
        version, row, col = 1, 0, 0
        outstanding: tuple[int, asyncio.Future[Any]] | None = None
        pauses = right = 0
        for pos, ch in enumerate(TARGET_CODE):
            gap = gaps[pos]
            await asyncio.sleep(gap)
            if gap >= 0.3 and pos > 0 and outstanding is not None:
                pauses += 1  # what is showing at the end of this pause?
                future = outstanding[1]
                shown = items(future.result()) if future.done() else []
                rest = TARGET_CODE[pos:]
                if shown and shown[0].strip() and rest.startswith(shown[0]):
                    right += 1
            version += 1
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": URI, "version": version},
                "contentChanges": [{"range": {"start": {"line": row, "character": col},
                                              "end": {"line": row, "character": col}},
                                    "text": ch}]})
            row, col = (row + 1, 0) if ch == "\n" else (row, col + 1)
            if outstanding is not None and not outstanding[1].done():
                client.cancel(outstanding[0])  # as VS Code does on the next keystroke
            outstanding = client.send("textDocument/inlineCompletion", inline_params(row, col))
        await asyncio.sleep(latency + 0.2)
        status = await client.request("hfLsp/status", {})
        await client.stop()
        keys = len(TARGET_CODE)
        calls = len(hf.generation_requests())
    return (calls * 100 / keys, right * 100 / max(1, pauses), status["typingThroughHits"],
            status.get("typingThroughStreams", 0), pauses)


async def typing() -> None:
    latency = 0.35
    print(f"replayed typing session: {len(TARGET_CODE)} keystrokes, model latency "
          f"{latency * 1000:.0f} ms, a model right 3 times in 4")
    for streaming in (False, True):
        kind = "streamed (TGI), " if streaming else ""
        for through in (False, True):
            per100, right, hits_, streams, pauses = await typing_session(
                through, latency, streaming
            )
            label = f"{kind}{'with' if through else 'without'}"
            line(f"backend requests / 100 keystrokes, {label} typing-through", per100, "req",
                 15)
            line(f"right suggestion showing at pauses, {label} typing-through", right, "%", 60,
                 lower=False)
            print(f"  ({pauses} pauses; typing-through hits {hits_}, {streams} of them "
                  "through a suggestion still streaming)")


async def edits() -> None:
    print("1,000 incremental edits on a 1 MB file (didChange … then a request to sync)")
    text = "".join(f"line_{i:06d} = compute({i}, 'padding-text')\n" for i in range(24_000))
    client = await open_client({})
    did_open(client, text)
    await client.request("hfLsp/status", {})
    t0 = time.perf_counter()
    for i in range(1000):
        row = (i * 23) % 24_000
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": URI, "version": i + 2},
            "contentChanges": [{"range": {"start": {"line": row, "character": 5},
                                          "end": {"line": row, "character": 5}},
                                "text": "x"}]})
    await client.drain()
    status = await client.request("hfLsp/status", {})
    elapsed = time.perf_counter() - t0
    await client.stop()
    print(f"  (file {len(text) / 1e6:.2f} MB, {status['documents']} document)")
    line("1,000 edits applied", elapsed * 1000, "ms", 1000)


async def startup_once(command: list[str]) -> tuple[float, float, float]:
    client = StdioClient(command)
    started = await client.start()
    await client.initialize({})
    ready = (time.perf_counter() - started) * 1000
    cpu = cpu_ms(client.pid)  # may include a little of what runs right after the answer
    await asyncio.sleep(0.5)
    rss = rss_mb(client.pid)
    await client.stop()
    return ready, rss, cpu


async def startup() -> None:
    print("start-up to `initialize` answered, and idle RSS (median of 5)")
    # pip byte-compiles an installed package, and pygls was; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would compile hf-lsp's sources at every start instead
    import compileall

    compileall.compile_dir(str(HERE.parent / "hf_lsp"), quiet=1)
    ours, bare = [], []
    for _ in range(5):  # interleaved, so that machine load falls on both alike
        ours.append(await startup_once(SERVER))
        bare.append(await startup_once([PYTHON, str(HERE / "bare_server.py")]))
    ours_ms = statistics.median(r for r, _, _ in ours)
    bare_ms = statistics.median(r for r, _, _ in bare)
    line("hf-lsp initialize answered", ours_ms, "ms")
    line("bare pygls initialize answered", bare_ms, "ms")
    line("hf-lsp / bare pygls (medians)", ours_ms / bare_ms, "×", 1.2)
    fastest = min(r for r, _, _ in ours) / min(r for r, _, _ in bare)
    line("hf-lsp / bare pygls (fastest of 5 each: less load noise)", fastest, "×", 1.2)
    # CPU time to the answer: what a loaded machine's waiting for a core does not inflate
    ours_cpu = statistics.median(c for _, _, c in ours)
    bare_cpu = statistics.median(c for _, _, c in bare)
    line("hf-lsp CPU time to the answer", ours_cpu, "ms")
    line("bare pygls CPU time to the answer", bare_cpu, "ms")
    line("hf-lsp / bare pygls, CPU time (medians)", ours_cpu / bare_cpu, "×", 1.2)
    line("hf-lsp idle RSS", statistics.median(m for _, m, _ in ours), "MB", 60)
    line("bare pygls idle RSS", statistics.median(m for _, m, _ in bare), "MB")


def _median_ms(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def syntax() -> None:
    """In process: the cursor's spot decision per keystroke, and listing code actions."""
    from hf_lsp.actions.catalog import Region, offers
    from hf_lsp.config.settings import Settings
    from hf_lsp.language.context import window
    from hf_lsp.language.document import Document

    settings = Settings()
    body = "".join(f"def f{i}(a, b):\n    total = a + b * {i}\n    return total\n\n"
                   for i in range(50))
    print("the cursor's spot (prefix and suffix windows + decision), 1,000 times each, "
          "a 200-line Python window")
    cursors = {
        "end of a line (no parse)": ("x = compute(1)", "", ""),
        "before an auto-closed `)`": ("x = compute(", ")", ""),
        "after a block opener": ("if ready:", "", ""),
        "mid-word": ("x = comp", "ute(1)", ""),
    }
    for name, (before, after, _) in cursors.items():
        text = body + before + after + "\n" + body
        row = body.count("\n")
        for language in ("python", ""):
            doc = Document("file:///bench/spot.py", text, language)
            window(doc, row, len(before), settings.context)  # grammar loaded
            at = len(before)
            took = _median_ms(lambda d=doc, r=row, c=at: [
                window(d, r, c, settings.context) for _ in range(1000)], 3) / 1000
            grammar = "tree-sitter" if language else "rules only"
            line(f"{name}, {grammar}", took, "ms")
    print("listing code actions (`offers`) in a 5,000-line file, median of 20")
    ts = "".join(f"export const f{i} = (a: number): number => {{\n  const b = a + {i};\n"
                 "  return b;\n}};\n\n" for i in range(1000))
    py = "".join(f"def f{i}(a):\n    b = a + {i}\n    c = b * 2\n    return c\n\n"
                 for i in range(1000))
    for language, text in (("typescript", ts), ("python", py)):
        lines = Document("file:///bench/x", text, language).lines
        offers(lines, language, Region(2, 2, 2, 2), settings)
        took = _median_ms(lambda ls=lines, lang=language: offers(
            ls, lang, Region(2502, 2, 2502, 2), settings), 20)
        line(f"{language}, cursor in a function mid-file", took, "ms")


async def holes() -> None:
    """Exact blocks on holes cut from real files (in process; details: bench/holes.py)."""
    import holes as cut

    print("exact blocks on holes cut from real source files, the answer running on past them")
    for language in cut.SOURCES:
        rate, count = cut.exact_rate(language)
        if count:
            line(f"{language} ({count} holes)", rate, "%", 95, lower=False)


SECTIONS = {"hits": hits, "miss": miss, "typing": typing, "edits": edits, "startup": startup,
            "syntax": syntax, "holes": holes}


async def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory():
        for name in names or list(SECTIONS):
            await SECTIONS[name]()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
