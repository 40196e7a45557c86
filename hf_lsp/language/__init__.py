"""What hf-lsp knows of source text: documents, syntax, context, token counts, post-processing.

- ``languages``: the one table of languages: extensions, comment markers, openers, closer lines
- ``document``: open documents as lines, positions in UTF-16, UTF-8 or UTF-32 units
- ``context``: the windows around the cursor and what kind of spot it is
- ``crossfile``: snippets of other open documents and recent edits, ranked by similarity
- ``syntax``: what the tree-sitter syntax tree says about the cursor and a completion
- ``functions``: the function around a line, for the code actions
- ``token_count``: counting tokens and fitting the prompt into the context window
- ``postprocess``: a backend's raw text made into the completion to show
- ``reanchor``: where an edit planned on an older text goes in the current one
"""

from __future__ import annotations

__all__ = [
    "languages",
    "document",
    "context",
    "crossfile",
    "syntax",
    "functions",
    "token_count",
    "postprocess",
    "reanchor",
]
