"""What ``--show-request`` prints: one HTTP exchange, with the token hidden."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hf_lsp.redact import MASK, redact


def show_exchange(
    url: str, body: Mapping[str, Any], status: int, raw: str, token: bool = True
) -> None:
    """Print one HTTP exchange, token hidden."""
    print(f"# request\nPOST {url}")
    if token:
        print(f"Authorization: Bearer {MASK}")
    print(redact(json.dumps(body, indent=2, ensure_ascii=False)))
    print(f"# response {status}\n{redact(raw)}")
