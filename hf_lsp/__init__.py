"""hf-lsp: code generation from Hugging Face models in any LSP editor."""

__version__ = "0.1.0"
