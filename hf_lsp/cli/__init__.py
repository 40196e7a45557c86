"""The ``hf-lsp`` command: ``serve`` (default), ``complete``, ``check``, ``models``."""
