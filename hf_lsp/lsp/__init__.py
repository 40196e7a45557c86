"""The language server: the only package that imports pygls and lsprotocol.

- ``server``: create_server: HfLanguageServer, its protocol subclass, stdio and TCP
- ``framing``: frame reading that finds the next frame after a broken one
- ``features``: one module per LSP feature (lifecycle, documents, completion, ...)
"""

from __future__ import annotations

__all__ = ["server", "framing", "features"]
