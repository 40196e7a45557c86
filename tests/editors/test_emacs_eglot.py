"""Emacs + Eglot as Debian ships them, in batch Emacs, against the real hf-lsp.

Each test runs ``emacs --batch -Q -l tests/editors/eglot_driver.el``: the driver loads
editors/emacs/hf-lsp-eglot.el as a user's init file would (plus the loopback ``url``), visits
a file, runs M-x eglot, then M-x completion-at-point or M-x eglot-code-actions, answering the
questions Eglot asks as a user would, and writes the buffer text and the prompts as JSON.
hf-lsp is the ``hf-lsp`` console script of the environment running the tests, found on PATH.
On Debian and Ubuntu Emacs is required (scripts/test.sh installs emacs-nox and elpa-eglot);
elsewhere these tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TOKEN, clean_env
from hf_server import FakeInferenceServer, FakeModel

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "editors" / "emacs" / "hf-lsp-eglot.el"
DRIVER = Path(__file__).resolve().parent / "eglot_driver.el"

COMMENTED = "import math\n\n\n# return the area of a circle of radius r\nx = 1\n"
AREA = "def area(r):\n    return math.pi * r * r\n"


def emacs_binary() -> str:
    found = shutil.which("emacs")
    if found is None:
        if Path("/etc/debian_version").exists():
            pytest.fail("no emacs on PATH: scripts/test.sh installs emacs-nox and elpa-eglot")
        pytest.skip("Emacs + Eglot are tested on Debian-like systems (apt-get install "
                    "emacs-nox elpa-eglot)")
    return found


def hf_lsp_bindir(tmp_path: Path) -> Path:
    """A directory for PATH holding only ``hf-lsp``: the installed console script."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = Path(sys.executable).parent / "hf-lsp"
    assert script.is_file(), f"hf-lsp is not installed beside {sys.executable}"
    (bindir / "hf-lsp").symlink_to(script)
    return bindir


MODEL = "Qwen/Qwen2.5-Coder-7B"  # the model editors/emacs/hf-lsp-eglot.el names


def run_emacs(tmp_path: Path, url: str, scenario: str, name: str, text: str,
              **env: str) -> dict[str, Any]:
    """One batch Emacs run of the driver's ``scenario`` on the file ``name``; its JSON result."""
    emacs = emacs_binary()
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / name).write_text(text)
    home = tmp_path / "home"
    token_file = home / ".cache" / "huggingface" / "token"  # where `hf auth login` writes it
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(TOKEN)
    result = tmp_path / f"{scenario}.json"
    environment = clean_env(home, **env)
    environment["PATH"] = f"{hf_lsp_bindir(tmp_path)}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(
        HF_LSP_EGLOT_CONFIG=str(CONFIG), HF_LSP_TEST_URL=url, HF_LSP_TEST_SCENARIO=scenario,
        HF_LSP_TEST_FILE=str(project / name), HF_LSP_TEST_RESULT=str(result),
    )
    proc = subprocess.run(
        [emacs, "--batch", "-Q", "-l", str(DRIVER)], cwd=project, env=environment,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    if not result.exists():
        raise AssertionError(f"emacs exited {proc.returncode} without a result:\n{proc.stderr}")
    answer: dict[str, Any] = json.loads(result.read_text())
    assert proc.returncode == 0 and answer["status"] == "ok", (
        f"{answer.get('error')}\n--- messages\n{answer['messages']}\n"
        f"--- Eglot's events\n{answer['events']}\n--- stderr\n{proc.stderr}"
    )
    # the token went to the server, never into anything Emacs shows or logs
    assert TOKEN not in answer["messages"] + answer["events"] + proc.stderr + proc.stdout
    return answer


@pytest.fixture
def hf() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer({MODEL: FakeModel("")}, token=TOKEN) as server:
        yield server


@pytest.mark.parametrize(
    ("source", "generated"),
    [
        # `$` and `}` are what a snippet escapes: Eglot without yasnippet inserts text as it is
        pytest.param("def add(a, b):\n    ", 'return f"${a}" + b\n', id="blank-line"),
        # the word typed so far is part of the item; Eglot replaces it with the whole
        pytest.param("def add(a, b):\n    ret", 'urn f"${a}" + b\n', id="mid-word"),
    ],
)
def test_completion_at_point_inserts_the_suggestion(
    tmp_path: Path, hf: FakeInferenceServer, source: str, generated: str
) -> None:
    hf.models[MODEL].completion = generated
    answer = run_emacs(tmp_path, hf.api_url, "completion", "demo.py", source)
    assert answer["text"] == 'def add(a, b):\n    return f"${a}" + b'
    assert answer["point"] == len(answer["text"]) + 1  # after the inserted text
    (request,) = hf.generation_requests()
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert source + "<|fim_suffix|>" in request.body["inputs"]  # Qwen2.5-Coder's FIM tokens


def test_code_action_writes_code_once_the_edit_is_confirmed(
    tmp_path: Path, hf: FakeInferenceServer
) -> None:
    hf.models[MODEL].completion = AREA + "\n\nx = 1\n"
    answer = run_emacs(tmp_path, hf.api_url, "action", "area.py", COMMENTED)
    assert answer["text"] == COMMENTED.replace("radius r\n", "radius r\n" + AREA)
    (pick, confirm) = answer["prompts"]
    assert pick[0].startswith("[eglot] Pick an action")
    assert answer["chosen"] == "Generate code from this comment (hf-lsp)"
    assert answer["chosen"] in pick[1]
    assert "Server wants to edit" in confirm[0] and "area.py" in confirm[0]
    assert len(hf.generation_requests()) == 1
