"""Serve the fake Inference API (``hf_server.py``) on 127.0.0.1 for editor tests.

Prints one JSON line, ``{"url": ..., "model": ...}``, then serves until its stdin closes, it
gets SIGTERM/SIGINT, or ``--lifetime`` seconds pass, so it never outlives the test that
started it. ``--record FILE`` writes the generation requests it saw as JSON on exit, with
whether each carried the expected token but never the token itself.

    python tests/support/serve_fake_hf.py --completion 'return a + b' --token hf_xxx \
        --record req.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hf_server import FakeInferenceServer, FakeModel  # noqa: E402

DEFAULT_MODEL = "bigcode/starcoder2-15b"


def _summary(server: FakeInferenceServer) -> list[dict[str, Any]]:
    out = []
    for request in server.generation_requests():
        body = request.body if isinstance(request.body, dict) else {}
        auth = request.headers.get("authorization")
        out.append(
            {
                "path": request.path,
                "model": request.model,
                "authorized": server.token is None or auth == f"Bearer {server.token}",
                "hadAuthorization": auth is not None,
                "parameters": body.get("parameters"),
                "options": body.get("options"),
                "inputs": body.get("inputs"),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the model id it knows")
    parser.add_argument("--completion", required=True, help="what the model generates")
    parser.add_argument("--token", help="the only bearer token it accepts (default: any)")
    parser.add_argument("--lifetime", type=float, default=900.0, help="seconds before it stops")
    parser.add_argument("--record", type=Path, help="write the requests seen here on exit")
    args = parser.parse_args(argv)

    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())

    def watch_stdin() -> None:
        while os.read(0, 4096):  # unbuffered: no lock left held at interpreter exit
            pass
        done.set()

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    server = FakeInferenceServer({args.model: FakeModel(args.completion)}, token=args.token)
    with server:
        print(json.dumps({"url": server.url_for(args.model), "model": args.model}), flush=True)
        done.wait(args.lifetime)
        if args.record is not None:
            args.record.write_text(json.dumps(_summary(server), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
