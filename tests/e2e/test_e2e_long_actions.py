"""End to end: code actions whose answer is longer than one request of the serverless API.

The loopback Inference API caps ``max_new_tokens`` at 250 as the real one does; the model's
answer to ``// please write a LRU cache in C++`` is a whole class of ~900 tokens.
"""

from __future__ import annotations

from typing import Any

from actions_support import Editor, titled
from conftest import MODEL, TOKEN, Starter, shown, wait_for
from fake_backends import FakeBackend
from hf_server import FakeInferenceServer, Fault, tokenize

COMMENT = "// please write a LRU cache in C++\n"
URI = "file:///work/lru.cpp"


STATS = ("hits", "misses", "inserts", "evictions", "updates", "lookups", "erasures",
         "resizes", "clears", "peeks", "touches", "expiries", "refreshes", "promotions",
         "demotions", "spills", "loads")


def _lru_class() -> str:
    methods = "".join(
        f"""
    // how many entries were {name} since the cache was made
    std::size_t {name}_count() const {{
        std::size_t total = 0;
        for (const auto& entry : entries_) {{
            if (entry.second > {i}) {{
                total += entry.second - {i};
            }}
        }}
        return total + {name}_;
    }}
"""
        for i, name in enumerate(STATS)
    )
    fields = "".join(f"    std::size_t {name}_ = 0;\n" for name in STATS)
    return f"""#include <list>
#include <unordered_map>
#include <utility>

class LRUCache {{
public:
    explicit LRUCache(std::size_t capacity) : capacity_(capacity) {{}}

    int get(int key) {{
        auto it = index_.find(key);
        if (it == index_.end()) {{
            ++misses_;
            return -1;
        }}
        entries_.splice(entries_.begin(), entries_, it->second);
        ++hits_;
        return it->second->second;
    }}

    void put(int key, int value) {{
        auto it = index_.find(key);
        if (it != index_.end()) {{
            it->second->second = value;
            entries_.splice(entries_.begin(), entries_, it->second);
            return;
        }}
        if (entries_.size() == capacity_) {{
            index_.erase(entries_.back().first);
            entries_.pop_back();
            ++evictions_;
        }}
        entries_.emplace_front(key, value);
        index_[key] = entries_.begin();
        ++inserts_;
    }}
{methods}
private:
    std::size_t capacity_;
{fields}    std::list<std::pair<int, int>> entries_;
    std::unordered_map<int, std::list<std::pair<int, int>>::iterator> index_;
}};
"""


LRU = _lru_class()
# what the model writes after the class: more than the fourth request has room for
MAIN = "\nint main() {\n    LRUCache cache(2);\n" + "".join(
    f"    cache.put({i}, {i * i});\n    if (cache.get({i}) != {i * i}) return {i};\n"
    for i in range(40)
) + "    return 0;\n}\n"


def settings(hf: FakeInferenceServer, **extra: Any) -> dict[str, Any]:
    return {"url": hf.api_url, "apiToken": TOKEN, "context": {"includeFilePath": False},
            **extra}


async def generate(start: Starter, hf: FakeInferenceServer, **extra: Any
                   ) -> tuple[Editor, dict[str, Any]]:
    hf.models[MODEL].completion = LRU + MAIN
    editor = Editor(await start(settings(hf, **extra)))
    uri = editor.open(COMMENT, uri=URI, language="cpp")
    action = titled(await editor.actions(uri, 0, 5), "Generate code from this comment")
    return editor, await editor.run(action)


def asked(hf: FakeInferenceServer) -> list[str]:
    """The text so far that each request continued from (empty for the first)."""
    sent = hf.generation_requests()
    first = sent[0].body["inputs"]
    return [r.body["inputs"].removeprefix(first) for r in sent]


async def test_the_whole_class_is_inserted_and_nothing_is_asked_after_it_closed(
    start: Starter, hf: FakeInferenceServer
) -> None:
    assert 850 <= len(tokenize(LRU)) <= 1000
    editor, result = await generate(start, hf)
    assert result["status"] == "applied"
    assert editor.texts[URI] == COMMENT + LRU
    sent = hf.generation_requests()
    assert [r.body["parameters"]["max_new_tokens"] for r in sent] == [250] * 4
    so_far = asked(hf)
    # the last request was made while the class was still open; none after it closed
    assert [len(tokenize(s)) for s in so_far] == [0, 250, 500, 750]
    assert all(LRU.startswith(s) and not s.endswith("};\n") for s in so_far)
    assert shown(editor.client) == []


async def test_a_token_budget_keeps_the_last_complete_line_and_names_its_setting(
    start: Starter, hf: FakeInferenceServer
) -> None:
    editor, result = await generate(start, hf, longGeneration={"maxTotalNewTokens": 500})
    assert result["status"] == "applied"
    inserted = editor.texts[URI].removeprefix(COMMENT)
    assert [r.body["parameters"]["max_new_tokens"] for r in hf.generation_requests()] == [
        250, 250
    ]
    assert LRU.startswith(inserted) and inserted.endswith("\n")  # whole lines only
    cut = "".join(tokenize(LRU)[:500])
    assert len(inserted) < len(cut) and cut[len(inserted):].count("\n") <= 2
    (message,) = shown(editor.client, "stopped")
    assert message == (
        "hf-lsp: Generate code from this comment: stopped at 500 tokens "
        "(hfLsp.longGeneration.maxTotalNewTokens) before the code was complete; the answer "
        "was kept up to its last complete line. Raise hfLsp.longGeneration.maxTotalNewTokens "
        "to let it write more."
    )
    logged = [m.message for m in editor.client.log_messages if "stopped at 500" in m.message]
    assert len(logged) == 1


async def test_a_budget_stops_again_without_a_second_pop_up_and_is_not_cached(
    start: Starter, hf: FakeInferenceServer
) -> None:
    editor, _ = await generate(start, hf, actions={"generate": {"maxNewTokens": 300}})
    first = editor.texts[URI]
    editor.change(URI, COMMENT)  # the user undoes it and asks again
    action = titled(await editor.actions(URI, 0, 5), "Generate code from this comment")
    second = await editor.run(action)
    assert second["fromCache"] is False and editor.texts[URI] == first
    assert LRU.startswith(first.removeprefix(COMMENT))
    assert len(hf.generation_requests()) == 4  # 250 + 50, twice
    (message,) = shown(editor.client, "stopped")
    assert "stopped at 300 tokens (hfLsp.actions.generate.maxNewTokens)" in message
    logged = [m.message for m in editor.client.log_messages if "stopped at 300" in m.message]
    assert len(logged) == 2


async def test_a_time_budget_keeps_the_last_complete_line_and_names_its_setting(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.set_default(Fault.delay(0.7))
    editor, result = await generate(start, hf, longGeneration={"maxTotalTime": 1})
    assert result["status"] == "applied"
    assert len(hf.generation_requests()) in (1, 2)  # 0.7 s each: none starts after 1 s
    inserted = editor.texts[URI].removeprefix(COMMENT)
    assert LRU.startswith(inserted) and inserted.endswith("\n")
    (message,) = shown(editor.client, "stopped")
    assert "stopped at 1 s (hfLsp.longGeneration.maxTotalTime)" in message


async def action_on(start: Starter, server: FakeBackend, **extra: Any) -> Editor:
    url = server.base_url + ("/v1" if server.kind == "openai" else "")
    model = "Qwen/Qwen2.5-Coder-7B-Instruct" if server.kind == "openai" else "bigcode/starcoder2"
    editor = Editor(await start({"backend": server.kind, "url": url, "model": model,
                                 "context": {"includeFilePath": False}, **extra}))
    uri = editor.open(COMMENT, uri=URI, language="cpp")
    result = await editor.run(titled(await editor.actions(uri, 0, 5),
                                     "Generate code from this comment"))
    assert result["status"] == "applied"
    return editor


async def test_a_stream_stops_once_the_class_closed(start: Starter) -> None:
    # the server still has ~1,100 tokens to write (2 ms each) when the class has closed
    with FakeBackend("tgi", LRU + MAIN * 4, chunk_delay=0.002) as server:
        editor = await action_on(start, server)
        assert editor.texts[URI] == COMMENT + LRU
        (sent,) = server.generation_requests()
        assert sent.body["parameters"]["max_new_tokens"] == 2048
        await wait_for(lambda: server.closed_early == 1)  # the client closed it mid-stream


async def test_a_chat_stream_stops_once_its_code_block_closed(start: Starter) -> None:
    prose = "This cache keeps the most recently used entries first. " * 120
    answer = f"Here is an LRU cache:\n\n```cpp\n{LRU}```\n\n{prose}\n"
    with FakeBackend("openai", answer, chunk_delay=0.002) as server:
        editor = await action_on(start, server)
        assert editor.texts[URI] == COMMENT + LRU
        (sent,) = server.generation_requests()
        assert sent.body["max_tokens"] == 2048
        await wait_for(lambda: server.closed_early == 1)


async def test_a_backend_length_stop_keeps_the_last_complete_line(start: Starter) -> None:
    with FakeBackend("tgi", LRU + MAIN) as server:
        editor = await action_on(start, server, actions={"generate": {"maxNewTokens": 300}})
        inserted = editor.texts[URI].removeprefix(COMMENT)
        assert LRU.startswith(inserted) and inserted.endswith("\n")
        assert len(inserted) < len("".join(tokenize(LRU)[:300]))
        (message,) = shown(editor.client, "stopped")
        assert message.startswith("hf-lsp: Generate code from this comment: stopped at 300 "
                                  "tokens (hfLsp.actions.generate.maxNewTokens)")


async def test_implementing_a_function_asks_nothing_once_its_body_closed(
    start: Starter, hf: FakeInferenceServer
) -> None:
    source = "int checksum(const int* v, int n) {\n    // TODO\n}\n"
    body = "int total = 0;\n" + "".join(
        f"    total += v[{i}] * {i + 1};\n" for i in range(60)
    ) + "    return total;\n"
    junk = "".join(f"int helper{i}(int x) {{\n    return x + {i};\n}}\n\n" for i in range(40))
    hf.models[MODEL].completion = body + "}\n\n" + junk
    editor = Editor(await start(settings(hf)))
    uri = editor.open(source, uri="file:///work/sum.cpp", language="cpp")
    result = await editor.run(titled(await editor.actions(uri, 1, 4), "Implement"))
    assert result["status"] == "applied"
    assert editor.texts[uri] == "int checksum(const int* v, int n) {\n    " + body + "}\n"
    sent = hf.generation_requests()
    assert 250 < len(tokenize(body)) < 500 and len(sent) == 2  # the second one closed it
    assert shown(editor.client) == []
