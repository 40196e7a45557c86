"""tests/support/serve_fake_hf.py, which the VS Code editor test runs: URL, token, record, exit."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

LAUNCHER = Path(__file__).resolve().parents[1] / "support" / "serve_fake_hf.py"
TOKEN = "hf_launcherTestToken0123456789abcd"


def _post(url: str, token: str | None) -> tuple[int, Any]:
    body = json.dumps({"inputs": "def f():", "parameters": {"max_new_tokens": 4}}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_launcher_serves_on_loopback_and_stops_when_stdin_closes(tmp_path: Path) -> None:
    record = tmp_path / "requests.json"
    args = [sys.executable, str(LAUNCHER), "--completion", "    return 1\n", "--token", TOKEN]
    proc = subprocess.Popen(
        [*args, "--record", str(record), "--lifetime", "60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        info = json.loads(proc.stdout.readline())
        assert info["url"].startswith("http://127.0.0.1:")
        url = info["url"]
        assert url.endswith(f"/models/{info['model']}")  # the serverless API's own URL
        assert _post(url, None)[0] == 401
        status, answer = _post(url, TOKEN)
        assert status == 200
        assert answer[0]["generated_text"] == "def f():    return 1\n"  # echoes the prompt
        proc.stdin.close()  # the test that started it is gone: it stops by itself
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen = json.loads(record.read_text())
    outcomes = [(r["authorized"], r["hadAuthorization"]) for r in seen]
    assert outcomes == [(False, False), (True, True)]
    assert TOKEN not in record.read_text()


def test_launcher_stops_after_its_lifetime() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--completion", "x", "--lifetime", "0.5"],
        stdin=subprocess.PIPE,  # kept open: only the lifetime can stop it
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["url"].startswith("http://127.0.0.1:")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
