"""Allow ``python -m hf_lsp``: the same as the ``hf-lsp`` command."""

from hf_lsp.cli.main import main

raise SystemExit(main())
