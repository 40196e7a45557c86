"""What hf-lsp knows of source text: documents, syntax, context, token counts, post-processing."""
