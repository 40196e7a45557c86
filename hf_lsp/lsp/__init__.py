"""The language server: pygls server, framing, and one module per LSP feature in ``features/``."""
