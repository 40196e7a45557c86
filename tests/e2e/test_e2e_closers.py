"""End to end: at closing brackets, the real server neither doubles a closer nor stops short.

The loopback model answers with the true block and runs on, as a model that does not stop
writes the code after the cursor again; the item hf-lsp sends is what the editor inserts.
"""

from __future__ import annotations

import pytest
from conftest import MODEL, TOKEN, Starter, inline, open_doc
from hf_server import FakeInferenceServer, FakeModel


def inserted(document: str, line: int, character: int, text: str) -> str:
    lines = document.split("\n")
    lines[line] = lines[line][:character] + text + lines[line][character:]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("language", "document", "answer", "expected"),
    [
        pytest.param(
            # the editor auto-closed the braces: the `} else {` after the cursor is the
            # document's own, and the model writing it again must not leave a second `}`
            "javascript",
            "function f(a) {\n  if (a) {\n    \n  } else {\n    a--;\n  }\n}\n",
            "a++;\n  } else {\n    a--;\n  }\n}\n",
            "a++;",
            id="js-closer-already-in-document",
        ),
        pytest.param(
            # typed without auto-closing: the block goes on past its `}`
            "javascript",
            "function f(a) {\n  if (a) {\n    \n  return a;\n}\n",
            "a++;\n  } else {\n    a--;\n  }\n  return a;\n}\n",
            "a++;\n  } else {\n    a--;\n  }",
            id="js-block-goes-on-at-else",
        ),
        pytest.param(
            "go",
            "func f() {\n\tfor {\n\t\t\n\t}\n}\n\nfunc g() {}\n",
            "step()\n\t}\n}\n\nfunc g() {}\n",
            "step()",
            id="go-closers-already-in-document",
        ),
    ],
)
async def test_completion_at_closing_brackets(
    start: Starter, hf: FakeInferenceServer, language: str, document: str, answer: str,
    expected: str,
) -> None:
    hf.models[MODEL] = FakeModel(answer)
    client = await start({"url": hf.api_url, "apiToken": TOKEN})
    name = {"javascript": "demo.js", "go": "demo.go"}[language]
    uri = open_doc(client, document, uri=f"file:///work/{name}", language=language)
    column = len(document.split("\n")[2])  # the indented empty line inside the block
    items = await inline(client, uri, 2, column)

    assert [i.insert_text for i in items] == [expected]
    result = inserted(document, 2, column, items[0].insert_text)
    assert result.count("}") == result.count("{")  # no doubled closer, none missing
