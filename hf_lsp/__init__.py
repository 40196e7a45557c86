"""hf-lsp: code generation from Hugging Face models in any LSP editor."""

from __future__ import annotations

import sys
from typing import Any

__version__ = "0.1.0"


class _NoHttpxCommandLine:  # a meta path finder (importlib.abc would cost ~10 ms of imports)
    """Keep httpx from importing its command-line client at start-up.

    httpx imports ``httpx._main`` (click, pygments, rich) whenever click happens to be
    installed, and ``tokenizers`` brings click in through ``huggingface_hub``: about 100 ms
    of start-up for a command line hf-lsp never runs. httpx falls back to a stub ``main``.
    """

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "httpx._main":
            raise ImportError("hf-lsp does not use httpx's command line")
        return None


if "httpx" not in sys.modules and not any(
    isinstance(finder, _NoHttpxCommandLine) for finder in sys.meta_path
):
    sys.meta_path.insert(0, _NoHttpxCommandLine())
