"""The ``hf-lsp`` command: ``serve`` (default), ``complete``, ``check``, ``models``.

- ``main``: argument parsing, serving LSP on stdio or TCP, one completion from the shell
- ``check``: hf-lsp check: one tiny request and what to do if it fails
- ``models``: hf-lsp models: the code models Inference Providers serve, as a table or JSON
- ``exchange``: what --show-request prints: one HTTP exchange, token hidden
"""

from __future__ import annotations

__all__ = ["main", "check", "models", "exchange"]
