"""End to end: code actions over stdio against the loopback Inference API (FIM, StarCoder2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from actions_support import Editor, command_argument, progress_kinds, titled
from conftest import MODEL, TOKEN, Starter, shown, wait_for
from hf_server import FakeInferenceServer, FakeModel, Fault, tokenize
from lsprotocol import types

SOURCE = '''import math


# return the area of a circle of radius r
x = 1


def mul(a, b):
    """Multiply two numbers."""
    pass


def div(a, b):
    return a / b
'''


def settings(hf: FakeInferenceServer, **extra: Any) -> dict[str, Any]:
    return {"url": hf.api_url, "apiToken": TOKEN, "context": {"includeFilePath": False},
            **extra}


def answer(hf: FakeInferenceServer, text: str) -> None:
    hf.models[MODEL].completion = text


async def editor_for(start: Starter, hf: FakeInferenceServer, text: str = SOURCE,
                     profile: str = "vscode", **extra: Any) -> tuple[Editor, str]:
    client = await start(settings(hf, **extra), profile=profile)
    editor = Editor(client)
    return editor, editor.open(text)


async def test_listing_offers_what_applies_where(start: Starter, hf: FakeInferenceServer) -> None:
    editor, uri = await editor_for(
        start, hf, actions={"custom": [{"title": "Add type hints", "prompt": "Add hints"}]}
    )
    on_comment = await editor.actions(uri, 3, 5)
    assert [(a.title, a.kind) for a in on_comment] == [
        ("Generate code from this comment (hf-lsp)", types.CodeActionKind.RefactorRewrite)
    ]
    assert command_argument(on_comment[0]) == {
        "action": "generate", "uri": uri, "version": 1,
        "range": {"start": {"line": 3, "character": 5}, "end": {"line": 3, "character": 5}},
    }
    in_stub = await editor.actions(uri, 9, 4)
    assert [a.title for a in in_stub] == [
        "Implement this function (hf-lsp)", "Explain this function (hf-lsp)"
    ]
    in_div = await editor.actions(uri, 12, 0)
    assert [a.title for a in in_div] == [
        "Add a docstring (hf-lsp)", "Explain this function (hf-lsp)"
    ]
    on_plain_code = await editor.actions(uri, 0, 0)
    assert on_plain_code == []

    problem = types.Diagnostic(
        range=types.Range(start=types.Position(line=13, character=11),
                          end=types.Position(line=13, character=16)),
        message="Possible division by zero", source="pyright",
    )
    selected = await editor.actions(uri, 12, 0, end=(14, 0), diagnostics=[problem])
    assert [a.title for a in selected] == [
        "Add a docstring (hf-lsp)",
        "Fix: Possible division by zero (hf-lsp)",
        "Rewrite the selection… (hf-lsp)",
        "Explain the selection (hf-lsp)",
        "Add type hints (hf-lsp)",
    ]
    fix = titled(selected, "Fix:")
    assert fix.kind == types.CodeActionKind.QuickFix
    assert list(fix.diagnostics or []) == [problem]
    assert command_argument(fix)["diagnostic"]["message"] == "Possible division by zero"
    assert command_argument(titled(selected, "Add type hints"))["index"] == 0

    only_fixes = await editor.actions(uri, 12, 0, end=(14, 0), diagnostics=[problem],
                                      only=["quickfix"])
    assert [a.title for a in only_fixes] == ["Fix: Possible division by zero (hf-lsp)"]
    assert hf.generation_requests() == []  # listing asks no model


async def test_generate_from_comment_inserts_below_it_with_progress(
    start: Starter, hf: FakeInferenceServer
) -> None:
    answer(hf, "def area(r):\n    return math.pi * r * r\n\n\nx = 1\n")
    editor, uri = await editor_for(start, hf)
    action = titled(await editor.actions(uri, 3, 2), "Generate")
    result = await editor.run(action)

    assert result["status"] == "applied"
    assert editor.texts[uri] == SOURCE.replace(
        "# return the area of a circle of radius r\n",
        "# return the area of a circle of radius r\n"
        "def area(r):\n    return math.pi * r * r\n",
    )
    (sent,) = hf.generation_requests()
    prompt = sent.body["inputs"]
    assert prompt.startswith("<fim_prefix>import math\n\n\n# return the area")
    assert prompt.endswith("radius r\n<fim_suffix>\nx = 1\n\n\ndef mul(a, b):\n"
                           '    """Multiply two numbers."""\n    pass\n\n\ndef div(a, b):\n'
                           "    return a / b\n<fim_middle>")
    assert sent.body["parameters"]["max_new_tokens"] == 250  # 512 wanted, in pieces of 250
    (label,) = [p.label for p in editor.applied]
    assert label == "hf-lsp: Generate code from this comment"
    assert progress_kinds(editor.client) == [["begin", "report", "end"]]
    (values,) = [v for k, v in editor.client.progress_reports.items()
                 if str(k).startswith("hf-lsp/action/")]
    assert values[0].cancellable is True and values[0].title.startswith("hf-lsp: Generate")
    assert "characters" in (values[1].message or "")


async def test_generate_indents_to_the_comment(start: Starter, hf: FakeInferenceServer) -> None:
    source = "class Shape:\n    # return twice the size\n\n    size = 1\n"
    answer(hf, "def double(self):\n        return 2 * self.size\n\nx = 3\n")
    editor, uri = await editor_for(start, hf, source)
    await editor.run(titled(await editor.actions(uri, 1, 6), "Generate"))
    assert editor.texts[uri] == (
        "class Shape:\n    # return twice the size\n"
        "    def double(self):\n        return 2 * self.size\n\n    size = 1\n"
    )


async def test_implement_replaces_the_stub_body(start: Starter, hf: FakeInferenceServer) -> None:
    answer(hf, "return a * b\n\n\ndef div(a, b):\n    return a / b\n")
    editor, uri = await editor_for(start, hf)
    result = await editor.run(titled(await editor.actions(uri, 7, 4), "Implement"))
    assert result["status"] == "applied"
    assert editor.texts[uri] == SOURCE.replace("    pass\n", "    return a * b\n")
    prompt = hf.generation_requests()[0].body["inputs"]
    assert prompt.endswith('"""Multiply two numbers."""\n    <fim_suffix>\n\n\ndef div(a, b):\n'
                           "    return a / b\n<fim_middle>")


async def test_implement_a_rust_function_with_braces_on_one_line(
    start: Starter, hf: FakeInferenceServer
) -> None:
    source = "fn sub(a: i32, b: i32) -> i32 {}\n\nfn main() {}\n"
    answer(hf, "a - b\n}\n\nfn main() {}\n")
    client = await start(settings(hf))
    editor = Editor(client)
    uri = editor.open(source, "file:///work/lib.rs", "rust")
    await editor.run(titled(await editor.actions(uri, 0, 3), "Implement"))
    assert editor.texts[uri] == "fn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n\nfn main() {}\n"


async def test_typescript_arrow_stub_is_implemented_and_test_callbacks_are_left_alone(
    start: Starter, hf: FakeInferenceServer
) -> None:
    source = (
        "export const load = async (url: string): Promise<string> => {\n"
        '  throw new Error("not implemented");\n'
        "};\n"
        "\n"
        'describe("load", () => {\n'
        '  it("reads the file", () => {\n'
        "  });\n"
        "});\n"
    )
    answer(hf, "return await read(url);\n};\n\ndescribe(")
    client = await start(settings(hf))
    editor = Editor(client)
    uri = editor.open(source, "file:///work/load.ts", "typescript")
    assert await editor.actions(uri, 5, 4) == []  # an `it` callback is no function to write
    in_stub = await editor.actions(uri, 1, 2)
    assert [a.title for a in in_stub] == [
        "Implement this function (hf-lsp)", "Add a doc comment (hf-lsp)",
        "Explain this function (hf-lsp)",
    ]
    await editor.run(titled(in_stub, "Implement"))
    assert editor.texts[uri] == source.replace('throw new Error("not implemented");',
                                               "return await read(url);")


async def test_add_a_docstring(start: Starter, hf: FakeInferenceServer) -> None:
    answer(hf, 'Divide a by b.\n\n    Raises ZeroDivisionError when b is 0.\n    """\n    return')
    editor, uri = await editor_for(start, hf)
    await editor.run(titled(await editor.actions(uri, 13, 4), "Add a docstring"))
    assert editor.texts[uri] == SOURCE.replace(
        "def div(a, b):\n",
        'def div(a, b):\n    """Divide a by b.\n\n    Raises ZeroDivisionError when b is 0.\n'
        '    """\n',
    )
    params = hf.generation_requests()[0].body["parameters"]
    assert params["max_new_tokens"] == 160
    assert '"""' in params["stop"]


async def test_fix_a_diagnostic_edits_its_lines(start: Starter, hf: FakeInferenceServer) -> None:
    answer(hf, "return a / b if b else math.inf\n\n\nprint(div(1, 2))\n")
    editor, uri = await editor_for(start, hf)
    problem = types.Diagnostic(
        range=types.Range(start=types.Position(line=13, character=11),
                          end=types.Position(line=13, character=16)),
        message="Possible division by zero",
    )
    action = titled(await editor.actions(uri, 13, 12, diagnostics=[problem]), "Fix:")
    await editor.run(action)
    assert editor.texts[uri] == SOURCE.replace("return a / b", "return a / b if b else math.inf")
    prompt = hf.generation_requests()[0].body["inputs"]
    assert "    # Fixed: Possible division by zero\n    <fim_suffix>" in prompt


async def test_rewrite_needs_an_instruction(start: Starter, hf: FakeInferenceServer) -> None:
    editor, uri = await editor_for(start, hf)
    action = titled(await editor.actions(uri, 12, 0, end=(14, 0)), "Rewrite")
    result = await editor.run(action)
    assert result["status"] == "not-applicable"
    (message,) = shown(editor.client, "Rewrite needs an instruction")
    assert "hfLsp.runAction" in message
    assert hf.generation_requests() == []

    answer(hf, "def div(a: float, b: float) -> float:\n    return a / b\n")
    result = await editor.run(action, instruction="add type hints")
    assert result["status"] == "applied"
    assert editor.texts[uri] == SOURCE.replace(
        "def div(a, b):\n", "def div(a: float, b: float) -> float:\n"
    )
    assert "# add type hints:\n<fim_suffix>" in hf.generation_requests()[0].body["inputs"]


async def test_explain_shows_a_short_answer_as_a_message_and_caches_it(
    start: Starter, hf: FakeInferenceServer
) -> None:
    answer(hf, "it divides a by b.\n# It fails when b is 0.\nprint(1)\n")
    editor, uri = await editor_for(start, hf)
    action = titled(await editor.actions(uri, 12, 0, end=(14, 0)), "Explain")
    for _ in range(2):
        result = await editor.run(action)
        assert result["status"] == "shown" and result["as"] == "message"
    assert shown(editor.client, "divides") == [
        "hf-lsp: it divides a by b.\nIt fails when b is 0."
    ] * 2
    assert len(hf.generation_requests()) == 1  # the second answer came from the cache
    assert editor.applied == [] and editor.texts[uri] == SOURCE


async def test_explain_opens_a_long_answer_as_a_document(
    start: Starter, hf: FakeInferenceServer, tmp_path: Path
) -> None:
    long = " ".join(["It divides a by b and returns the quotient."] * 12)
    answer(hf, long + "\nprint(1)\n")
    editor, uri = await editor_for(start, hf)
    result = await editor.run(titled(await editor.actions(uri, 12, 0, end=(14, 0)),
                                     "Explain"))
    assert result["as"] == "document"
    (params,) = editor.client.shown_documents
    assert params.uri == result["uri"] and params.take_focus is True
    path = Path(params.uri.removeprefix("file://"))
    assert path.is_relative_to(tmp_path)  # under the server's own (private) cache folder
    text = path.read_text()
    assert text.startswith("# Explain the code: demo.py, lines 13–14\n\n" + long)
    assert "```python\ndef div(a, b):\n    return a / b\n```" in text


async def test_cancel_from_the_progress_closes_the_backend_request(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.delay(10))
    editor, uri = await editor_for(start, hf)
    _, future = editor.send(command_argument(titled(await editor.actions(uri, 7, 4),
                                                    "Implement")))
    await wait_for(lambda: progress_kinds(editor.client) == [["begin"]] and hf.active)
    (token,) = [t for t in editor.client.progress_reports if str(t).startswith("hf-lsp/")]
    editor.client.window_work_done_progress_cancel(
        types.WorkDoneProgressCancelParams(token=token)
    )
    result = await future
    assert result == {"status": "cancelled"}
    await wait_for(lambda: hf.closed_early == 1)
    assert progress_kinds(editor.client) == [["begin", "end"]]
    assert editor.applied == [] and editor.texts[uri] == SOURCE


async def test_cancel_request_on_the_command_closes_the_backend_request(
    start: Starter, hf: FakeInferenceServer
) -> None:
    from pygls.exceptions import JsonRpcRequestCancelled

    hf.fault(MODEL, Fault.delay(10))
    editor, uri = await editor_for(start, hf)
    msg_id, future = editor.send(command_argument(titled(await editor.actions(uri, 7, 4),
                                                         "Implement")))
    await wait_for(lambda: hf.active)
    editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    with pytest.raises(JsonRpcRequestCancelled):
        await future
    await wait_for(lambda: hf.closed_early == 1)
    await wait_for(lambda: progress_kinds(editor.client) == [["begin", "end"]])
    assert editor.applied == [] and editor.texts[uri] == SOURCE


async def implement_while_editing(start: Starter, hf: FakeInferenceServer, typed: str
                                  ) -> tuple[Editor, str, Any]:
    """Run "Implement" on SOURCE's stub; while the model writes, the text becomes ``typed``."""
    hf.fault(MODEL, Fault.delay(0.6))
    answer(hf, "return a * b\n")
    editor, uri = await editor_for(start, hf)
    _, future = editor.send(command_argument(titled(await editor.actions(uri, 7, 4),
                                                    "Implement")))
    await wait_for(lambda: hf.active)
    editor.change(uri, typed)
    return editor, uri, await future


async def test_an_edit_elsewhere_during_generation_moves_the_result(
    start: Starter, hf: FakeInferenceServer
) -> None:
    typed = SOURCE.replace("import math\n", "import math\nimport os\nimport sys\n") + "y = 2\n"
    editor, uri, result = await implement_while_editing(start, hf, typed)
    assert result["status"] == "applied" and result["line"] == 11
    assert editor.texts[uri] == typed.replace("    pass\n", "    return a * b\n")


async def test_an_edit_in_the_target_during_generation_is_not_overwritten(
    start: Starter, hf: FakeInferenceServer
) -> None:
    typed = SOURCE.replace("    pass\n", "    return b * a\n")
    editor, uri, result = await implement_while_editing(start, hf, typed)
    assert result == {"status": "not-applied", "reason": "changed", "mode": "fim",
                      "fromCache": False, "answers": 1}
    assert editor.applied == [] and editor.texts[uri] == typed
    (message,) = shown(editor.client, "not applied")
    assert message == ("hf-lsp: Implement this function: not applied, lines 8–10 changed while "
                       "the model was writing")


async def test_a_long_generation_continues_past_250_tokens(
    start: Starter, hf: FakeInferenceServer
) -> None:
    body = "".join(f"    total += {i}\n" for i in range(150))  # 450 tokens
    hf.models[MODEL] = FakeModel(body.lstrip() + "    return total\n\n\nx = 1\n")
    source = "def total_it():\n    ...\n\n\nx = 1\n"
    editor, uri = await editor_for(
        start, hf, source, actions={"implement": {"maxNewTokens": 1000}}
    )
    result = await editor.run(titled(await editor.actions(uri, 0, 4), "Implement"))
    assert result["status"] == "applied"
    assert editor.texts[uri] == "def total_it():\n" + body + "    return total\n\n\nx = 1\n"
    sent = hf.generation_requests()
    # the second answer goes back to the top level (`x = 1`): the function is whole, and no
    # third request is made
    assert [r.body["parameters"]["max_new_tokens"] for r in sent] == [250, 250]
    first = sent[0].body["inputs"]
    assert first.endswith("<fim_middle>")
    so_far = sent[1].body["inputs"].removeprefix(first)  # the prompt plus the text so far
    assert len(tokenize(so_far)) == 250 and (body.lstrip() + "    return").startswith(so_far)
    (values,) = [v for k, v in editor.client.progress_reports.items()
                 if str(k).startswith("hf-lsp/action/")]
    assert [v.kind for v in values] == ["begin", "report", "report", "end"]
    assert values[1].message == f"{len(so_far)} characters (~250 tokens) so far"


async def test_alternatives_are_offered_to_choose_from(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.status(200, [{"generated_text": "return a * b\n"},
                                       {"generated_text": "return b * a\n"}]))
    editor, uri = await editor_for(start, hf, parameters={"num_return_sequences": 2})
    editor.pick = 1
    result = await editor.run(titled(await editor.actions(uri, 7, 4), "Implement"))
    assert result["answers"] == 2
    (request,) = editor.requests
    assert [a.title for a in request.actions or []] == [
        "1: return a * b (1 line)", "2: return b * a (1 line)"
    ]
    assert editor.texts[uri] == SOURCE.replace("    pass\n", "    return b * a\n")
    assert hf.generation_requests()[0].body["parameters"]["num_return_sequences"] == 2


async def test_neovim_gets_a_plain_changes_edit(start: Starter, hf: FakeInferenceServer) -> None:
    answer(hf, "return a * b\n")
    editor, uri = await editor_for(start, hf, profile="neovim")
    await editor.run(titled(await editor.actions(uri, 7, 4), "Implement"))
    (params,) = editor.applied
    assert params.edit.document_changes is None and params.edit.changes is not None
    assert editor.texts[uri] == SOURCE.replace("    pass\n", "    return a * b\n")


async def test_a_backend_error_leaves_the_document_alone(
    start: Starter, hf: FakeInferenceServer
) -> None:
    hf.fault(MODEL, Fault.status(500, {"error": "boom"}))
    editor, uri = await editor_for(start, hf)
    result = await editor.run(titled(await editor.actions(uri, 7, 4), "Implement"))
    assert result["status"] == "error"
    assert shown(editor.client, "Implement this function failed")
    assert editor.applied == [] and editor.texts[uri] == SOURCE
    assert TOKEN not in " ".join(m.message for m in editor.client.log_messages)


async def test_the_same_action_again_is_answered_from_the_cache(
    start: Starter, hf: FakeInferenceServer
) -> None:
    answer(hf, "return a * b\n")
    editor, uri = await editor_for(start, hf)
    action = titled(await editor.actions(uri, 7, 4), "Implement")
    first = await editor.run(action)
    editor.change(uri, SOURCE)  # the user undoes it
    second = await editor.run(action)
    assert (first["fromCache"], second["fromCache"]) == (False, True)
    assert len(hf.generation_requests()) == 1
    assert editor.texts[uri] == SOURCE.replace("    pass\n", "    return a * b\n")
    status = await editor.client.protocol.send_request_async("hfLsp/status", {})
    assert status.backendCalls == 1
